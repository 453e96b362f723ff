package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"

	"github.com/pquerna/otp"

	"github.com/sealpost/sealpost/internal/tenant/people"
)

func (s *Server) routes() {
	s.mux.HandleFunc("GET /app/static/app.css", s.css)
	s.handle("GET /app/{$}", "", func(q *request) error { return q.redirect("/app/overview") })
	s.handle("GET /app/signin", "", s.signinPage)
	s.handle("POST /app/signin", "", s.signin)
	s.handle("GET /app/signin/code", people.StageMFA, s.codePage)
	s.handle("POST /app/signin/code", people.StageMFA, s.code)
	s.handle("GET /app/invite/{token}", "", s.invitePage)
	s.handle("POST /app/invite/{token}", "", s.acceptInvite)
	s.handle("GET /app/enrol", people.StageEnroll, s.enrolPage)
	s.handle("POST /app/enrol", people.StageEnroll, s.enrol)
	s.handle("POST /app/signout", people.StageFull, s.signout)
	s.appRoutes()
	s.passkeyRoutes()
	s.ssoRoutes()
	s.mux.HandleFunc("/app/", func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
}

type signinData struct {
	Email string
	SSO   bool // offer single sign-on
}

func (s *Server) signinPage(q *request) error {
	v := q.view(s, "Sign in")
	if q.r.URL.Query().Get("out") == "1" {
		v.Notice = "You have signed out."
	}
	v.Data = signinData{SSO: s.People.SSOAvailable(q.ctx)}
	return s.pages.render(q.w, http.StatusOK, "signin", v)
}

func (s *Server) signin(q *request) error {
	email := q.r.PostFormValue("email")
	tok, stage, err := s.People.SignIn(q.ctx, email, q.r.PostFormValue("password"), q.client())
	var locked *people.LockedError
	if errors.Is(err, people.ErrSignIn) || errors.As(err, &locked) {
		v := q.view(s, "Sign in")
		v.Error, v.Data = err.Error(), signinData{Email: email, SSO: s.People.SSOAvailable(q.ctx)}
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
	if stage == people.StageEnroll {
		return q.redirect("/app/enrol")
	}
	return q.redirect("/app/signin/code")
}

func (s *Server) codePage(q *request) error { return s.showCode(q, "", http.StatusOK) }

// showCode is the second-factor step: a code, or a passkey for those who have one.
func (s *Server) showCode(q *request, msg string, status int) error {
	v := q.view(s, "Enter your code")
	v.Error = msg
	if s.People.HasPasskeys(q.ctx, q.sess) {
		v = withScript(q, v)
		v.Data = true
	}
	return s.pages.render(q.w, status, "code", v)
}

func (s *Server) code(q *request) error {
	tok, err := s.People.SecondFactor(q.ctx, q.sess, q.r.PostFormValue("code"), q.client())
	var locked *people.LockedError
	if errors.Is(err, people.ErrCode) || errors.As(err, &locked) {
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

type inviteData struct{ Email, Org string }

func (s *Server) invitePage(q *request) error {
	_, u, err := s.People.Invitation(q.ctx, q.r.PathValue("token"))
	if errors.Is(err, people.ErrInvite) {
		v := q.view(s, "Invitation")
		v.Error = err.Error()
		return s.pages.render(q.w, http.StatusNotFound, "problem", v)
	}
	if err != nil {
		return err
	}
	v := q.view(s, "Choose your password")
	d := inviteData{Email: u.Email}
	if t, err := s.Tenants.Tenant(q.ctx, u.TenantID); err == nil {
		d.Org = t.Name
	}
	v.Data = d
	return s.pages.render(q.w, http.StatusOK, "invite", v)
}

func (s *Server) acceptInvite(q *request) error {
	pw := q.r.PostFormValue("password")
	var err error
	if pw != q.r.PostFormValue("confirm") {
		err = &people.InvalidError{Field: "confirm", Msg: "the two passwords differ"}
	}
	var tok string
	if err == nil {
		tok, err = s.People.AcceptInvitation(q.ctx, q.r.PathValue("token"), pw, q.client())
	}
	var inv *people.InvalidError
	if errors.As(err, &inv) || errors.Is(err, people.ErrInvite) {
		if errors.Is(err, people.ErrInvite) {
			v := q.view(s, "Invitation")
			v.Error = err.Error()
			return s.pages.render(q.w, http.StatusNotFound, "problem", v)
		}
		_, u, lerr := s.People.Invitation(q.ctx, q.r.PathValue("token"))
		if lerr != nil {
			return lerr
		}
		v := q.view(s, "Choose your password")
		v.Error, v.Data = inv.Msg, inviteData{Email: u.Email}
		return s.pages.render(q.w, http.StatusUnprocessableEntity, "invite", v)
	}
	if err != nil {
		return err
	}
	s.setCookie(q.w, tok, 0)
	return q.redirect("/app/enrol")
}

type enrolData struct {
	Secret string
	QR     template.URL
	Codes  []string
}

func (s *Server) enrolPage(q *request) error { return s.showEnrol(q, "", http.StatusOK) }

func (s *Server) showEnrol(q *request, msg string, status int) error {
	secret, uri, err := s.People.EnrolmentURI(q.ctx, q.sess.User)
	if err != nil {
		return err
	}
	d := enrolData{Secret: secret}
	if k, err := otp.NewKeyFromURL(uri); err == nil {
		if img, err := k.Image(220, 220); err == nil {
			var b bytes.Buffer
			if png.Encode(&b, img) == nil {
				// #nosec G203 -- a PNG this server just encoded, as a data: URI
				d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()))
			}
		}
	}
	v := q.view(s, "Set up your authenticator")
	v.Data, v.Error = d, msg
	return s.pages.render(q.w, status, "enrol", v)
}

func (s *Server) enrol(q *request) error {
	tok, codes, err := s.People.ConfirmEnrolment(q.ctx, q.sess, q.r.PostFormValue("code"), q.client())
	var locked *people.LockedError
	if errors.Is(err, people.ErrCode) || errors.As(err, &locked) {
		if locked != nil {
			return s.pages.render(q.w, http.StatusTooManyRequests, "problem", &view{Title: "Locked", Error: err.Error()})
		}
		return s.showEnrol(q, err.Error(), http.StatusUnauthorized)
	}
	if err != nil {
		return err
	}
	s.setCookie(q.w, tok, 0)
	q.tok = tok
	sess, err := s.People.Session(q.ctx, tok)
	if err != nil {
		return err
	}
	q.sess = sess
	v := q.view(s, "Your recovery codes")
	v.Data = enrolData{Codes: codes}
	return s.pages.render(q.w, http.StatusOK, "recovery", v)
}

func (s *Server) signout(q *request) error {
	if err := s.People.SignOut(q.ctx, q.sess, q.client()); err != nil {
		return err
	}
	s.setCookie(q.w, "", -1)
	return q.redirect("/app/signin?out=1")
}
