package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestSunsetPolicy: with a 30-day sunset policy, of four contacts — (a) mailed long
// ago and a person clicked recently, (b) mailed long ago and only a privacy proxy and
// a scanner opened or clicked, (c) never engaged but first mailed within 30 days, (d)
// never engaged and mailed long ago — only (b) and (d) are suppressed, for marketing
// only: a transactional message to them is still delivered. A second sweep changes
// nothing.
func TestSunsetPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{quiet: true})
		ctx := context.Background()
		list, ids := e.audience(4, func(int) bool { return true })
		addr := func(i int) string { return fmt.Sprintf("c%05d@%s", i, patientDomain) }

		// Validation: the field path, the range.
		for _, bad := range []any{map[string]any{"days": -1}, map[string]any{"days": 4000}} {
			if s, out := e.do("PUT", "/v1/marketing/sunset", e.key, bad); s != 422 || !strings.Contains(errorsOf(out), "days") {
				t.Fatalf("bad sunset %v: %d %v", bad, s, out)
			}
		}
		if s, out := e.do("PUT", "/v1/marketing/sunset", e.key, map[string]any{"days": 30}); s != 200 || out["days"] != float64(30) {
			t.Fatalf("set sunset: %d %v", s, out)
		}
		if s, out := e.do("GET", "/v1/marketing/sunset", e.key, nil); s != 200 || out["days"] != float64(30) {
			t.Fatalf("get sunset: %d %v", s, out)
		}

		send := func(i int) string {
			t.Helper()
			s, out := e.do("POST", "/v1/marketing/messages", e.key, map[string]any{"from": "news@clinic.example", "contact": ids[addr(i)], "list": list,
				"subject": "News", "text": "Hello"})
			if s/100 != 2 {
				t.Fatalf("marketing send to %d: %d %v", i, s, out)
			}
			id := out["id"].(string)
			e.waitFinal(id)
			return id
		}
		msgs := make([]string, 4)
		for i := range msgs {
			msgs[i] = send(i)
		}
		rcpt := map[string]string{}
		_, out := e.do("GET", "/v1/events?type=delivered&limit=100", e.key, nil)
		for _, v := range out["events"].([]any) {
			ev := v.(map[string]any)
			rcpt[ev["message_id"].(string)] = ev["recipient_id"].(string)
		}
		// (a), (b) and (d) were first mailed 40 days ago; (c) just now.
		old := time.Now().Add(-40 * 24 * time.Hour).UnixMilli()
		for _, i := range []int{0, 1, 3} {
			if _, err := e.srv.DB.SQL().ExecContext(ctx, "UPDATE messages SET created_at = $1 WHERE id = $2", old, msgs[i]); err != nil {
				t.Fatal(err)
			}
		}
		hit := func(i int, typ, class string, at time.Time) {
			err := e.srv.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return tx.InsertEvents(ctx, &store.Event{TenantID: e.tenant, MessageID: msgs[i], RecipientID: rcpt[msgs[i]], Type: typ, Class: class, At: at})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		hit(0, "clicked", "human", now.Add(-2*24*time.Hour))
		hit(1, "opened", "proxy", now.Add(-time.Hour))
		hit(1, "clicked", "machine", now.Add(-time.Hour))
		hit(3, "opened", "human", now.Add(-35*24*time.Hour)) // a person, but before the window

		n, err := e.srv.Marketing.SweepSunset(ctx, e.tenant)
		if err != nil || n != 2 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		for i, want := range []string{"", "sunset", "", "sunset"} {
			got, err := e.srv.Marketing.IsSuppressed(ctx, e.tenant, addr(i), "marketing")
			if err != nil || got != want {
				t.Fatalf("contact %d: suppressed %q, want %q (%v)", i, got, want, err)
			}
			if got, _ := e.srv.Marketing.IsSuppressed(ctx, e.tenant, addr(i), "transactional"); got != "" {
				t.Fatalf("contact %d suppressed for transactional mail: %q", i, got)
			}
		}
		if n, err := e.srv.Marketing.SweepSunset(ctx, e.tenant); err != nil || n != 0 {
			t.Fatalf("second sweep: %d %v", n, err)
		}
		_, au := e.do("GET", "/v1/audit?action=marketing.sunset.suppress", e.key, nil)
		if s := fmt.Sprint(au); !strings.Contains(s, "2 contacts") || strings.Contains(s, patientDomain) {
			t.Fatalf("audit: %v", au)
		}
		if s, out := e.do("POST", "/v1/marketing/messages", e.key, map[string]any{"from": "news@clinic.example", "contact": ids[addr(3)], "list": list,
			"subject": "News", "text": "Hello"}); s != 422 || !strings.Contains(errorsOf(out), "marketing.contact") {
			t.Fatalf("marketing send after sunset: %d %v", s, out)
		}
		s, out := e.do("POST", "/v1/messages", e.key, map[string]any{"from": "care@clinic.example", "to": addr(3), "subject": "Your appointment", "text": "See you Tuesday"})
		if s/100 != 2 {
			t.Fatalf("transactional send: %d %v", s, out)
		}
		e.waitFinal(out["id"].(string))
		if got := e.rcv.Messages(); len(got) != 5 {
			t.Fatalf("%d messages delivered, want 5", len(got))
		}
	})
}
