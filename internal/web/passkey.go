package web

import (
	"context"
	_ "embed"
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// WebAuthn needs JavaScript: one small script of ours, served from this origin and
// allowed only on the pages that use it. Every other page stays script-free.

//go:embed static/passkey.js
var passkeyScript []byte

// scriptCSP is pageCSP plus this origin's scripts and fetches, for the passkey pages.
const scriptCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (s *Server) passkeyRoutes() {
	s.mux.HandleFunc("GET /app/static/passkey.js", func(w http.ResponseWriter, r *http.Request) {
		serveStatic(w, r, "text/javascript; charset=utf-8", passkeyScript)
	})
	s.handle("POST /app/signin/passkey/options", people.StageMFA, func(q *request) error {
		return s.options(q, s.People.BeginPasskeySignIn)
	})
	s.handle("POST /app/signin/passkey", people.StageMFA, s.passkeySignIn)
	s.handle("GET /app/passkeys", people.StageFull, s.passkeysPage)
	s.handle("POST /app/passkeys/options", people.StageFull, func(q *request) error {
		return s.options(q, s.People.BeginPasskeyEnrol)
	})
	s.handle("POST /app/passkeys", people.StageFull, s.addPasskey)
	s.handle("POST /app/passkeys/{id}/remove", people.StageFull, s.removePasskey)
}

// withScript lets the page about to be rendered load passkey.js.
func withScript(q *request, v *view) *view {
	q.w.Header().Set("Content-Security-Policy", scriptCSP)
	v.Scripts = []string{"/app/static/passkey.js"}
	return v
}

// options answers the script's request for a ceremony's options (JSON).
func (s *Server) options(q *request, begin func(ctx context.Context, sess *people.Session) ([]byte, error)) error {
	b, err := begin(q.ctx, q.sess)
	if errors.Is(err, people.ErrNoPasskeys) {
		q.w.Header().Set("Content-Type", "application/json")
		q.w.WriteHeader(http.StatusConflict)
		_, err = q.w.Write([]byte(`{"error":"no passkeys"}`))
		return err
	}
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/json")
	_, err = q.w.Write(b)
	return err
}

func (s *Server) passkeySignIn(q *request) error {
	tok, err := s.People.PasskeySignIn(q.ctx, q.sess, q.r.PostFormValue("credential"), q.client())
	var locked *people.LockedError
	if errors.Is(err, people.ErrPasskey) || errors.Is(err, people.ErrNoPasskeys) || errors.As(err, &locked) {
		status := http.StatusUnauthorized
		if locked != nil {
			status = http.StatusTooManyRequests
		}
		return s.showCode(q, err.Error(), status)
	}
	if err != nil {
		return err
	}
	s.setCookie(q.w, tok, 0)
	return q.redirect(home(q.sess))
}

type passkeysData struct {
	Passkeys []*store.Passkey
	Enabled  bool
	Name     string
}

func (s *Server) passkeysPage(q *request) error { return s.showPasskeys(q, "", "", "", http.StatusOK) }

func (s *Server) showPasskeys(q *request, notice, problem, name string, status int) error {
	ks, err := s.People.Passkeys(q.ctx, q.sess)
	if err != nil {
		return err
	}
	v := q.view(s, "Your passkeys")
	v.Data, v.Notice, v.Error = passkeysData{Passkeys: ks, Enabled: s.People.PasskeysEnabled(), Name: name}, notice, problem
	if s.People.PasskeysEnabled() {
		v = withScript(q, v)
	}
	return s.pages.render(q.w, status, "passkeys", v)
}

func (s *Server) addPasskey(q *request) error {
	name := q.r.PostFormValue("name")
	pk, err := s.People.FinishPasskeyEnrol(q.ctx, q.sess, name, q.r.PostFormValue("credential"), q.client())
	var inv *people.InvalidError
	if errors.As(err, &inv) {
		return s.showPasskeys(q, "", inv.Msg, name, http.StatusUnprocessableEntity)
	}
	if errors.Is(err, people.ErrPasskey) || errors.Is(err, people.ErrNoPasskeys) {
		return s.showPasskeys(q, "", "The passkey was not added: your browser's answer did not verify. Try again.", name, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return s.showPasskeys(q, "Passkey \""+pk.Name+"\" added: you can use it instead of a code when you sign in.", "", "", http.StatusOK)
}

func (s *Server) removePasskey(q *request) error {
	err := s.People.RemovePasskey(q.ctx, q.sess, q.r.PathValue("id"), q.client())
	if err != nil {
		return err
	}
	return s.showPasskeys(q, "The passkey was removed: it no longer signs you in.", "", "", http.StatusOK)
}
