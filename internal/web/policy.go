package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/strictjson"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// policyRoutes: the security policy shown, edited as JSON (each problem named by its
// field path, all at once) and saved through the service the API's PUT /v1/policy
// calls; and a draft message previewed against it by the pipeline's own preview,
// which stores and sends nothing.
func (s *Server) policyRoutes() {
	s.navPage("/app/policy", s.policyPage)
	s.handle("POST /app/policy", people.StageFull, s.savePolicy)
	s.handle("POST /app/policy/preview", people.StageFull, s.previewPolicy)
}

// draftForm is the preview's message, kept to refill the form.
type draftForm struct{ From, To, Subject, Text, Tags string }

type policyData struct {
	Version    int64
	JSON       string
	Problems   []fieldProblem
	CanRead    bool
	CanEdit    bool
	CanPreview bool
	Draft      draftForm
	Preview    *pipeline.Preview
	DraftProbs []fieldProblem
}

func (s *Server) showPolicy(q *request, status int, d policyData) error {
	// The page opens for those who may preview; the document itself is shown to
	// those who may read it through the API.
	d.CanRead = s.can(q, "GET", "/v1/policy")
	if d.JSON == "" && d.CanRead {
		doc, v, err := s.Secure.Policy(q.ctx, q.sess.TenantID)
		if err != nil {
			return err
		}
		if doc.Rules == nil {
			doc.Rules = []policy.Rule{}
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		d.JSON, d.Version = string(b), v
	}
	d.CanEdit, d.CanPreview = s.can(q, "PUT", "/v1/policy"), s.can(q, "POST", "/v1/policy/preview")
	if d.Draft == (draftForm{}) {
		d.Draft = draftForm{Subject: "Your appointment", Text: "Your appointment is confirmed."}
	}
	v := q.view(s, "Security policy")
	v.Data = d
	switch {
	case len(d.Problems) > 0:
		v.Error = "The policy was not saved: see the problems below."
	case q.r.URL.Query().Get("saved") != "":
		v.Notice = "Saved as version " + q.r.URL.Query().Get("saved") + ": messages accepted from now on follow it."
	}
	return s.pages.render(q.w, status, "policy", v)
}

func (s *Server) policyPage(q *request) error {
	return s.showPolicy(q, http.StatusOK, policyData{})
}

func (s *Server) savePolicy(q *request) error {
	if err := s.require(q, "PUT", "/v1/policy"); err != nil {
		return err
	}
	src := q.r.PostFormValue("policy")
	var doc policy.Document
	if err := strictjson.Decode([]byte(src), &doc); err != nil {
		var se *strictjson.Error
		if !errors.As(err, &se) {
			return err
		}
		var ps []fieldProblem
		for _, p := range se.Problems {
			ps = append(ps, fieldProblem{p.Field, p.Detail})
		}
		return s.showPolicy(q, http.StatusUnprocessableEntity, policyData{JSON: src, Problems: ps})
	}
	v, err := s.Secure.SetPolicy(q.ctx, q.sess.TenantID, &doc, nil)
	var inv policy.Invalid
	if errors.As(err, &inv) {
		var ps []fieldProblem
		for _, fe := range inv {
			ps = append(ps, fieldProblem{fe.Field, fe.Detail})
		}
		return s.showPolicy(q, http.StatusUnprocessableEntity, policyData{JSON: src, Problems: ps})
	}
	if err != nil {
		return err
	}
	s.record(q, "PUT /v1/policy", "", "200")
	return q.redirect("/app/policy?saved=" + strconv.FormatInt(v, 10))
}

// previewPolicy answers what the policy would do with a draft, per recipient.
func (s *Server) previewPolicy(q *request) error {
	if err := s.require(q, "POST", "/v1/policy/preview"); err != nil {
		return err
	}
	f := q.r.PostForm
	df := draftForm{From: f.Get("from"), To: f.Get("to"), Subject: f.Get("subject"), Text: f.Get("text"), Tags: f.Get("tags")}
	d := &message.Draft{Subject: df.Subject, Text: df.Text}
	var probs []fieldProblem
	if a, err := message.ParseAddress(df.From); err != nil {
		probs = append(probs, fieldProblem{"from", err.Error()})
	} else {
		d.From = a
	}
	for i, t := range splitList(df.To) {
		a, err := message.ParseAddress(t)
		if err != nil {
			probs = append(probs, fieldProblem{"to[" + strconv.Itoa(i) + "]", err.Error()})
			continue
		}
		d.To = append(d.To, a)
	}
	var out *pipeline.Preview
	if len(probs) == 0 {
		sub := &pipeline.Submission{Principal: q.sess.Principal(), Draft: d, Tags: splitList(df.Tags), Via: "HTTPS", ClientAddr: q.client()}
		var err error
		out, err = s.Pipeline.Preview(q.ctx, sub)
		var pe *pipeline.Error
		switch {
		case errors.As(err, &pe):
			for _, fe := range pe.Fields {
				probs = append(probs, fieldProblem{fe.Field, fe.Detail})
			}
			if len(pe.Fields) == 0 {
				probs = append(probs, fieldProblem{"message", pe.Detail})
			}
		case err != nil:
			return err
		}
	}
	status := http.StatusOK
	if len(probs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return s.showPolicy(q, status, policyData{Draft: df, Preview: out, DraftProbs: probs})
}

// splitList reads a comma- or line-separated list.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
