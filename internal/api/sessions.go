package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/httpsig"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// SessionView describes a signed-request session.
type SessionView struct {
	ID        string     `json:"id"`
	ClientID  string     `json:"client_id"`
	KeyID     string     `json:"key_id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func sessionView(s *store.AccessSession) SessionView {
	return SessionView{ID: s.ID, ClientID: s.ClientID, KeyID: s.KeyID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, RevokedAt: timePtr(s.RevokedAt)}
}

// openSession starts a session for a request signed with a registered key. The route
// is public in the table because only a signature, not a bearer credential, opens it.
func (s *Server) openSession(w http.ResponseWriter, r *http.Request, _ *tenant.Principal) error {
	if s.OAuth == nil || !httpsig.Signed(r.Header) {
		return s.authFailed(r, "signature", "missing", problem(401, "Unauthorized", "sign this request (RFC 9421) with a key registered on an OAuth client"))
	}
	v, err := s.verifySigned(r)
	if err != nil {
		return err
	}
	if rec, _ := r.Context().Value(auditKey{}).(*auditRecord); rec != nil {
		rec.principal = v.Principal
	}
	sess, err := s.OAuth.OpenSession(r.Context(), v)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/sessions/"+sess.ID)
	writeJSON(w, http.StatusCreated, sessionView(sess))
	return nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	ss, err := s.OAuth.Sessions(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := []SessionView{}
	for _, x := range ss {
		out = append(out, sessionView(x))
	}
	writeJSON(w, 200, map[string]any{"sessions": out})
	return nil
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.OAuth.RevokeSession(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) revokeClientSessions(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	n, err := s.OAuth.RevokeClientSessions(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"revoked": n})
	return nil
}

func (s *Server) addSignatureKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	// The owner is checked before the body is read: another tenant learns nothing.
	if c, err := s.DB.OAuthClient(r.Context(), r.PathValue("id")); err != nil || c.TenantID != p.TenantID {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return errNotFound
		}
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Alg       string `json:"alg"`
		PublicKey string `json:"public_key"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var pub []byte
	if req.PublicKey != "" {
		if pub, err = base64.StdEncoding.DecodeString(req.PublicKey); err != nil {
			return badField("public_key", "must be base64")
		}
	}
	k, secret, err := s.OAuth.AddSignatureKey(r.Context(), p.TenantID, r.PathValue("id"), req.Alg, pub)
	var inv *tenant.InvalidError
	if errors.As(err, &inv) {
		return invalidField(inv)
	}
	if err != nil {
		return err
	}
	out := map[string]any{"keyid": k.ID, "alg": k.Alg, "client_id": k.ClientID, "created_at": k.CreatedAt}
	if secret != "" {
		out["secret"] = secret
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}
