package api

import (
	"bytes"
	"net/http"

	"github.com/sealpost/sealpost/internal/mailcheck/domaincheck"
	"github.com/sealpost/sealpost/internal/mailcheck/received"
	"github.com/sealpost/sealpost/internal/tenant"
)

// analyzeHeaders takes a raw message (or only its header section) as the request body
// and reports whether each hop of its Received chain was encrypted.
func (s *Server) analyzeHeaders(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badField("(body)", "send the raw message or its headers as the request body")
	}
	rep, err := received.Analyze(bytes.NewReader(body))
	if err != nil {
		return problem(422, "Cannot analyse", err.Error())
	}
	writeJSON(w, 200, rep)
	return nil
}

// checkDomain checks one of the tenant's domains: MX, SPF, DKIM (against the keys we
// sign with), DMARC, MTA-STS, TLS-RPT and each MX's STARTTLS.
func (s *Server) checkDomain(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	d, err := s.loadDomain(r, p)
	if err != nil {
		return err
	}
	keys, err := s.DB.DKIMKeys(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	var expect []domaincheck.DKIMExpect
	for _, k := range keys {
		if k.Domain == d.Name && k.Active {
			expect = append(expect, domaincheck.DKIMExpect{Selector: k.Selector, DNSValue: k.DNSValue})
		}
	}
	cfg := domaincheck.Config{DKIM: expect}
	if s.DomainChecks != nil {
		cfg = s.DomainChecks(d.Name, expect)
	}
	checks := domaincheck.Run(r.Context(), d.Name, cfg)
	overall := "pass"
	for _, c := range checks {
		if c.Status == domaincheck.Fail {
			overall = "fail"
			break
		}
		if c.Status == domaincheck.Warn {
			overall = "warn"
		}
	}
	writeJSON(w, 200, map[string]any{"domain": d.Name, "status": overall, "checks": checks})
	return nil
}
