package api

import (
	"context"
	"crypto/sha256"
	"net/http"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// MarketingSendRequest sends one marketing message to one contact. Subject, text and
// html are templates over the contact's fields ({{first_name}}), {{email}},
// {{unsubscribe_url}} and {{preferences_url}}.
type MarketingSendRequest struct {
	From     string   `json:"from"`
	Contact  string   `json:"contact"`
	List     string   `json:"list"`
	Topic    string   `json:"topic"`
	Consent  *consent `json:"consent"`
	Subject  string   `json:"subject"`
	Text     string   `json:"text"`
	HTML     string   `json:"html"`
	Tags     []string `json:"tags"`
	Campaign string   `json:"campaign"`
}

type consent struct {
	Kind    string `json:"kind"`
	Purpose string `json:"purpose"`
}

// sendMarketing checks suppression, membership, consent and the consent's field
// scope in the marketing service, then submits through the same pipeline as every
// message, with the RFC 8058 List-Unsubscribe pair among the signed headers.
func (s *Server) sendMarketing(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var in MarketingSendRequest
	if err := decodeJSON(body, &in); err != nil {
		return err
	}
	si := &marketing.SendInput{ContactID: in.Contact, ListID: in.List, TopicID: in.Topic, Subject: in.Subject, Text: in.Text, HTML: in.HTML}
	if in.Consent != nil {
		si.Kind, si.Purpose = in.Consent.Kind, in.Consent.Purpose
	}
	prep, err := s.Marketing.PrepareSend(r.Context(), p.TenantID, si)
	if err != nil {
		return mk(err)
	}
	req := &SendRequest{From: in.From, To: addrList{prep.To}, Subject: prep.Subject, Text: prep.Text, HTML: prep.HTML, Tags: in.Tags, Campaign: in.Campaign}
	for _, h := range prep.Headers {
		req.Headers = append(req.Headers, HeaderJSON{Name: h[0], Value: h[1]})
	}
	sum := sha256.Sum256(body)
	sub, err := s.submission(r, p, req, sum[:], key)
	if err != nil {
		return err
	}
	// The message names its contact and consent, so delivery checks them again.
	sub.Also = func(ctx context.Context, tx *store.Tx, messageID string) error {
		return marketing.RecordSend(ctx, tx, p.TenantID, messageID, prep)
	}
	var committed func()
	sub.Audit, committed = s.inlineAudit(r, p, "POST /v1/marketing/messages", http.StatusAccepted)
	res, err := s.Pipeline.Submit(r.Context(), sub)
	if err != nil {
		return err
	}
	if sub.Audit != nil && sub.Audit.Seq != 0 {
		committed()
	}
	s.OnAccepted()
	w.Header().Set("Location", "/v1/messages/"+res.MessageID)
	writeJSON(w, http.StatusAccepted, res)
	return nil
}
