package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// DomainView is a sender domain and how to verify it.
type DomainView struct {
	Name         string      `json:"name"`
	Verified     bool        `json:"verified"`
	VerifiedAt   *time.Time  `json:"verified_at,omitempty"`
	Verification DNSRecord   `json:"verification"`
	DKIM         []DNSRecord `json:"dkim,omitempty"`
}

// DNSRecord is a TXT record to publish.
type DNSRecord struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (s *Server) domainView(r *http.Request, d *store.Domain) (*DomainView, error) {
	name, value := tenant.VerifyRecord(d)
	v := &DomainView{Name: d.Name, Verified: d.Verified, Verification: DNSRecord{"TXT", name, value}}
	if d.Verified {
		t := d.VerifiedAt
		v.VerifiedAt = &t
	}
	keys, err := s.DB.DKIMKeys(r.Context(), d.TenantID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Domain == d.Name && k.Active {
			v.DKIM = append(v.DKIM, DNSRecord{"TXT", k.DNSName, k.DNSValue})
		}
	}
	return v, nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	ds, err := s.DB.Domains(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := []*DomainView{}
	for _, d := range ds {
		v, err := s.domainView(r, d)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, 200, map[string]any{"domains": out})
	return nil
}

func (s *Server) addDomain(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if _, err := tenant.NormalizeDomain(req.Name); err != nil {
		return badField("name", "not a valid domain name")
	}
	d, err := s.Tenants.AddDomain(r.Context(), p.TenantID, req.Name, false)
	if errors.As(err, new(*tenant.InvalidError)) {
		return problem(409, "Domain taken", err.Error())
	}
	if err != nil {
		return err
	}
	v, err := s.domainView(r, d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) loadDomain(r *http.Request, p *tenant.Principal) (*store.Domain, error) {
	name, err := tenant.NormalizeDomain(r.PathValue("domain"))
	if err != nil {
		return nil, errNotFound
	}
	return s.DB.Domain(r.Context(), p.TenantID, name)
}

func (s *Server) getDomain(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	d, err := s.loadDomain(r, p)
	if err != nil {
		return err
	}
	v, err := s.domainView(r, d)
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	d, err := s.loadDomain(r, p)
	if err != nil {
		return err
	}
	if err := s.Tenants.DeleteDomain(r.Context(), p.TenantID, d.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	d, err := s.loadDomain(r, p)
	if err != nil {
		return err
	}
	if err := s.Tenants.VerifyDomain(r.Context(), s.Resolver, p.TenantID, d.Name); err != nil {
		if errors.As(err, new(*tenant.InvalidError)) {
			return problem(422, "Domain not verified", err.Error())
		}
		return err
	}
	d, err = s.loadDomain(r, p)
	if err != nil {
		return err
	}
	v, err := s.domainView(r, d)
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

func (s *Server) createDKIM(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	d, err := s.loadDomain(r, p)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	req := struct {
		Selector  string `json:"selector"`
		Algorithm string `json:"algorithm"`
	}{Algorithm: "rsa"}
	if len(body) > 0 {
		if err := decodeJSON(body, &req); err != nil {
			return err
		}
	}
	k, err := s.Tenants.GenerateDKIM(r.Context(), p.TenantID, d.Name, req.Selector, req.Algorithm)
	if errors.Is(err, store.ErrConflict) {
		return badField("selector", "this selector is already used for the domain")
	}
	if errors.As(err, new(*tenant.InvalidError)) {
		return problem(422, "Cannot create DKIM key", err.Error())
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"selector": k.Selector, "algorithm": k.Algorithm, "record": DNSRecord{"TXT", k.DNSName, k.DNSValue}})
	return nil
}
