package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
)

type timelineEntry struct {
	At   string
	What string
}

type recipientView struct {
	Email, Status, Secured string
	Timeline               []timelineEntry
}

type messageData struct {
	ID, From, Subject string
	Created           string
	Quarantined       bool
	Recipients        []recipientView
	CanRevoke         bool
	CanRelease        bool
	CanDelete         bool
}

// eventWords says what an event means to a person reading a timeline.
var eventWords = map[string]string{
	"accepted": "accepted and stored sealed", "queued": "queued for delivery", "quarantined": "held by the policy for review",
	"released": "released from quarantine", "deleted": "deleted from quarantine", "deferred": "delivery attempt failed; will retry",
	"delivered": "accepted by the recipient's server", "bounced": "delivery failed permanently", "expired": "retried until it expired",
	"dropped": "dropped from the queue", "secured": "secured", "revoked": "withdrawn by the sender",
	"portal.notified": "portal notice delivered", "portal.code_sent": "portal: access code sent", "portal.code_failed": "portal: wrong code entered",
	"portal.locked": "portal: locked after wrong codes", "portal.signed_in": "portal: signed in", "portal.viewed": "portal: viewed",
	"portal.downloaded": "portal: attachment downloaded", "portal.replied": "portal: replied", "portal.expired": "portal: expired and destroyed",
	"portal.revoked": "portal: revoked and destroyed", "portal.expiry_changed": "portal: expiry changed",
}

// securedWords describes how a copy was secured, in a sentence.
func securedWords(st *secureline.State, views int, replied bool) string {
	if st == nil {
		return "not decided yet"
	}
	ev := st.Evidence
	if ev == nil {
		if st.Method != "" {
			return "to be sent by " + string(st.Method)
		}
		return "not delivered yet"
	}
	var parts []string
	switch ev.Method {
	case "tls", "none":
		if t := ev.TLS; t != nil {
			parts = append(parts, strings.Replace(t.Version, "TLSv", "TLS ", 1))
			if t.Verified {
				parts = append(parts, "certificate verified")
			} else {
				parts = append(parts, "certificate not verified")
			}
			if t.DANE {
				parts = append(parts, "DANE")
			}
			if t.MTASTS != "" {
				parts = append(parts, "MTA-STS "+t.MTASTS+"d")
			}
		} else {
			parts = append(parts, "sent without TLS")
		}
	case "pgp":
		parts = append(parts, "OpenPGP-encrypted to key "+short(ev.PGPFingerprint))
	case "smime":
		parts = append(parts, "S/MIME-encrypted ("+ev.SMIMEAlgorithm+")")
	case "portal":
		p := "portal"
		switch views {
		case 0:
			p += ": not opened yet"
		case 1:
			p += ": viewed once"
		case 2:
			p += ": viewed twice"
		default:
			p += fmt.Sprintf(": viewed %d times", views)
		}
		if replied {
			p += ", replied"
		}
		parts = append(parts, p)
	}
	if ev.Sandbox {
		parts = append(parts, "sandbox: nothing was sent")
	}
	return strings.Join(parts, ", ")
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[len(fp)-16:]
	}
	return fp
}

func (s *Server) message(q *request) error {
	if err := s.require(q, "GET", "/v1/messages/{id}"); err != nil {
		return err
	}
	m, err := s.DB.Message(q.ctx, q.sess.TenantID, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	keys, err := s.Tenants.Keys(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	d := messageData{ID: m.ID, Created: m.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), Quarantined: m.Quarantined, CanRevoke: s.can(q, "POST", "/v1/messages/{id}/revoke"),
		CanRelease: m.Quarantined && s.can(q, "POST", "/v1/messages/{id}/release"), CanDelete: m.Quarantined && s.can(q, "DELETE", "/v1/messages/{id}")}
	if env, err := openEnvelope(keys, m); err == nil {
		d.From, d.Subject = env.From, env.Subject
	}
	rcpts, err := s.DB.Recipients(q.ctx, m.ID)
	if err != nil {
		return err
	}
	evs, err := s.DB.Events(q.ctx, store.EventFilter{TenantID: q.sess.TenantID, MessageID: m.ID, Limit: store.MaxPage})
	if err != nil {
		return err
	}
	for _, rc := range rcpts {
		addr, err := keys.Data.OpenString(rc.Address, "recipient/"+rc.ID)
		if err != nil {
			return err
		}
		rv := recipientView{Email: addr, Status: rc.Status}
		views, replied := 0, false
		for _, e := range evs {
			if e.RecipientID != rc.ID && e.RecipientID != "" {
				continue
			}
			switch e.Type {
			case "portal.viewed":
				views++
			case "portal.replied":
				replied = true
			}
			w := eventWords[e.Type]
			if w == "" {
				w = e.Type
			}
			rv.Timeline = append(rv.Timeline, timelineEntry{At: e.At.UTC().Format("2006-01-02 15:04:05 UTC"), What: w})
		}
		st, _ := secureline.OpenState(keys, rc.ID, rc.Security)
		rv.Secured = securedWords(st, views, replied)
		d.Recipients = append(d.Recipients, rv)
	}
	v := q.view(s, "Message")
	v.Data = d
	if q.r.URL.Query().Get("revoked") == "1" {
		v.Notice = "The message was withdrawn from every recipient it could still be withdrawn from."
	}
	switch q.r.URL.Query().Get("done") {
	case "released":
		v.Notice = "The message was released from quarantine and is on its way."
	case "deleted":
		v.Notice = "The message was deleted from quarantine unsent; its content is destroyed."
	}
	if q.r.URL.Query().Get("held") == "gone" {
		v.Error = "This message is no longer held: it was already released or deleted."
	}
	return s.pages.render(q.w, http.StatusOK, "message", v)
}

// revoke withdraws a message through the portal service, as the API's revoke does.
func (s *Server) revoke(q *request) error {
	if err := s.require(q, "POST", "/v1/messages/{id}/revoke"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	_, err := s.Portal.Revoke(q.ctx, q.sess.TenantID, id, "", portal.Actor{Principal: "user:" + q.sess.UserID, Client: q.client()})
	if err != nil {
		if errors.Is(err, portal.ErrNotFound) {
			return store.ErrNotFound
		}
		return err
	}
	s.record(q, "POST /v1/messages/{id}/revoke", id, "200")
	http.Redirect(q.w, q.r, "/app/messages/"+id+"?revoked=1", http.StatusSeeOther)
	return nil
}
