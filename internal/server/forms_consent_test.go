package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestFormConsentRecord follows a form's consent block into marketing's consent
// records: an authorisation without an end is refused at creation, and a submission
// with the box ticked records a HIPAA authorisation whose evidence hash is the signed
// submission's, with the form's scope and expiry; without the box, nothing is recorded.
func TestFormConsentRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		// full_name is a contact field, so the authorisation may let it personalise;
		// visit is not, so it stays out of the scope.
		if s, out := e.do("POST", "/v1/contact-fields", e.key, map[string]any{"name": "full_name", "type": "string"}); s/100 != 2 {
			t.Fatalf("contact field: %d %v", s, out)
		}
		def := intakeForm()
		block := map[string]any{"kind": "hipaa_marketing_authorisation", "statement": "You may send me reminders about my care.",
			"purposes": []string{"appointment_reminders"}, "fields_allowed": []string{"full_name", "visit"}, "email_field": "email"}
		def["consent"] = block
		if s, out := e.do("POST", "/v1/forms", e.key, def); s != 400 || !strings.Contains(toJSON(out), "consent.expires_after_days") {
			t.Fatalf("authorisation without an end: %d %v", s, out)
		}
		block["expires_after_days"] = 365
		s, out := e.do("POST", "/v1/forms", e.key, def)
		if s != 201 {
			t.Fatalf("create: %d %v", s, out)
		}
		formID, link := out["id"].(string), out["url"].(string)

		v := newVisitor(t)
		send := func(email string, ticked bool) {
			p := v.get(link)
			time.Sleep(1100 * time.Millisecond) // the form's time to fill
			f := map[string]string{"csrf": csrfOf(t, p.body), "full_name": "Pat Doe", "email": email, "born": "1980-04-23",
				"reason": "Check-up", "visit": "Video", "agree": "on"}
			if ticked {
				f["consent"] = "on"
			}
			if q := postForm(v, link, f, nil); q.status != 303 { // on to the confirmation
				t.Fatalf("submit: %d\n%s", q.status, q.body)
			}
		}
		send("pat@patient.example", true)
		send("sam@patient.example", false)

		s, out = e.do("GET", "/v1/forms/"+formID+"/submissions", e.key, nil)
		if s != 200 {
			t.Fatalf("submissions: %d %v", s, out)
		}
		subs := out["submissions"].([]any)
		if len(subs) != 2 {
			t.Fatalf("%d submissions", len(subs))
		}
		var consentID, evidence string
		for _, x := range subs {
			sub := x.(map[string]any)
			if id, _ := sub["consent_id"].(string); id != "" {
				if consentID != "" {
					t.Fatal("two consents recorded; one box was ticked")
				}
				consentID, evidence = id, sub["evidence_hash"].(string)
			}
		}
		if consentID == "" || len(evidence) != 64 {
			t.Fatalf("no consent recorded from the ticked submission: %v", subs)
		}
		s, c := e.do("GET", "/v1/consents/"+consentID, e.key, nil)
		if s != 200 {
			t.Fatalf("consent: %d %v", s, c)
		}
		exp, _ := time.Parse(time.RFC3339, c["expires_at"].(string))
		if c["kind"] != "hipaa_authorization" || c["email"] != "pat@patient.example" || c["evidence_hash"] != evidence ||
			c["obtained_via"] != "signed_form" || toJSON(c["fields"]) != `["full_name"]` || toJSON(c["purposes"]) != `["appointment_reminders"]` ||
			exp.Before(time.Now().AddDate(0, 0, 364)) || exp.After(time.Now().AddDate(0, 0, 366)) {
			t.Fatalf("consent record: %v", c)
		}
	})
}
