package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/webhook"
)

func fieldProblems(title string, fe []*webhook.FieldError) *Problem {
	var fp []FieldProblem
	for _, f := range fe {
		fp = append(fp, FieldProblem{Field: f.Field, Detail: f.Detail})
	}
	return problem(422, title, fe[0].Field+": "+fe[0].Detail, fp...)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	es, err := s.Webhooks.List(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"webhooks": es})
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var sp webhook.Spec
	if err := decodeJSON(body, &sp); err != nil {
		return err
	}
	e, secret, fe, err := s.Webhooks.Create(r.Context(), p.TenantID, &sp, nil)
	if err != nil {
		return err
	}
	if fe != nil {
		return fieldProblems("Invalid webhook", fe)
	}
	w.Header().Set("Location", "/v1/webhooks/"+e.ID)
	writeJSON(w, http.StatusCreated, struct {
		*webhook.Endpoint
		Secret string `json:"secret"`
	}{e, secret})
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	e, err := s.Webhooks.Get(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, e)
	return nil
}

// decodeOwned answers 404 for an endpoint that is not the caller's before anything in
// the request's body is looked at, so no body reveals whether another tenant's id
// exists; then it decodes the body strictly into v (an empty one when optional).
func (s *Server) decodeOwned(r *http.Request, p *tenant.Principal, v any, optional bool) error {
	if _, err := s.Webhooks.Get(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if optional && len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	return decodeJSON(body, v)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var sp webhook.Spec
	if err := s.decodeOwned(r, p, &sp, false); err != nil {
		return err
	}
	e, fe, err := s.Webhooks.Update(r.Context(), p.TenantID, r.PathValue("id"), &sp, nil)
	if err != nil {
		return err
	}
	if fe != nil {
		return fieldProblems("Invalid webhook", fe)
	}
	writeJSON(w, 200, e)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Webhooks.Delete(r.Context(), p.TenantID, r.PathValue("id"), nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var req struct {
		Overlap string `json:"overlap"`
	}
	if err := s.decodeOwned(r, p, &req, true); err != nil {
		return err
	}
	var overlap time.Duration
	var err error
	if req.Overlap != "" {
		if overlap, err = duration.Parse(req.Overlap); err != nil {
			return badField("overlap", "want a duration such as 24h or 7d")
		}
	}
	secret, fe, err := s.Webhooks.Rotate(r.Context(), p.TenantID, r.PathValue("id"), overlap, nil)
	if err != nil {
		return err
	}
	if fe != nil {
		return fieldProblems("Invalid rotation", fe)
	}
	writeJSON(w, 200, map[string]any{"secret": secret, "previous_valid_until": time.Now().Add(overlap).UTC()})
	return nil
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	a, err := s.Webhooks.Test(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, attemptView(a.Status, a.Latency, a.Error, a.OK()))
	return nil
}

func attemptView(status int, latency time.Duration, errText string, ok bool) map[string]any {
	v := map[string]any{"ok": ok, "status": status, "latency_ms": latency.Milliseconds()}
	if errText != "" {
		v["error"] = errText
	}
	return v
}

func (s *Server) webhookAttempts(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badField("limit", "must be 1-1000")
		}
		limit = n
	}
	var before int64
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(c, "wa_"), 10, 64)
		if err != nil || n <= 0 {
			return badField("cursor", "not a cursor this API returned")
		}
		before = n
	}
	as, err := s.Webhooks.Attempts(r.Context(), p.TenantID, r.PathValue("id"), before, limit)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	next := ""
	for _, a := range as {
		v := attemptView(a.Status, a.Latency, a.Error, a.Outcome == "delivered")
		v["id"], v["at"], v["attempt"], v["outcome"] = "wa_"+strconv.FormatInt(a.ID, 10), a.At, a.Attempt, a.Outcome
		v["event_id"] = "ev_" + strconv.FormatInt(a.EventID, 10)
		out = append(out, v)
		next = v["id"].(string)
	}
	if len(as) < limit {
		next = ""
	}
	writeJSON(w, 200, map[string]any{"attempts": out, "next_cursor": next})
	return nil
}

func (s *Server) replayWebhook(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var req struct {
		EventID string     `json:"event_id"`
		Since   *time.Time `json:"since"`
		Until   *time.Time `json:"until"`
	}
	if err := s.decodeOwned(r, p, &req, false); err != nil {
		return err
	}
	var err error
	var id int64
	var since, until time.Time
	switch {
	case req.EventID != "" && (req.Since != nil || req.Until != nil):
		return badField("event_id", "give event_id, or since and until, not both")
	case req.EventID != "":
		if id, err = strconv.ParseInt(strings.TrimPrefix(req.EventID, "ev_"), 10, 64); err != nil || id <= 0 {
			return badField("event_id", "not an event id this API returned")
		}
	case req.Since == nil:
		return badField("since", "required unless event_id is given")
	default:
		since, until = *req.Since, time.Now()
		if req.Until != nil {
			until = *req.Until
		}
		if !until.After(since) {
			return badField("until", "must be after since")
		}
	}
	n, err := s.Webhooks.Replay(r.Context(), p.TenantID, r.PathValue("id"), id, since, until, nil)
	if errors.Is(err, webhook.ErrDisabled) {
		return problem(409, "Endpoint disabled", err.Error())
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": n})
	return nil
}

func (s *Server) webhookSigningKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	pub, err := s.Webhooks.PublicKey(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"algorithm": "ed25519", "signature_version": "v1a",
		"public_key": base64.StdEncoding.EncodeToString(pub), "public_key_standard": "whpk_" + base64.StdEncoding.EncodeToString(pub)})
	return nil
}
