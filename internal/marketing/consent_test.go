package marketing

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// TestConsentLifecycle: recording checks what an authorisation must state; the scope
// limits personalisation field by field; revocation and expiry write events and audit
// entries; records outlive their contact for the retention period.
func TestConsentLifecycle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.fields(t, e.tid, Field{Name: "first_name", Type: TypeString}, Field{Name: "diagnosis", Type: TypeString})
		sha := strings.Repeat("0f", 32)

		// An authorisation without expiry or evidence is refused, every problem at once.
		_, err := e.svc.RecordConsent(ctx, e.tid, &ConsentInput{Email: "x", Kind: "hipaa_authorization", Purposes: []string{"Marketing!"},
			Fields: []string{"nope"}, ObtainedVia: "signed_form"})
		var ie *InvalidError
		if !errors.As(err, &ie) {
			t.Fatalf("got %v", err)
		}
		var paths []string
		for _, f := range ie.Fields {
			paths = append(paths, f.Field)
		}
		if want := []string{"email", "purposes[0]", "fields[0]", "evidence_hash", "expires_at"}; !slices.Equal(paths, want) {
			t.Fatalf("problems at %v, want %v", paths, want)
		}

		id, err := e.svc.RecordConsent(ctx, e.tid, &ConsentInput{Email: "Pat@Example.org", Kind: "hipaa_authorization", Purposes: []string{"marketing"},
			Fields: []string{"first_name"}, ObtainedVia: "signed_form", EvidenceHash: sha, ExpiryEvent: "end_of_treatment", Remuneration: true})
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.ContactByEmail(ctx, e.tid, "pat@example.org")
		if err != nil {
			t.Fatal("the consent did not create its contact:", err)
		}
		path := func(f string) string {
			if f == "" {
				return "marketing"
			}
			return "marketing.personalisation." + f
		}
		if err := e.svc.CheckPersonalisation(ctx, e.tid, c.ID, "hipaa_authorization", "marketing", []string{"first_name"}, path); err != nil {
			t.Fatalf("an allowed field was refused: %v", err)
		}
		err = e.svc.CheckPersonalisation(ctx, e.tid, c.ID, "hipaa_authorization", "marketing", []string{"first_name", "diagnosis"}, path)
		if !errors.As(err, &ie) || len(ie.Fields) != 1 || ie.Fields[0].Field != "marketing.personalisation.diagnosis" {
			t.Fatalf("personalising outside the scope: %v", err)
		}
		// Another tenant cannot see or revoke it.
		if _, err := e.svc.GetConsent(ctx, e.tid2, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant reads the consent: %v", err)
		}
		if _, err := e.svc.RevokeConsent(ctx, e.tid2, id, "api", nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant revokes the consent: %v", err)
		}

		// The expiry event ends it: the check fails, an event and an audit entry say so.
		ids, err := e.svc.FireExpiryEvent(ctx, e.tid, c.ID, "end_of_treatment", nil)
		if err != nil || len(ids) != 1 || ids[0] != id {
			t.Fatalf("fired: %v %v", ids, err)
		}
		if err := e.svc.CheckPersonalisation(ctx, e.tid, c.ID, "hipaa_authorization", "marketing", nil, path); !errors.As(err, &ie) || ie.Fields[0].Field != "marketing" {
			t.Fatalf("an expired authorisation still counts: %v", err)
		}
		// A second one, revoked.
		id2, err := e.svc.RecordConsent(ctx, e.tid, &ConsentInput{Email: "pat@example.org", Kind: "hipaa_authorization", Purposes: []string{"marketing"},
			ObtainedVia: "signed_form", EvidenceHash: sha, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.RevokeConsent(ctx, e.tid, id2, "phone", nil)
		if err != nil || v.State != "revoked" || v.RevokedVia != "phone" {
			t.Fatalf("revoke: %+v %v", v, err)
		}
		evs, err := e.db.Events(ctx, store.EventFilter{TenantID: e.tid, Types: []string{"consent.expired", "consent.revoked"}})
		if err != nil || len(evs) != 2 || evs[0].Type != "consent.expired" || evs[0].RecipientID != id || evs[1].Type != "consent.revoked" || evs[1].RecipientID != id2 {
			t.Fatalf("events: %v %v", evs, err)
		}
		aud, err := e.db.AuditEntries(ctx, store.AuditFilter{TenantID: e.tid})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range aud {
			if strings.HasPrefix(a.Action, "marketing.consent.") {
				actions = append(actions, a.Action)
			}
		}
		if want := []string{"marketing.consent.record", "marketing.consent.expire", "marketing.consent.record", "marketing.consent.revoke"}; !slices.Equal(actions, want) {
			t.Fatalf("audit: %v, want %v", actions, want)
		}

		// A date expiry is marked by the sweep, with its event.
		id3, err := e.svc.RecordConsent(ctx, e.tid, &ConsentInput{Email: "pat@example.org", Kind: "email_opt_in", Purposes: []string{"newsletter"},
			ObtainedVia: "web_form", ObtainedAt: time.Now().Add(-time.Hour), ExpiresAt: time.Now().Add(-time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.ExpireDue(ctx); err != nil || n != 1 {
			t.Fatalf("swept %d, %v", n, err)
		}
		if v, _ := e.svc.GetConsent(ctx, e.tid, id3); v.State != "expired" || v.ExpiredAt.IsZero() {
			t.Fatalf("swept record: %+v", v)
		}

		// Deleting the contact keeps its records, sealed, for six years.
		if err := e.svc.DeleteContact(ctx, e.tid, c.ID, nil); err != nil {
			t.Fatal(err)
		}
		cs, err := e.svc.Consents(ctx, e.tid, c.ID)
		if err != nil || len(cs) != 3 {
			t.Fatalf("records after deletion: %d %v", len(cs), err)
		}
		if got := cs[0].RetainUntil.Sub(cs[0].ContactDeletedAt); got < 6*365*24*time.Hour || cs[0].Email != "Pat@example.org" || !cs[0].Remuneration {
			t.Fatalf("kept record: %+v", cs[0])
		}
		e.svc.Now = func() time.Time { return time.Now().AddDate(6, 0, 2) }
		if n, err := e.svc.PurgeExpiredRecords(ctx); err != nil || n != 3 {
			t.Fatalf("purged %d, %v", n, err)
		}
	})
}

// TestSuppressionScopes: a marketing suppression leaves transactional mail alone; the
// first reason stays; entries list and remove per tenant.
func TestSuppressionScopes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if err := e.svc.Suppress(ctx, e.tid, "Pat@Example.org", "complaint", ScopeMarketing); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Suppress(ctx, e.tid, "pat@example.org", "unsubscribed", ScopeMarketing); err != nil {
			t.Fatal(err)
		}
		if r, _ := e.svc.IsSuppressed(ctx, e.tid, "pat@example.org", ScopeMarketing); r != "complaint" {
			t.Fatalf("reason %q", r)
		}
		if r, _ := e.svc.IsSuppressed(ctx, e.tid, "pat@example.org", ScopeTransactional); r != "" {
			t.Fatal("a marketing complaint suppressed transactional mail")
		}
		if r, _ := e.svc.IsSuppressed(ctx, e.tid2, "pat@example.org", ScopeMarketing); r != "" {
			t.Fatal("suppression leaked to another tenant")
		}
		err := e.svc.Suppress(ctx, e.tid, "bad", "because", "everything")
		var ie *InvalidError
		if !errors.As(err, &ie) || len(ie.Fields) != 3 {
			t.Fatalf("invalid suppression: %v", err)
		}
		ls, err := e.svc.Suppressions(ctx, e.tid, "", 0, 10)
		if err != nil || len(ls) != 1 || ls[0].Email != "Pat@example.org" || ls[0].Reason != "complaint" {
			t.Fatalf("list: %+v %v", ls, err)
		}
		if err := e.svc.RemoveSuppression(ctx, e.tid2, "pat@example.org", ScopeMarketing, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another tenant removed it: %v", err)
		}
		if err := e.svc.RemoveSuppression(ctx, e.tid, "pat@example.org", ScopeMarketing, nil); err != nil {
			t.Fatal(err)
		}
		if r, _ := e.svc.IsSuppressed(ctx, e.tid, "pat@example.org", ScopeMarketing); r != "" {
			t.Fatal("still suppressed")
		}
	})
}

// TestNoFieldValueInClear writes canary values into every kind of field, list and
// topic name and consent, then searches the SQLite files (database, WAL) for them.
func TestNoFieldValueInClear(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "canary.db"))
	e.fields(t, e.tid, Field{Name: "diagnosis", Type: TypeString, Filterable: true}, Field{Name: "notes", Type: TypeList, Filterable: true},
		Field{Name: "dob", Type: TypeDate, Filterable: true}, Field{Name: "a1c", Type: TypeNumber, Filterable: true})
	canaries := []string{"CanaryDiagnosisZq", "CanaryNoteXv", "canary-patient-7q", "CanaryListNm", "CanaryTopicKp"}
	if _, _, err := e.svc.PutContact(ctx, e.tid, &ContactInput{Email: "canary-patient-7q@example.org",
		Fields: map[string]any{"diagnosis": canaries[0], "notes": []any{canaries[1]}, "dob": "1961-04-23", "a1c": 7.25}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateList(ctx, e.tid, &List{Name: canaries[3]}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateTopic(ctx, e.tid, &Topic{Name: canaries[4]}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordConsent(ctx, e.tid, &ConsentInput{Email: "canary-patient-7q@example.org", Kind: "email_opt_in", Purposes: []string{"news"}, ObtainedVia: "web_form"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Suppress(ctx, e.tid, "canary-patient-7q@example.org", "manual", ScopeMarketing); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(e.path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range append(canaries, "1961-04-23", "7.25") {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(c))) {
				t.Errorf("%s holds %q in the clear", filepath.Base(f), c)
			}
		}
	}
}
