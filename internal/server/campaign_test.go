package server_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// testClock is the campaign scheduler's clock, moved by the test.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func campaignOptions(c *testClock) func(*server.Options) {
	return func(o *server.Options) { o.CampaignClock, o.CampaignTick = c.Now, 20*time.Millisecond }
}

// audience makes n contacts c00000@patient.example … on one list (imported as CSV,
// 500 rows a transaction) and gives those for which consented says so a live
// email_opt_in consent allowing first_name. It returns the list's id and the
// contact ids by address.
func (e *env) audience(n int, consented func(i int) bool) (string, map[string]string) {
	e.t.Helper()
	if s, out := e.do("POST", "/v1/contact-fields", e.key, map[string]any{"name": "first_name", "type": "string"}); s != 201 {
		e.t.Fatalf("field: %d %v", s, out)
	}
	s, ls := e.do("POST", "/v1/lists", e.key, map[string]any{"name": "Clinic news"})
	if s != 201 {
		e.t.Fatalf("list: %d %v", s, ls)
	}
	list := ls["id"].(string)
	var csv strings.Builder
	csv.WriteString("email,first_name\n")
	for i := range n {
		fmt.Fprintf(&csv, "c%05d@%s,Pat%d\n", i, patientDomain, i)
	}
	if s, out := e.do("POST", "/v1/contacts/import?list="+list, e.key, csv.String()); s != 200 {
		e.t.Fatalf("import: %d %v", s, out)
	}
	ctx := context.Background()
	ids := map[string]string{}
	after := ""
	for {
		cs, err := e.srv.Marketing.ListContacts(ctx, e.tenant, after, 500)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, c := range cs {
			ids[c.Email] = c.ID
		}
		if len(cs) < 500 {
			break
		}
		after = cs[len(cs)-1].ID
	}
	if len(ids) != n {
		e.t.Fatalf("%d contacts stored, want %d", len(ids), n)
	}
	// Consents in parallel: their commits share transactions.
	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_, err := e.srv.Marketing.RecordConsent(ctx, e.tenant, &marketing.ConsentInput{Email: addr(i), Kind: "email_opt_in",
					Purposes: []string{"marketing"}, Fields: []string{"first_name"}, ObtainedVia: "web_form"})
				if err != nil {
					failed.Store(err)
				}
			}
		}()
	}
	for i := range n {
		if consented(i) {
			work <- i
		}
	}
	close(work)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		e.t.Fatal(err)
	}
	return list, ids
}

func addr(i int) string { return fmt.Sprintf("c%05d@%s", i, patientDomain) }

// marketer makes a second API key with the marketing scope: a second person's
// credential, which may approve what the first one wrote.
func (e *env) marketer() string {
	e.t.Helper()
	secret, _, err := e.srv.Tenants.CreateKey(context.Background(), e.tenant, tenant.KeyOptions{Name: "approver", Scopes: []string{tenant.ScopeMarketing}})
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// startCampaign creates a campaign with e.key, approves it with approver and
// schedules it.
func (e *env) startCampaign(approver string, spec map[string]any) string {
	e.t.Helper()
	s, c := e.do("POST", "/v1/campaigns", e.key, spec)
	if s != 201 {
		e.t.Fatalf("create: %d %v", s, c)
	}
	id := c["id"].(string)
	if s, out := e.do("POST", "/v1/campaigns/"+id+"/approve", approver, nil); s != 200 {
		e.t.Fatalf("approve: %d %v", s, out)
	}
	if s, out := e.do("POST", "/v1/campaigns/"+id+"/schedule", e.key, nil); s != 200 {
		e.t.Fatalf("schedule: %d %v", s, out)
	}
	return id
}

func (e *env) report(id string) map[string]any {
	e.t.Helper()
	s, r := e.do("GET", "/v1/campaigns/"+id+"/report", e.key, nil)
	if s != 200 {
		e.t.Fatalf("report: %d %v", s, r)
	}
	return r
}

// counts reads a campaign's recipient counts straight from the store: cheap enough
// to poll while thousands of messages go out.
func (e *env) counts(id string) *store.CampaignCounts {
	e.t.Helper()
	c, err := e.srv.DB.CountCampaignRecipients(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) state(id string) string {
	e.t.Helper()
	c, err := e.srv.DB.Campaign(context.Background(), e.tenant, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.State
}

func num(m map[string]any, path ...string) int {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	f, _ := v.(float64)
	return int(f)
}

// waitFor polls cond until it holds or the time is up.
func (e *env) waitFor(what string, within time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			logs := e.logs.String()
			if len(logs) > 4000 {
				logs = logs[len(logs)-4000:]
			}
			e.t.Fatalf("timed out waiting for %s\n%s", what, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// receivedBy counts delivered copies per recipient address.
func (e *env) receivedBy() map[string]int {
	got := map[string]int{}
	for _, m := range e.rcv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	return got
}

// TestCampaignApprovalAndValidation: every problem of a campaign is reported at once
// with its field path; its creator cannot approve it; a second credential with the
// marketing scope can; actions the state does not allow are 409.
func TestCampaignApprovalAndValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		clock := newTestClock()
		e := newEnv(t, dbURL, envOptions{options: campaignOptions(clock)})
		list, _ := e.audience(3, func(int) bool { return true })
		s, out := e.do("POST", "/v1/campaigns", e.key, map[string]any{"name": "", "from": "news@elsewhere.example", "subject": "Hi {{diagnosis}}",
			"lists": []string{"lst_missing"}, "consent": map[string]any{"kind": "fax"}, "schedule": map[string]any{"send_at": "2027-01-05T09:00", "time_zone": "Mars/Base"},
			"throttle_per_hour": -1, "ab": map[string]any{"percent": 1, "wait_for": "soon"}})
		want := []string{"name", "from", "subject.{{diagnosis}}", "text", "lists[0]", "consent.kind", "schedule.time_zone", "throttle_per_hour", "ab.percent", "ab.wait_for", "ab.variants"}
		got := errorsOf(out)
		for _, w := range want {
			if !strings.Contains(" "+got, " "+w+" ") {
				t.Errorf("problem %q not reported: %d %s", w, s, got)
			}
		}
		spec := map[string]any{"name": "Flu shots", "from": "news@clinic.example", "subject": "Flu shots, {{first_name}}", "text": "Book now. {{unsubscribe_url}}",
			"lists": []string{list}, "schedule": map[string]any{"send_at": "2026-01-05T09:00", "time_zone": "America/Chicago"}}
		s, c := e.do("POST", "/v1/campaigns", e.key, spec)
		if s != 201 || c["state"] != "draft" {
			t.Fatalf("create: %d %v", s, c)
		}
		id := c["id"].(string)
		if s, out := e.do("POST", "/v1/campaigns/"+id+"/schedule", e.key, nil); s != 409 {
			t.Fatalf("schedule before approval: %d %v", s, out)
		}
		if s, out := e.do("POST", "/v1/campaigns/"+id+"/approve", e.key, nil); s != 403 || !strings.Contains(errorsOf(out), "approved_by") {
			t.Fatalf("approval by the creator: %d %v", s, out)
		}
		// A test send goes before approval, to a named address, and counts nowhere.
		if s, out := e.do("POST", "/v1/campaigns/"+id+"/test", e.key, map[string]any{"to": []string{"marketer@" + patientDomain}}); s != 202 {
			t.Fatalf("test send: %d %v", s, out)
		}
		approver := e.marketer()
		if s, out := e.do("POST", "/v1/campaigns/"+id+"/approve", approver, nil); s != 200 || out["state"] != "approved" {
			t.Fatalf("approval by a second credential: %d %v", s, out)
		}
		if s, out := e.do("POST", "/v1/campaigns/"+id+"/schedule", e.key, nil); s != 200 || (out["state"] != "scheduled" && out["state"] != "running") {
			t.Fatalf("schedule: %d %v", s, out)
		}
		e.waitFor("the campaign to finish", 20*time.Second, func() bool { return e.report(id)["state"] == "finished" })
		e.waitFor("three deliveries and the test copy", 20*time.Second, func() bool { return len(e.rcv.Messages()) == 4 })
		r := e.report(id)
		if num(r, "recipients", "sent") != 3 {
			t.Fatalf("report: %v", r)
		}
		if s, out := e.do("POST", "/v1/campaigns/"+id+"/pause", e.key, nil); s != 409 {
			t.Fatalf("pause a finished campaign: %d %v", s, out)
		}
		// Conversions reported back count once per key.
		for range 2 {
			e.do("POST", "/v1/campaigns/"+id+"/conversions", e.key, map[string]any{"value": 2500, "idempotency_key": "order-1"})
		}
		if s, out := e.do("POST", "/v1/campaigns/"+id+"/conversions", e.key, map[string]any{"value": -1}); s != 422 || !strings.Contains(errorsOf(out), "value") {
			t.Fatalf("negative conversion: %d %v", s, out)
		}
		if r := e.report(id); num(r, "conversions") != 1 || num(r, "conversion_value") != 2500 {
			t.Fatalf("conversions: %v", r)
		}
		// The campaign's messages carry its id as their campaign label.
		span := "&from=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + "&to=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		s, st := e.do("GET", "/v1/stats?group_by=campaign"+span, e.key, nil)
		if s != 200 || !strings.Contains(fmt.Sprint(st), id) {
			t.Fatalf("stats by campaign: %d %v", s, st)
		}
	})
}

// campaignTestSize is the audience of TestCampaignTenThousand: 10,000 unless
// SEALPOST_CAMPAIGN_TEST_RECIPIENTS says otherwise (a multiple of 100).
func campaignTestSize(t *testing.T) int {
	if v := os.Getenv("SEALPOST_CAMPAIGN_TEST_RECIPIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 || n%100 != 0 {
			t.Fatalf("SEALPOST_CAMPAIGN_TEST_RECIPIENTS=%q: want a multiple of 100, at least 1000", v)
		}
		return n
	}
	return 10000
}

// TestCampaignTenThousand: 10,000 consented contacts, 100 suppressed and 100 without
// consent; throttled at 100 a second by a clock the test moves. The receiver sees
// each consented recipient exactly once and no other; revoking consent for 100
// recipients mid-run stops exactly those: 50 not yet sent (skipped when built) and
// 50 whose messages were stored and are being retried (stopped when their delivery
// is claimed, with a "suppressed" event).
func TestCampaignTenThousand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		total := campaignTestSize(t)
		suppressed, unconsented, refused, step := total/100, total/100, total/20, total/20
		revokeEach := total / 200
		// Generous: the machine running the suite may be busy.
		within := 30*time.Second + time.Duration(total)*30*time.Millisecond
		clock := newTestClock()
		var accept atomic.Bool
		// The first addresses are refused (451) until the revocations are made: a
		// revoked one among them must then be stopped by the claim-time check.
		respond := func(rcpt string, attempt int) *smtp.SMTPError {
			var i int
			if _, err := fmt.Sscanf(rcpt, "c%05d@", &i); err == nil && i < refused && !accept.Load() {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			}
			return nil
		}
		// Journaling every message is tested elsewhere; here it would only add time.
		e := newEnv(t, dbURL, envOptions{options: campaignOptions(clock), respond: respond, quiet: true, configure: func(c *config.Config) { c.Archive.Journal = false }})
		start := time.Now()
		list, ids := e.audience(total+suppressed+unconsented, func(i int) bool { return i < total+suppressed })
		for i := total; i < total+suppressed; i++ {
			if err := e.srv.Marketing.Suppress(context.Background(), e.tenant, addr(i), "manual", marketing.ScopeMarketing); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("audience of %d made in %v", len(ids), time.Since(start).Round(time.Millisecond))
		id := e.startCampaign(e.marketer(), map[string]any{"name": "Annual check-up", "from": "news@clinic.example",
			"subject": "Time for your check-up, {{first_name}}", "text": "Book online. Unsubscribe: {{unsubscribe_url}}",
			"lists": []string{list}, "throttle_per_hour": 360000}) // 100 a second
		e.waitFor("the campaign to start", within, func() bool { return e.state(id) == "running" })
		ctx := context.Background()
		sent := func() int { return e.counts(id).ByStatus["sent"] }
		// The throttle: each second of credit is 100 messages, and no more.
		clock.Add(time.Duration(step) * 10 * time.Millisecond)
		e.srv.Campaigns.Wake()
		e.waitFor("the first step sent", within, func() bool { return sent() >= step })
		time.Sleep(200 * time.Millisecond)
		if n := sent(); n != step {
			t.Fatalf("%d credits at 100/s sent %d", step, n)
		}
		sixty := total * 6 / 10
		clock.Add(time.Duration(sixty-step) * 10 * time.Millisecond)
		e.srv.Campaigns.Wake()
		e.waitFor("60 % sent", within, func() bool { return sent() >= sixty })
		if n := sent(); n != sixty {
			t.Fatalf("at 100/s, %d sent, want %d", n, sixty)
		}
		// Revoke: some being retried (sent, among the refused addresses) and as many
		// not yet sent.
		pending, err := e.srv.DB.PendingCampaignRecipients(ctx, id, []string{""}, total)
		if err != nil {
			t.Fatal(err)
		}
		isPending := map[string]bool{}
		for _, r := range pending {
			isPending[r.ContactID] = true
		}
		revoked := map[string]bool{}
		inFlight, notSent := 0, 0
		for i := 0; i < total && (inFlight < revokeEach || notSent < revokeEach); i++ {
			cid := ids[addr(i)]
			switch {
			case i < refused && !isPending[cid] && inFlight < revokeEach:
				inFlight++
			case i >= refused && isPending[cid] && notSent < revokeEach:
				notSent++
			default:
				continue
			}
			revoked[addr(i)] = true
			cs, err := e.srv.Marketing.Consents(ctx, e.tenant, cid)
			if err != nil || len(cs) != 1 {
				t.Fatalf("consents of %s: %v %v", cid, cs, err)
			}
			if _, err := e.srv.Marketing.RevokeConsent(ctx, e.tenant, cs[0].ID, "letter", nil); err != nil {
				t.Fatal(err)
			}
		}
		if inFlight != revokeEach || notSent != revokeEach {
			t.Fatalf("chose %d in flight and %d unsent", inFlight, notSent)
		}
		accept.Store(true)
		clock.Add(time.Minute)
		e.srv.Campaigns.Wake()
		e.waitFor("the campaign to finish", within, func() bool { return e.state(id) == "finished" })
		e.waitFor("every delivery to end", within, func() bool {
			st, err := e.srv.DB.CampaignRecipientStatuses(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return st["delivered"]+st["suppressed"] == total-notSent
		})
		got := e.receivedBy()
		for i := range total + suppressed + unconsented {
			a := addr(i)
			want := 1
			if i >= total || revoked[a] {
				want = 0
			}
			if got[a] != want {
				t.Errorf("%s received %d copies, want %d", a, got[a], want)
			}
		}
		r := e.report(id)
		t.Logf("report: %v; %v in all", r, time.Since(start).Round(time.Millisecond))
		if num(r, "skipped", "no_consent") != notSent || num(r, "deliveries", "suppressed") != inFlight {
			t.Fatalf("revocations: %v", r)
		}
		if evs := e.events("type=suppressed&limit=500"); len(evs) != inFlight {
			t.Fatalf("%d suppressed events, want %d", len(evs), inFlight)
		}
	})
}

// TestCampaignComplaintsPause: complaints above 0.3 % of delivered messages pause
// the campaign, with a campaign.paused event and an audit entry; at 0.3 % it runs.
func TestCampaignComplaintsPause(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		clock := newTestClock()
		e := newEnv(t, dbURL, envOptions{options: campaignOptions(clock), quiet: true})
		list, _ := e.audience(1500, func(int) bool { return true })
		id := e.startCampaign(e.marketer(), map[string]any{"name": "Newsletter", "from": "news@clinic.example", "subject": "News", "text": "Hello",
			"lists": []string{list}, "throttle_per_hour": 60000})
		e.waitFor("the campaign to start", 10*time.Second, func() bool { return e.state(id) == "running" })
		clock.Add(time.Minute) // 1,000 messages
		e.srv.Campaigns.Wake()
		e.waitFor("1,000 delivered", 30*time.Second, func() bool { return num(e.report(id), "deliveries", "delivered") == 1000 })
		ctx := context.Background()
		complain := func(n int) {
			// Feedback reports arrive as "complained" events on the campaign's
			// messages; injected here on delivered ones.
			_, out := e.do("GET", "/v1/events?type=delivered&limit=100", e.key, nil)
			evs := out["events"].([]any)
			err := e.srv.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				for _, v := range evs[:n] {
					ev := v.(map[string]any)
					if err := tx.InsertEvents(ctx, &store.Event{TenantID: e.tenant, MessageID: ev["message_id"].(string), RecipientID: ev["recipient_id"].(string), Type: "complained", At: time.Now()}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		complain(3) // 0.3 %: not above
		e.srv.Campaigns.Wake()
		time.Sleep(200 * time.Millisecond)
		if st := e.report(id)["state"]; st != "running" {
			t.Fatalf("paused at 0.3 %%: %v", st)
		}
		_, out := e.do("GET", "/v1/events?type=delivered&limit=100", e.key, nil)
		evs := out["events"].([]any)
		err := e.srv.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			ev := evs[50].(map[string]any)
			return tx.InsertEvents(ctx, &store.Event{TenantID: e.tenant, MessageID: ev["message_id"].(string), RecipientID: ev["recipient_id"].(string), Type: "complained", At: time.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		e.srv.Campaigns.Wake()
		e.waitFor("the guard to pause the campaign", 10*time.Second, func() bool { return e.report(id)["state"] == "paused" })
		clock.Add(time.Minute)
		e.srv.Campaigns.Wake()
		time.Sleep(200 * time.Millisecond)
		if n := num(e.report(id), "recipients", "sent"); n != 1000 {
			t.Fatalf("%d sent after the pause", n)
		}
		if evs := e.events("type=campaign.paused"); len(evs) != 1 {
			t.Fatalf("campaign.paused events: %v", evs)
		}
		_, au := e.do("GET", "/v1/audit?action=campaign.pause", e.key, nil)
		if !strings.Contains(fmt.Sprint(au), "complaints 4 of 1000") {
			t.Fatalf("no audit entry for the pause")
		}
		_, c := e.do("GET", "/v1/campaigns/"+id, e.key, nil)
		if !strings.Contains(fmt.Sprint(c["paused_reason"]), "complaints 4 of 1000") {
			t.Fatalf("reason: %v", c["paused_reason"])
		}
	})
}

// TestCampaignABHumanClicks: a 30 % sample split between two subjects; variant A
// gets many scanner clicks, one human click and many human opens, variant B three
// human clicks. After the wait, B — more people clicked it — goes to the rest.
func TestCampaignABHumanClicks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		clock := newTestClock()
		e := newEnv(t, dbURL, envOptions{options: campaignOptions(clock), quiet: true})
		const n = 200
		list, _ := e.audience(n, func(int) bool { return true })
		id := e.startCampaign(e.marketer(), map[string]any{"name": "Subject test", "from": "news@clinic.example", "subject": "Base", "text": "Hello",
			"lists": []string{list}, "ab": map[string]any{"percent": 30, "wait_for": "1h", "variants": []any{
				map[string]any{"subject": "Subject A"}, map[string]any{"subject": "Subject B"}}}})
		var a, b, rest int
		e.waitFor("the sample to be sent", 30*time.Second, func() bool {
			c := e.counts(id)
			a, b, rest = c.Variants["a"], c.Variants["b"], c.Variants["rest"]
			return a+b+rest == n && c.ByVariant["a"] == a && c.ByVariant["b"] == b
		})
		e.waitFor("the sample to be delivered", 30*time.Second, func() bool {
			st, _ := e.srv.DB.CampaignRecipientStatuses(context.Background(), id)
			return st["delivered"] == a+b
		})
		if a < 5 || b < 5 {
			t.Fatalf("sample too small: a %d, b %d", a, b)
		}
		ctx := context.Background()
		da, _ := e.srv.DB.CampaignDeliveries(ctx, id, "a", 100)
		db, _ := e.srv.DB.CampaignDeliveries(ctx, id, "b", 100)
		var evs []*store.Event
		ev := func(d *store.CampaignDelivery, typ, class string) {
			evs = append(evs, &store.Event{TenantID: e.tenant, MessageID: d.MessageID, RecipientID: d.RecipientID, Type: typ, Class: class, At: time.Now()})
		}
		for i, d := range da {
			ev(d, "clicked", "machine") // a link scanner follows every link
			ev(d, "opened", "human")
			if i == 0 {
				ev(d, "clicked", "human")
			}
		}
		for _, d := range db[:3] {
			ev(d, "clicked", "human")
		}
		if err := e.srv.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertEvents(ctx, evs...) }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if c := e.counts(id); c.ByStatus["pending"] != rest {
			t.Fatalf("the rest went before the wait: %v", c.ByStatus)
		}
		clock.Add(2 * time.Hour)
		e.srv.Campaigns.Wake()
		e.waitFor("the campaign to finish", 30*time.Second, func() bool { return e.state(id) == "finished" })
		r := e.report(id)
		if r["ab_winner"] != "b" || num(r, "human_clicks", "a") != 1 || num(r, "human_clicks", "b") != 3 || num(r, "machine_clicks", "a") != len(da) {
			t.Fatalf("report: %v", r)
		}
		e.waitFor("every message delivered", 30*time.Second, func() bool { return len(e.rcv.Messages()) == n })
		subjects := map[string]int{}
		for _, m := range e.rcv.Messages() {
			for _, s := range []string{"Subject A", "Subject B", "Base"} {
				if strings.Contains(string(m.Data), "Subject: "+s+"\r\n") {
					subjects[s]++
				}
			}
		}
		if subjects["Subject A"] != a || subjects["Subject B"] != b+rest || subjects["Base"] != 0 {
			t.Fatalf("subjects %v; a %d, b %d, rest %d", subjects, a, b, rest)
		}
	})
}
