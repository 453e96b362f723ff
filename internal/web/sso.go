package web

import (
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/tenant/people"
)

// ssoCookie binds the browser to a single sign-on under way. It is SameSite=Lax, not
// Strict: it must come back on the provider's redirect, a top-level navigation from
// another site. It holds only a random value whose hash finds the sign-on.
const ssoCookie = "__Host-sealpost-sso"

func (s *Server) ssoRoutes() {
	s.handle("POST /app/sso", "", s.startSSO)
	s.handle("GET /app/sso/callback", "", s.ssoCallback)
}

type moveData struct{ Text, URL string }

// move shows a page that goes on to url by itself. A redirect would not do: after a
// form post the page's CSP (form-action 'self') forbids redirecting to the provider,
// and after the provider's redirect back a further redirect would still count as a
// navigation from another site, on which the SameSite=Strict session cookie is not
// sent.
func (s *Server) move(q *request, title, text, url string) error {
	v := q.view(s, title)
	v.Data, v.Refresh = moveData{Text: text, URL: url}, url
	return s.pages.render(q.w, http.StatusOK, "move", v)
}

func (s *Server) startSSO(q *request) error {
	email := q.r.PostFormValue("email")
	cookie, to, err := s.People.StartOIDC(q.ctx, email)
	if errors.Is(err, people.ErrNoSSO) {
		v := q.view(s, "Sign in")
		v.Error, v.Data = err.Error(), signinData{Email: email, SSO: true}
		return s.pages.render(q.w, http.StatusUnprocessableEntity, "signin", v)
	}
	if err != nil {
		return err
	}
	http.SetCookie(q.w, &http.Cookie{Name: ssoCookie, Value: cookie, Path: "/", MaxAge: 600, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	return s.move(q, "Single sign-on", "Taking you to your organisation's sign-in page…", to)
}

func (s *Server) ssoCallback(q *request) error {
	var cookie string
	if c, err := q.r.Cookie(ssoCookie); err == nil {
		cookie = c.Value
	}
	http.SetCookie(q.w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	qs := q.r.URL.Query()
	tok, stage, err := s.People.FinishOIDC(q.ctx, cookie, qs.Get("state"), qs.Get("code"), q.client())
	var locked *people.LockedError
	if errors.Is(err, people.ErrSSO) || errors.As(err, &locked) {
		v := q.view(s, "Sign in")
		v.Error, v.Data = err.Error(), signinData{SSO: true}
		status := http.StatusUnauthorized
		if locked != nil {
			status = http.StatusTooManyRequests
		}
		return s.pages.render(q.w, status, "signin", v)
	}
	if err != nil {
		return err
	}
	s.setCookie(q.w, tok, 0)
	next := map[string]string{people.StageFull: "/app/overview", people.StageMFA: "/app/signin/code", people.StageEnroll: "/app/enrol"}[stage]
	return s.move(q, "Signed in at your organisation", "Continuing…", next)
}
