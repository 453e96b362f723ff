package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant/people"
	"github.com/sealpost/sealpost/internal/webhook"
)

// fieldProblem is one invalid field of a form, named by the same path the API's
// problem+json would give.
type fieldProblem struct{ Field, Detail string }

func webhookProblems(fe []*webhook.FieldError) []fieldProblem {
	var out []fieldProblem
	for _, f := range fe {
		out = append(out, fieldProblem{f.Field, f.Detail})
	}
	return out
}

// webhookRoutes: endpoints listed and created (the signing secret shown once), one
// endpoint's attempts with replay, disabling and deleting — through the webhook
// service the API's routes call, under the same scope.
func (s *Server) webhookRoutes() {
	s.navPage("/app/webhooks", s.webhooksPage)
	s.handle("POST /app/webhooks", people.StageFull, s.createWebhook)
	s.handle("GET /app/webhooks/{id}", people.StageFull, s.webhookPage)
	s.handle("POST /app/webhooks/{id}/enabled", people.StageFull, s.enableWebhook)
	s.handle("POST /app/webhooks/{id}/replay", people.StageFull, s.replayWebhook)
	s.handle("POST /app/webhooks/{id}/delete", people.StageFull, s.deleteWebhook)
}

type webhooksData struct {
	Endpoints []*webhook.Endpoint
	Types     []string
	Secret    string
	CanManage bool
	Problems  []fieldProblem
	URL, Desc string
}

func (s *Server) showWebhooks(q *request, status int, d webhooksData) error {
	es, err := s.Webhooks.List(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	d.Endpoints, d.Types, d.CanManage = es, webhook.Types, s.can(q, "POST", "/v1/webhooks")
	v := q.view(s, "Webhooks")
	v.Data = d
	switch {
	case d.Secret != "":
		v.Notice = "The endpoint was created. Copy its signing secret now: it is shown only once."
	case len(d.Problems) > 0:
		v.Error = "The endpoint was not created: see the fields below."
	case q.r.URL.Query().Get("deleted") == "1":
		v.Notice = "The endpoint was deleted."
	}
	return s.pages.render(q.w, status, "webhooks", v)
}

func (s *Server) webhooksPage(q *request) error {
	return s.showWebhooks(q, http.StatusOK, webhooksData{})
}

func (s *Server) createWebhook(q *request) error {
	if err := s.require(q, "POST", "/v1/webhooks"); err != nil {
		return err
	}
	f := q.r.PostForm
	url, desc, types := strings.TrimSpace(f.Get("url")), f.Get("description"), f["types"]
	if len(types) == 0 {
		types = []string{"*"}
	}
	incl := f.Get("include_address") == "on"
	e, secret, fe, err := s.Webhooks.Create(q.ctx, q.sess.TenantID, &webhook.Spec{URL: &url, Description: &desc, Types: &types, IncludeAddress: &incl}, nil)
	if err != nil {
		return err
	}
	if fe != nil {
		return s.showWebhooks(q, http.StatusUnprocessableEntity, webhooksData{Problems: webhookProblems(fe), URL: url, Desc: desc})
	}
	s.record(q, "POST /v1/webhooks", e.ID, "201")
	return s.showWebhooks(q, http.StatusOK, webhooksData{Secret: secret})
}

type webhookData struct {
	Endpoint  *webhook.Endpoint
	Attempts  []*store.WebhookAttempt
	CanManage bool
}

func (s *Server) webhookPage(q *request) error {
	if err := s.require(q, "GET", "/v1/webhooks/{id}"); err != nil {
		return err
	}
	e, err := s.Webhooks.Get(q.ctx, q.sess.TenantID, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	as, err := s.Webhooks.Attempts(q.ctx, q.sess.TenantID, e.ID, 0, 100)
	if err != nil {
		return err
	}
	v := q.view(s, "Webhook endpoint")
	v.Data = webhookData{Endpoint: e, Attempts: as, CanManage: s.can(q, "PATCH", "/v1/webhooks/{id}")}
	switch q.r.URL.Query().Get("done") {
	case "replayed":
		v.Notice = "The event was queued to be sent again."
	case "enabled":
		v.Notice = "The endpoint is enabled."
	case "disabled":
		v.Notice = "The endpoint is disabled: nothing is sent to it until it is enabled again."
	case "refused":
		v.Error = "The endpoint is disabled: enable it before replaying."
	}
	return s.pages.render(q.w, http.StatusOK, "webhook", v)
}

func (s *Server) enableWebhook(q *request) error {
	if err := s.require(q, "PATCH", "/v1/webhooks/{id}"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	on := q.r.PostFormValue("enabled") == "true"
	if _, fe, err := s.Webhooks.Update(q.ctx, q.sess.TenantID, id, &webhook.Spec{Enabled: &on}, nil); err != nil {
		return err
	} else if fe != nil {
		// Enabling sets no other field, so there is nothing a person could correct.
		return fmt.Errorf("web: enabling webhook: %s: %s", fe[0].Field, fe[0].Detail)
	}
	s.record(q, "PATCH /v1/webhooks/{id}", id, "200")
	if on {
		return q.redirect("/app/webhooks/" + id + "?done=enabled")
	}
	return q.redirect("/app/webhooks/" + id + "?done=disabled")
}

func (s *Server) replayWebhook(q *request) error {
	if err := s.require(q, "POST", "/v1/webhooks/{id}/replay"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	ev, err := strconv.ParseInt(strings.TrimPrefix(q.r.PostFormValue("event_id"), "ev_"), 10, 64)
	if err != nil || ev <= 0 {
		return store.ErrNotFound
	}
	if _, err := s.Webhooks.Replay(q.ctx, q.sess.TenantID, id, ev, time.Time{}, time.Time{}, nil); err != nil {
		if errors.Is(err, webhook.ErrDisabled) {
			s.record(q, "POST /v1/webhooks/{id}/replay", id, "409")
			return q.redirect("/app/webhooks/" + id + "?done=refused")
		}
		return err
	}
	s.record(q, "POST /v1/webhooks/{id}/replay", id, "202")
	return q.redirect("/app/webhooks/" + id + "?done=replayed")
}

func (s *Server) deleteWebhook(q *request) error {
	if err := s.require(q, "DELETE", "/v1/webhooks/{id}"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	if err := s.Webhooks.Delete(q.ctx, q.sess.TenantID, id, nil); err != nil {
		return err
	}
	s.record(q, "DELETE /v1/webhooks/{id}", id, "204")
	return q.redirect("/app/webhooks?deleted=1")
}
