package forms

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"
)

// ConsentRecorder records a marketing authorisation or opt-in that a form obtained.
// The marketing capability implements it; the server wires it in.
type ConsentRecorder interface {
	RecordConsent(ctx context.Context, tenantID string, in ConsentInput) (recordID string, err error)
}

// ConsentInput is one consent obtained through a form.
type ConsentInput struct {
	Address       string    // the address consented for
	Kind          string    // hipaa_marketing_authorisation | email_opt_in
	Purposes      []string  // the scope
	FieldsAllowed []string  // names of fields marketing may use
	Values        []Value   // those fields' values as submitted
	Statement     string    // the text the submitter agreed to
	EvidenceHash  [32]byte  // SHA-256 of the signed submission (Evidence)
	FormID        string    // obtained via this form
	SubmissionID  string    // and this submission
	At            time.Time // when it was submitted
	ExpiresAt     time.Time // zero: none (then ExpiryEvent ends it)
	ExpiryEvent   string
}

// Evidence is the signed submission whose SHA-256 is the evidence hash: what was
// shown, what was agreed, what was sent, and when. Its JSON encoding is canonical
// (fixed field order, values in the form's order).
type Evidence struct {
	FormID       string    `json:"form_id"`
	SubmissionID string    `json:"submission_id"`
	At           time.Time `json:"at"`
	Kind         string    `json:"kind,omitempty"`
	Statement    string    `json:"statement,omitempty"`
	Purposes     []string  `json:"purposes,omitempty"`
	Agreed       bool      `json:"agreed"`
	Values       []Value   `json:"values"`
}

// Hash is SHA-256 of the canonical encoding.
func (e *Evidence) Hash() [32]byte {
	b, _ := json.Marshal(e)
	return sha256.Sum256(b)
}
