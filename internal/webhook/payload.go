package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Payload is the body of one delivery: thin, ids and facts only. It carries no content,
// no subject, no SMTP reply text (replies often quote the address) and the recipient's
// address only when the endpoint allows it. Metadata is the sender's own and is
// documented as not for PHI.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Data      `json:"data"`
}

// Data is the payload's detail.
type Data struct {
	EventID       string            `json:"event_id"`
	Sequence      int64             `json:"sequence"` // grows with every event: orders a message's events
	MessageID     string            `json:"message_id,omitempty"`
	RecipientID   string            `json:"recipient_id,omitempty"`
	Recipient     string            `json:"recipient,omitempty"`
	Status        string            `json:"status,omitempty"`
	SMTPCode      int               `json:"smtp_code,omitempty"`
	EnhancedCode  string            `json:"enhanced_code,omitempty"`
	Attempt       int               `json:"attempt,omitempty"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	Campaign      string            `json:"campaign,omitempty"`
	Tags          []string          `json:"tags,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	Sandbox       bool              `json:"sandbox,omitempty"`
	Security      *Security         `json:"security,omitempty"`
	Portal        *Portal           `json:"portal,omitempty"`
	Endpoint      *EndpointNote     `json:"endpoint,omitempty"`
	// Tracking: who opened or clicked (human, proxy, machine) and why it was so judged.
	Class       string      `json:"class,omitempty"`
	ClassReason string      `json:"class_reason,omitempty"`
	Access      *AccessNote `json:"access,omitempty"`
	Form        *FormNote   `json:"form,omitempty"`
}

// FormNote names the form and submission of a form.submitted event; never its values.
type FormNote struct {
	ID           string `json:"id"`
	SubmissionID string `json:"submission_id"`
}

// AccessNote says what an access.anomaly event found.
type AccessNote struct {
	CredentialID string `json:"credential_id"`
	Kind         string `json:"kind"` // volume | new_network
	Network      string `json:"network,omitempty"`
	Requests     int    `json:"requests,omitempty"`
	Suspended    bool   `json:"suspended"`
}

// Security is the evidence of a "secured" event.
type Security struct {
	Method              string   `json:"method"`
	TLSVersion          string   `json:"tls_version,omitempty"`
	TLSCipher           string   `json:"tls_cipher,omitempty"`
	CertificateVerified *bool    `json:"certificate_verified,omitempty"`
	MTASTS              string   `json:"mta_sts,omitempty"`
	DANE                bool     `json:"dane,omitempty"`
	KeyFingerprint      string   `json:"key_fingerprint,omitempty"`
	Signed              bool     `json:"signed,omitempty"`
	PortalMessageID     string   `json:"portal_message_id,omitempty"`
	Reasons             []string `json:"reasons,omitempty"`
}

// Portal identifies a portal copy.
type Portal struct {
	MessageID string     `json:"portal_message_id,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// EndpointNote names the endpoint a webhook.disabled event is about.
type EndpointNote struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// sealed is every field any event's sealed data may hold that a payload may show.
type sealed struct {
	Reply         string     `json:"smtp_reply"`
	Attempt       int        `json:"attempt"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	TLS           *struct {
		Version  string `json:"version"`
		Cipher   string `json:"cipher"`
		Verified bool   `json:"verified"`
		DANE     bool   `json:"dane"`
		MTASTS   string `json:"mta_sts"`
	} `json:"tls"`
	Method           string     `json:"method"`
	PGPFingerprint   string     `json:"pgp_fingerprint"`
	SMIMEFingerprint string     `json:"smime_fingerprint"`
	Signed           bool       `json:"signed"`
	PortalMessageID  string     `json:"portal_message_id"`
	ExpiresAt        *time.Time `json:"expires_at"`
	Reasons          []string   `json:"reasons"`
	EndpointID       string     `json:"endpoint_id"`
	Reason           string     `json:"reason"`
	Class            string     `json:"class"` // opened, clicked
	// access.anomaly
	CredentialID string `json:"credential_id"`
	Kind         string `json:"kind"`
	Network      string `json:"network"`
	Requests     int    `json:"requests"`
	Suspended    bool   `json:"suspended"`
	FormID       string `json:"form_id"`
	SubmissionID string `json:"submission_id"`
}

// statusOf is the recipient's status an event leaves behind.
var statusOf = map[string]string{"queued": "queued", "quarantined": "quarantined", "released": "queued", "deleted": "deleted",
	"deferred": "deferred", "delivered": "delivered", "bounced": "bounced", "expired": "expired", "dropped": "dropped", "revoked": "revoked"}

// RFC 5321 4.2 reply code, then an RFC 3463 enhanced code if present.
var replyCode = regexp.MustCompile(`^([2-5][0-9][0-9])[ -](?:([2-5]\.[0-9]{1,3}\.[0-9]{1,3})\b)?`)

// build makes the payload of one event for one endpoint.
func (s *Service) build(ctx context.Context, k *tenant.Keys, ev *store.Event, includeAddress bool) (*Payload, error) {
	p := &Payload{Type: ev.Type, Timestamp: ev.At, Data: Data{EventID: "ev_" + strconv.FormatInt(ev.ID, 10), Sequence: ev.ID,
		MessageID: ev.MessageID, RecipientID: ev.RecipientID, Status: statusOf[ev.Type], Sandbox: ev.Sandbox}}
	var d sealed
	if len(ev.Data) > 0 {
		b, err := k.Data.Open(ev.Data, "event/"+ev.RecipientID)
		if err != nil {
			return nil, err
		}
		_ = json.Unmarshal(b, &d) // shapes differ by type; what does not fit stays empty
	}
	if m := replyCode.FindStringSubmatch(d.Reply); m != nil {
		p.Data.SMTPCode, _ = strconv.Atoi(m[1])
		p.Data.EnhancedCode = m[2]
	}
	switch ev.Type {
	case "deferred", "delivered", "bounced", "expired":
		p.Data.Attempt, p.Data.NextAttemptAt = d.Attempt, d.NextAttemptAt
	case "secured":
		sec := &Security{Method: d.Method, KeyFingerprint: d.PGPFingerprint + d.SMIMEFingerprint, Signed: d.Signed,
			PortalMessageID: d.PortalMessageID, Reasons: d.Reasons}
		if d.TLS != nil {
			v := d.TLS.Verified
			sec.TLSVersion, sec.TLSCipher, sec.CertificateVerified, sec.MTASTS, sec.DANE = d.TLS.Version, d.TLS.Cipher, &v, d.TLS.MTASTS, d.TLS.DANE
		}
		p.Data.Security = sec
	case "webhook.disabled":
		p.Data.Endpoint = &EndpointNote{ID: d.EndpointID, Reason: d.Reason}
	case "opened", "clicked":
		p.Data.Class, p.Data.ClassReason = d.Class, d.Reason
	case "access.anomaly":
		p.Data.Access = &AccessNote{CredentialID: d.CredentialID, Kind: d.Kind, Network: d.Network, Requests: d.Requests, Suspended: d.Suspended}
	case "form.submitted":
		p.Data.Form = &FormNote{ID: d.FormID, SubmissionID: d.SubmissionID}
	}
	if d.PortalMessageID != "" && ev.Type != "secured" {
		p.Data.Portal = &Portal{MessageID: d.PortalMessageID, ExpiresAt: d.ExpiresAt}
	}
	if ev.MessageID == "" {
		return p, nil
	}
	sealedEnv, err := s.DB.MessageEnvelope(ctx, ev.TenantID, ev.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil // deleted since: the ids are all there is to say
	}
	if err != nil {
		return nil, err
	}
	// Tags and campaign live sealed in the envelope; the row holds only their hashes.
	if b, err := k.Data.Open(sealedEnv, "message/"+ev.MessageID+"/envelope"); err == nil {
		var env pipeline.Envelope
		if json.Unmarshal(b, &env) == nil {
			p.Data.Metadata, p.Data.Tags, p.Data.Campaign = env.Metadata, env.Tags, env.Campaign
		}
	}
	if includeAddress && ev.RecipientID != "" {
		r, err := s.DB.Recipient(ctx, ev.RecipientID)
		if err != nil {
			return nil, err
		}
		if a, err := k.Data.Open(r.Address, "recipient/"+r.ID); err == nil {
			p.Data.Recipient = string(a)
		}
	}
	return p, nil
}
