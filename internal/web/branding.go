package web

import (
	"encoding/base64"
	"io"
	"net/http"

	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// brandingRoutes: how the secure portal presents this organisation — its name,
// logo, expiries and the notice recipients receive — read and saved through the
// portal service the API's settings routes call.
func (s *Server) brandingRoutes() {
	s.navPage("/app/branding", s.brandingPage)
	s.handle("POST /app/branding", people.StageFull, s.saveBranding)
}

type brandingData struct {
	Settings  *portal.Settings
	Notice    portal.NotificationTemplate
	Problems  []fieldProblem
	CanManage bool
}

func (s *Server) showBranding(q *request, status int, st *portal.Settings, problems []fieldProblem) error {
	d := brandingData{Settings: st, Problems: problems, CanManage: s.can(q, "PUT", "/v1/portal/settings")}
	if st.Notification != nil {
		d.Notice = *st.Notification
	}
	v := q.view(s, "Portal branding")
	v.Data = d
	switch {
	case len(problems) > 0:
		v.Error = "Nothing was saved: see the fields below."
	case q.r.URL.Query().Get("saved") == "1":
		v.Notice = "Saved: the portal and its notices use these settings from now on."
	}
	return s.pages.render(q.w, status, "branding", v)
}

func (s *Server) brandingPage(q *request) error {
	st, err := s.Portal.Settings(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	return s.showBranding(q, http.StatusOK, st, nil)
}

// maxLogoUpload bounds what is read of an uploaded logo; the portal service decides
// what it accepts.
const maxLogoUpload = 1 << 20

func (s *Server) saveBranding(q *request) error {
	if err := s.require(q, "PUT", "/v1/portal/settings"); err != nil {
		return err
	}
	cur, err := s.Portal.Settings(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	f := q.r.PostForm
	st := &portal.Settings{DisplayName: f.Get("display_name"), DefaultExpiry: f.Get("default_expiry"), MaxExpiry: f.Get("max_expiry"), Logo: cur.Logo}
	if f.Get("remove_logo") == "on" {
		st.Logo = ""
	}
	if file, _, err := q.r.FormFile("logo"); err == nil {
		b, err := io.ReadAll(io.LimitReader(file, maxLogoUpload))
		_ = file.Close()
		if err != nil {
			return err
		}
		if len(b) > 0 {
			st.Logo = base64.StdEncoding.EncodeToString(b)
		}
	}
	if n := (portal.NotificationTemplate{Subject: f.Get("notice_subject"), Text: f.Get("notice_text"), HTML: f.Get("notice_html")}); n != (portal.NotificationTemplate{}) {
		st.Notification = &n
	}
	fe, err := s.Portal.PutSettings(q.ctx, q.sess.TenantID, st, nil)
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		var ps []fieldProblem
		for _, e := range fe {
			ps = append(ps, fieldProblem{e.Field, e.Detail})
		}
		return s.showBranding(q, http.StatusUnprocessableEntity, st, ps)
	}
	s.record(q, "PUT /v1/portal/settings", "", "200")
	return q.redirect("/app/branding?saved=1")
}
