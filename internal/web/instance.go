package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// The instance page is the operator's: every tenant with its counts, and a form that
// creates a tenant and invites its first owner through the same tenant and people
// services the command line uses. Operators see counts only: every tenant page
// (messages, archive, content, keys) refuses them, and the instance page refuses
// everyone else.

// operatorPersonal are the pages an operator shares with everyone: their own
// sessions, passkeys and signing out.
var operatorPersonal = []string{"GET /app/sessions", "POST /app/sessions/", "GET /app/passkeys", "POST /app/passkeys", "POST /app/signout"}

func isInstanceRoute(pattern string) bool { return strings.Contains(pattern, " /app/instance") }

// operatorMay reports whether a fully signed-in person may reach the route: the
// instance routes are an operator's alone, and an operator reaches no tenant route.
func operatorMay(sess *people.Session, pattern string) bool {
	op := sess != nil && people.IsOperator(sess.User.Role)
	if isInstanceRoute(pattern) {
		return op
	}
	if !op {
		return true
	}
	for _, p := range operatorPersonal {
		if strings.HasPrefix(pattern, p) {
			return true
		}
	}
	return false
}

// home is where a person lands after signing in.
func home(sess *people.Session) string {
	if sess != nil && people.IsOperator(sess.User.Role) {
		return "/app/instance"
	}
	return "/app/overview"
}

type instanceData struct {
	Tenants []*store.TenantCounts
	Link    string // the new owner's invitation link, shown once
	Name    string
	Email   string
}

func (s *Server) instanceRoutes() {
	s.handle("GET /app/instance", people.StageFull, func(q *request) error { return s.instancePage(q, http.StatusOK, &instanceData{}) })
	s.handle("POST /app/instance/tenants", people.StageFull, s.createTenant)
}

func (s *Server) instancePage(q *request, status int, d *instanceData) error {
	ts, err := s.DB.InstanceCounts(q.ctx, tenant.InstanceName, s.People.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	d.Tenants = ts
	v := q.view(s, "Instance")
	v.Data = d
	if d.Link != "" {
		v.Notice = "The tenant was created. Give its owner the invitation link below: it is shown only once."
	}
	return s.pages.render(q.w, status, "instance", v)
}

// createTenant makes a tenant and invites its first owner. Both checks run before
// anything is written, so a bad address leaves no tenant without an owner behind.
func (s *Server) createTenant(q *request) error {
	d := &instanceData{Name: strings.TrimSpace(q.r.PostFormValue("name")), Email: strings.TrimSpace(q.r.PostFormValue("email"))}
	var msgs []string
	if !tenant.ValidName(d.Name) {
		msgs = append(msgs, "Tenant name: use 1-63 lowercase letters, digits and hyphens.")
	}
	if !people.ValidEmail(d.Email) {
		msgs = append(msgs, "Owner's email: not an email address.")
	}
	if len(msgs) == 0 {
		t, err := s.Tenants.Create(q.ctx, d.Name)
		var inv *tenant.InvalidError
		if errors.As(err, &inv) {
			msgs = append(msgs, "Tenant name: "+inv.Msg)
		} else if err != nil {
			return err
		} else {
			s.record(q, "tenant.create", t.ID, "ok")
			link, _, err := s.People.Invite(q.ctx, people.Actor{Principal: "user:" + q.sess.UserID, Client: q.client()}, t.ID, d.Email, "", people.RoleOwner, "")
			var pinv *people.InvalidError
			if errors.As(err, &pinv) {
				msgs = append(msgs, "The tenant "+t.Name+" was created, but its owner was not invited: "+pinv.Msg+".")
			} else if err != nil {
				return err
			} else {
				return s.instancePage(q, http.StatusCreated, &instanceData{Link: link})
			}
		}
	}
	v := q.view(s, "Instance")
	ts, err := s.DB.InstanceCounts(q.ctx, tenant.InstanceName, s.People.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	d.Tenants = ts
	v.Error, v.Data = strings.Join(msgs, " "), d
	return s.pages.render(q.w, http.StatusUnprocessableEntity, "instance", v)
}
