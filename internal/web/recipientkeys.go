package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// recipientKeyRoutes: the OpenPGP keys and S/MIME certificates mail to a recipient is
// encrypted to — listed, added and removed through the service the API's routes call.
func (s *Server) recipientKeyRoutes() {
	s.navPage("/app/recipient-keys", s.recipientKeysPage)
	s.handle("POST /app/recipient-keys", people.StageFull, s.addRecipientKey)
	s.handle("POST /app/recipient-keys/{id}/delete", people.StageFull, s.deleteRecipientKey)
}

type recipientKeysData struct {
	Keys              []*secureline.KeyInfo
	Email, Type, Key  string
	Problems          []fieldProblem
	CanManage, Filter bool
}

func (s *Server) showRecipientKeys(q *request, status int, d recipientKeysData) error {
	email := strings.TrimSpace(q.r.URL.Query().Get("email"))
	ks, err := s.Secure.Keys(q.ctx, q.sess.TenantID, email, "", 200)
	if err != nil {
		return err
	}
	d.Keys, d.CanManage, d.Filter = ks, s.can(q, "POST", "/v1/recipient-keys"), email != ""
	v := q.view(s, "Recipients' keys")
	v.Data = d
	switch {
	case len(d.Problems) > 0:
		v.Error = "The key was not added: see the fields below."
	case q.r.URL.Query().Get("done") == "added":
		v.Notice = "The key was added: mail to its address is encrypted to it from now on."
	case q.r.URL.Query().Get("done") == "removed":
		v.Notice = "The key was removed."
	}
	return s.pages.render(q.w, status, "recipientkeys", v)
}

func (s *Server) recipientKeysPage(q *request) error {
	return s.showRecipientKeys(q, http.StatusOK, recipientKeysData{Type: secureline.KindPGP})
}

func (s *Server) addRecipientKey(q *request) error {
	if err := s.require(q, "POST", "/v1/recipient-keys"); err != nil {
		return err
	}
	f := q.r.PostForm
	info, err := s.Secure.AddKey(q.ctx, q.sess.TenantID, f.Get("type"), f.Get("email"), []byte(f.Get("key")), "dashboard")
	var ke *secureline.KeyError
	if errors.As(err, &ke) {
		return s.showRecipientKeys(q, http.StatusUnprocessableEntity, recipientKeysData{Email: f.Get("email"), Type: f.Get("type"), Key: f.Get("key"),
			Problems: []fieldProblem{{ke.Field, ke.Msg}}})
	}
	if err != nil {
		return err
	}
	s.record(q, "POST /v1/recipient-keys", info.ID, "201")
	return q.redirect("/app/recipient-keys?done=added")
}

func (s *Server) deleteRecipientKey(q *request) error {
	if err := s.require(q, "DELETE", "/v1/recipient-keys/{id}"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	if err := s.Secure.DeleteKey(q.ctx, q.sess.TenantID, id); err != nil {
		return err
	}
	s.record(q, "DELETE /v1/recipient-keys/{id}", id, "204")
	return q.redirect("/app/recipient-keys?done=removed")
}
