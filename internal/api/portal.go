package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// PortalJSON is what a send may ask of portal copies.
type PortalJSON struct {
	ExpiresIn  string `json:"expires_in"` // e.g. "72h"; default the account's
	Passphrase string `json:"passphrase"` // shared with the recipient out of band; default an emailed code
}

// RevokeRequest is the body of POST /v1/messages/{id}/revoke; empty revokes for all.
type RevokeRequest struct {
	Recipient string `json:"recipient"`
}

// ExpiryRequest is the body of PATCH /v1/messages/{id}/portal.
type ExpiryRequest struct {
	Recipient string     `json:"recipient"`
	ExpiresAt *time.Time `json:"expires_at"`
	ExpiresIn string     `json:"expires_in"`
}

func actor(r *http.Request, p *tenant.Principal) portal.Actor {
	return portal.Actor{Principal: "key:" + p.KeyID, Client: clientIP(r)}
}

func portalNotFound(err error, recipient string) error {
	if errors.Is(err, portal.ErrNotFound) {
		if recipient != "" {
			return problem(404, "Not found", "no such message, or it has no recipient "+recipient, FieldProblem{Field: "recipient", Detail: "not a recipient of this message"})
		}
		return problem(404, "Not found", "no such message")
	}
	return err
}

func (s *Server) listPortalCopies(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	copies, err := s.Portal.Copies(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return portalNotFound(err, "")
	}
	writeJSON(w, 200, map[string]any{"copies": copies})
	return nil
}

// ownMessage answers 404 before anything else when the message is not the caller's:
// another tenant learns nothing, not even whether its request body was well formed.
func (s *Server) ownMessage(r *http.Request, p *tenant.Principal) error {
	_, err := s.DB.Message(r.Context(), p.TenantID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return problem(404, "Not found", "no such message")
	}
	return err
}

func (s *Server) revokeMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.ownMessage(r, p); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req RevokeRequest
	if len(body) > 0 {
		if err := decodeJSON(body, &req); err != nil {
			return err
		}
	}
	out, err := s.Portal.Revoke(r.Context(), p.TenantID, r.PathValue("id"), req.Recipient, actor(r, p))
	if err != nil {
		return portalNotFound(err, req.Recipient)
	}
	writeJSON(w, 200, map[string]any{"recipients": out})
	return nil
}

func (s *Server) setPortalExpiry(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.ownMessage(r, p); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req ExpiryRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var at time.Time
	switch {
	case req.ExpiresAt != nil && req.ExpiresIn != "":
		return problem(400, "Invalid request", "give expires_at or expires_in, not both", FieldProblem{Field: "expires_in", Detail: "give expires_at or expires_in, not both"})
	case req.ExpiresAt != nil:
		at = *req.ExpiresAt
	case req.ExpiresIn != "":
		d, err := duration.Parse(req.ExpiresIn)
		if err != nil || d <= 0 {
			return problem(400, "Invalid request", "expires_in: want a positive duration such as 3d or 72h", FieldProblem{Field: "expires_in", Detail: "want a positive duration such as 3d or 72h"})
		}
		at = time.Now().Add(d)
	default:
		return problem(400, "Invalid request", "expires_at or expires_in is required", FieldProblem{Field: "expires_at", Detail: "required"})
	}
	out, err := s.Portal.SetExpiry(r.Context(), p.TenantID, r.PathValue("id"), req.Recipient, at, actor(r, p))
	var ee *portal.ExpiryError
	if errors.As(err, &ee) {
		field := "expires_at"
		if req.ExpiresIn != "" {
			field = "expires_in"
		}
		return problem(422, "Expiry not possible", field+": "+ee.Detail, FieldProblem{Field: field, Detail: ee.Detail})
	}
	if err != nil {
		return portalNotFound(err, req.Recipient)
	}
	writeJSON(w, 200, map[string]any{"copies": out})
	return nil
}

func (s *Server) getPortalSettings(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	st, err := s.Portal.Settings(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, st)
	return nil
}

func (s *Server) putPortalSettings(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var st portal.Settings
	if err := decodeJSON(body, &st); err != nil {
		return err
	}
	fe, err := s.Portal.PutSettings(r.Context(), p.TenantID, &st, nil)
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		var fp []FieldProblem
		for _, f := range fe {
			fp = append(fp, FieldProblem{Field: f.Field, Detail: f.Detail})
		}
		return problem(422, "Invalid portal settings", fe[0].Field+": "+fe[0].Detail, fp...)
	}
	writeJSON(w, 200, &st)
	return nil
}
