package web

import (
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

type peopleData struct {
	Users   []*store.User
	Invites []*store.Invitation
	Roles   []people.RoleInfo
	Self    string
	From    string
}

// peoplePage lists people and invitations. Who may see and change them is decided by
// the people service; the page only offers what it would allow.
func (s *Server) peoplePage(q *request) error { return s.showPeople(q, "", "", http.StatusOK) }

func (s *Server) showPeople(q *request, notice, problem string, status int) error {
	us, err := s.People.Users(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	inv, err := s.DB.PendingInvitations(q.ctx, q.sess.TenantID, s.People.Now())
	if err != nil {
		return err
	}
	d := peopleData{Users: us, Invites: inv, Roles: people.Roles, Self: q.sess.UserID}
	if ds, err := s.DB.Domains(q.ctx, q.sess.TenantID); err == nil {
		for _, dm := range ds {
			if dm.Verified {
				d.From = "no-reply@" + dm.Name
				break
			}
		}
	}
	v := q.view(s, "People")
	v.Data, v.Notice, v.Error = d, notice, problem
	return s.pages.render(q.w, status, "people", v)
}

func (s *Server) invite(q *request) error {
	f := q.r.PostFormValue
	_, _, err := s.People.Invite(q.ctx, q.sess.Actor(q.client()), q.sess.TenantID, f("email"), f("name"), f("role"), f("from"))
	var inv *people.InvalidError
	if errors.As(err, &inv) {
		return s.showPeople(q, "", inv.Error(), http.StatusUnprocessableEntity)
	}
	if err != nil {
		if errors.Is(err, people.ErrForbidden) {
			return err
		}
		if f("from") != "" {
			// The pipeline refused the sender (an unverified domain, say): say so.
			return s.showPeople(q, "", "The invitation could not be sent: "+err.Error(), http.StatusUnprocessableEntity)
		}
		return err
	}
	return s.showPeople(q, "The invitation was sent.", "", http.StatusOK)
}

func (s *Server) changePerson(c store.UserChange, done string) func(*request) error {
	return func(q *request) error {
		err := s.People.Change(q.ctx, q.sess.Actor(q.client()), q.sess.TenantID, q.r.PathValue("id"), c)
		if err != nil {
			return err
		}
		return s.showPeople(q, "Done: "+done+".", "", http.StatusOK)
	}
}

type sessionsData struct {
	Sessions []*store.UserSession
	Current  string
	Everyone bool
}

func (s *Server) sessions(q *request) error {
	r, _ := people.Role(q.sess.User.Role)
	ss, err := s.People.Sessions(q.ctx, q.sess, r.People)
	if err != nil {
		return err
	}
	v := q.view(s, "Sessions")
	v.Data = sessionsData{Sessions: ss, Current: q.sess.ID, Everyone: r.People}
	return s.pages.render(q.w, http.StatusOK, "sessions", v)
}

func (s *Server) revokeSession(q *request) error {
	if err := s.People.RevokeSession(q.ctx, q.sess, q.r.PathValue("id"), q.client()); err != nil {
		return err
	}
	if q.r.PathValue("id") == q.sess.ID {
		s.setCookie(q.w, "", -1)
		return q.redirect("/app/signin?out=1")
	}
	return q.redirect("/app/sessions")
}
