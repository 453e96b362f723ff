package server_test

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// journeyClock is the journeys' clock, moved by the test instead of waiting days.
type journeyClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *journeyClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *journeyClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// journeyEnv is a server whose journeys run on a test clock, with a marketing
// audience ready: a first_name field and an opted-in contact per address.
type journeyEnv struct {
	*env
	clock *journeyClock
}

func newJourneyEnv(t testing.TB, dbURL string) *journeyEnv {
	clk := &journeyClock{t: time.Now().UTC()}
	e := newEnv(t, dbURL, envOptions{options: func(o *server.Options) { o.JourneyClock = clk.Now }})
	je := &journeyEnv{env: e, clock: clk}
	je.must(e.do("POST", "/v1/contact-fields", e.key, map[string]any{"name": "first_name", "type": "string"}))
	return je
}

func (je *journeyEnv) must(status int, out map[string]any) map[string]any {
	je.t.Helper()
	if status/100 != 2 {
		je.t.Fatalf("status %d: %v", status, out)
	}
	return out
}

// contact adds an opted-in contact and returns its id.
func (je *journeyEnv) contact(email string, fields map[string]any) string {
	je.t.Helper()
	ct := je.must(je.do("POST", "/v1/contacts", je.key, map[string]any{"email": email, "fields": fields}))
	je.must(je.do("POST", "/v1/consents", je.key, map[string]any{"email": email, "kind": "email_opt_in", "purposes": []string{"marketing"},
		"fields": []string{"first_name"}, "obtained_via": "web_form"}))
	return ct["id"].(string)
}

// drain takes every due step now (the server's own loop does too, once a second).
func (je *journeyEnv) drain() {
	je.t.Helper()
	for range 20 {
		n, err := je.srv.Journeys.Tick(context.Background())
		if err != nil {
			je.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// subjects lists the subjects the receiver got per recipient, waiting until it has
// want messages in all (and a moment more, so an extra one would show).
func (je *journeyEnv) subjects(want int) map[string][]string {
	je.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(je.rcv.Messages()) < want && time.Now().Before(deadline) {
		je.drain()
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	out := map[string][]string{}
	for _, m := range je.rcv.Messages() {
		sm := regexp.MustCompile(`(?m)^Subject: (.*)\r$`).FindSubmatch(m.Data)
		for _, to := range m.To {
			out[to] = append(out[to], string(sm[1]))
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

var realClick = regexp.MustCompile(`href="([^"]*/t/c/[^"]+)">`)

// click follows the tracked link of the message to rcpt as agent would.
func (je *journeyEnv) click(rcpt, agent string) {
	je.t.Helper()
	m := messageTo(je.rcv, rcpt)
	if m == nil {
		je.t.Fatalf("nothing delivered to %s", rcpt)
	}
	link := realClick.FindStringSubmatch(decodedParts(je.t.(*testing.T), m.Data))
	if link == nil {
		je.t.Fatalf("no tracked link in the message to %s", rcpt)
	}
	req, _ := http.NewRequest("GET", link[1], nil)
	req.Header.Set("User-Agent", agent)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		je.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		je.t.Fatalf("click: %d", resp.StatusCode)
	}
}

const browserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

// clickJourney: a welcome with a tracked link, two days' wait, then a branch on a
// human click within three days: "thanks" to those who clicked, "nudge" (then exit)
// to the others.
func clickJourney(event string) map[string]any {
	return map[string]any{
		"name": "Refill reminders", "trigger": map[string]any{"event": event}, "from": "care@clinic.example",
		"steps": []map[string]any{
			{"id": "hello", "type": "send", "subject": "Hello {{first_name}}", "text": "Order your refill: https://clinic.example/refill",
				"html": `<p>Hello {{first_name}}, <a href="https://clinic.example/refill">order your refill</a>.</p>`, "track": true},
			{"id": "pause", "type": "wait", "duration": "2d"},
			{"id": "check", "type": "branch", "if": map[string]any{"clicked": map[string]any{"step": "hello", "within": "3d"}}, "then": "thanks", "else": "nudge"},
			{"id": "nudge", "type": "send", "subject": "Reminder for {{first_name}}", "text": "Your refill is waiting."},
			{"id": "stop", "type": "exit"},
			{"id": "thanks", "type": "send", "subject": "Thanks {{first_name}}", "text": "We have your order."},
		}}
}

// TestJourneyEventWaitClickBranch: an event starts a run (the same idempotency key
// again starts nothing and answers the same run), the welcome goes out at once, the
// wait holds on the test clock, and the branch sends "thanks" only to the contact
// whose click was a person's: a scanner's click, and a click seconds after delivery,
// do not take it. The receiver sees exactly the expected mails, and the report and
// /v1/stats count each step.
func TestJourneyEventWaitClickBranch(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	storetest.Each(t, func(t *testing.T, dbURL string) {
		je := newJourneyEnv(t, dbURL)
		ann := je.contact("ann@"+patientDomain, map[string]any{"first_name": "Ann"})
		bob := je.contact("bob@"+patientDomain, map[string]any{"first_name": "Bob"})
		j := je.must(je.do("POST", "/v1/journeys", je.key, clickJourney("refill_due")))
		id := j["id"].(string)
		if j["state"] != "draft" {
			t.Fatalf("new journey: %v", j)
		}
		// A draft starts nothing.
		if s, out := je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": ann, "event": "refill_due", "idempotency_key": "evt-0"}); s != 200 || len(out["runs"].([]any)) != 0 {
			t.Fatalf("event for a draft: %d %v", s, out)
		}
		je.must(je.do("POST", "/v1/journeys/"+id+"/activate", je.key, nil))

		s, first := je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": ann, "event": "refill_due", "idempotency_key": "evt-1"})
		if s != 201 || len(first["runs"].([]any)) != 1 {
			t.Fatalf("event: %d %v", s, first)
		}
		s, again := je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": ann, "event": "refill_due", "idempotency_key": "evt-1"})
		runA := first["runs"].([]any)[0].(map[string]any)["id"]
		if s != 200 || again["runs"].([]any)[0].(map[string]any)["id"] != runA || again["started"] != false {
			t.Fatalf("the same event again: %d %v", s, again)
		}
		// Another event for a contact already in the journey does not restart it.
		if s, out := je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": ann, "event": "refill_due", "idempotency_key": "evt-2"}); s != 200 || out["runs"].([]any)[0].(map[string]any)["id"] != runA {
			t.Fatalf("a second event for a contact in the journey: %d %v", s, out)
		}
		je.must(je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": bob, "event": "refill_due", "idempotency_key": "evt-3"}))

		got := je.subjects(2)
		if len(got) != 2 || len(got["ann@"+patientDomain]) != 1 || got["bob@"+patientDomain][0] != "Hello Bob" {
			t.Fatalf("after the trigger: %v", got)
		}
		deliveredAt := time.Now()
		// Bob's link is followed by a scanner and, seconds after delivery, by
		// something claiming to be a browser: both machines.
		je.click("bob@"+patientDomain, "Mozilla/5.0 (compatible; Barracuda Sentinel)")
		je.click("bob@"+patientDomain, browserAgent)
		// Ann clicks as a person does, more than ten seconds after delivery.
		time.Sleep(time.Until(deliveredAt.Add(11 * time.Second)))
		je.click("ann@"+patientDomain, browserAgent)

		// One day on, the wait holds: nothing more is sent.
		je.clock.Add(24 * time.Hour)
		if got := je.subjects(2); len(got["ann@"+patientDomain])+len(got["bob@"+patientDomain]) != 2 {
			t.Fatalf("during the wait: %v", got)
		}
		// Past the wait: Ann clicked, so "thanks" at once; Bob's window is still open.
		je.clock.Add(24*time.Hour + time.Minute)
		got = je.subjects(3)
		if strings.Join(got["ann@"+patientDomain], "|") != "Hello Ann|Thanks Ann" || len(got["bob@"+patientDomain]) != 1 {
			t.Fatalf("after the wait: %v", got)
		}
		// Past Bob's window: the nudge, then the exit.
		je.clock.Add(24 * time.Hour)
		got = je.subjects(4)
		if strings.Join(got["bob@"+patientDomain], "|") != "Hello Bob|Reminder for Bob" || len(got["ann@"+patientDomain]) != 2 || len(je.rcv.Messages()) != 4 {
			t.Fatalf("after the window: %v", got)
		}
		_, runs := je.do("GET", "/v1/journeys/"+id+"/runs", je.key, nil)
		for _, r := range runs["runs"].([]any) {
			if r.(map[string]any)["state"] != "done" {
				t.Fatalf("runs: %v", runs)
			}
		}
		_, run := je.do("GET", "/v1/journey-runs/"+runA.(string), je.key, nil)
		var path []string
		for _, st := range run["steps"].([]any) {
			m := st.(map[string]any)
			path = append(path, m["step"].(string)+":"+m["outcome"].(string))
		}
		if strings.Join(path, " ") != "hello:sent pause:waited check:yes thanks:sent" {
			t.Fatalf("ann's path: %v", path)
		}

		// The report: per step, entered, sent, delivered and human clicks.
		var rep map[string]any
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, rep = je.do("GET", "/v1/journeys/"+id+"/report", je.key, nil)
			steps := rep["steps"].([]any)
			hello := steps[0].(map[string]any)
			if hello["delivered"] == 2.0 && steps[3].(map[string]any)["delivered"] == 1.0 && steps[5].(map[string]any)["delivered"] == 1.0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		want := []string{"hello 2 2 2 1", "pause 2 0 0 0", "check 2 0 0 0", "nudge 1 1 1 0", "stop 1 0 0 0", "thanks 1 1 1 0"}
		for i, st := range rep["steps"].([]any) {
			m := st.(map[string]any)
			line := m["step"].(string) + " " + numText(m["entered"]) + " " + numText(m["sent"]) + " " + numText(m["delivered"]) + " " + numText(m["human_clicks"])
			if line != want[i] {
				t.Fatalf("report step %d: %q, want %q (%v)", i, line, want[i], rep)
			}
		}
		if o := rep["steps"].([]any)[2].(map[string]any)["outcomes"].(map[string]any); o["yes"] != 1.0 || o["no"] != 1.0 {
			t.Fatalf("branch outcomes: %v", o)
		}
		from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		_, stats := je.do("GET", "/v1/stats?group_by=campaign&from="+from+"&to="+to, je.key, nil)
		labels := map[string]bool{}
		for _, g := range stats["groups"].([]any) {
			labels[g.(map[string]any)["label"].(string)] = true
		}
		if !labels["journey:"+id+":hello"] || !labels["journey:"+id+":thanks"] || !labels["journey:"+id+":nudge"] {
			t.Fatalf("stats by campaign: %v", stats)
		}
	})
}

func numText(v any) string {
	f, _ := v.(float64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// TestJourneyDateAndSegmentTriggers: a date-field trigger starts a run for the
// contact whose date plus the offset is today on the journeys' clock, once, and not
// for the others; a segment trigger starts runs for the members at its first scan
// and then only for contacts who enter, never again for one still inside.
func TestJourneyDateAndSegmentTriggers(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	storetest.Each(t, func(t *testing.T, dbURL string) {
		je := newJourneyEnv(t, dbURL)
		je.must(je.do("POST", "/v1/contact-fields", je.key, map[string]any{"name": "refill_on", "type": "date", "filterable": true}))
		je.must(je.do("POST", "/v1/contact-fields", je.key, map[string]any{"name": "score", "type": "number", "filterable": true}))
		today := je.clock.Now()
		due := je.contact("due@"+patientDomain, map[string]any{"first_name": "Dee", "refill_on": today.AddDate(0, 0, 3).Format(time.DateOnly), "score": 1})
		je.contact("later@"+patientDomain, map[string]any{"first_name": "Lee", "refill_on": today.AddDate(0, 0, 4).Format(time.DateOnly), "score": 2})
		high := je.contact("high@"+patientDomain, map[string]any{"first_name": "Hal", "score": 7})
		seg := je.must(je.do("POST", "/v1/segments", je.key, map[string]any{"name": "Engaged", "filter": map[string]any{"field": "score", "op": "gte", "value": 5}}))
		steps := []map[string]any{{"id": "hi", "type": "send", "subject": "Hi {{first_name}}", "text": "Hello."}}
		dated := je.must(je.do("POST", "/v1/journeys", je.key, map[string]any{"name": "Three days before", "from": "care@clinic.example",
			"trigger": map[string]any{"date_field": "refill_on", "offset_days": -3}, "steps": steps}))["id"].(string)
		segmented := je.must(je.do("POST", "/v1/journeys", je.key, map[string]any{"name": "Engaged", "from": "care@clinic.example",
			"trigger": map[string]any{"segment": seg["id"]}, "steps": steps}))["id"].(string)
		je.must(je.do("POST", "/v1/journeys/"+dated+"/activate", je.key, nil))
		je.must(je.do("POST", "/v1/journeys/"+segmented+"/activate", je.key, nil))
		runs := func(id string) []string {
			_, out := je.do("GET", "/v1/journeys/"+id+"/runs", je.key, nil)
			var cs []string
			for _, r := range out["runs"].([]any) {
				cs = append(cs, r.(map[string]any)["contact"].(string))
			}
			sort.Strings(cs)
			return cs
		}
		scan := func() {
			if _, err := je.srv.Journeys.Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		scan()
		scan() // a second scan the same day starts nothing more
		if got := runs(dated); len(got) != 1 || got[0] != due {
			t.Fatalf("date trigger runs: %v, want [%s]", got, due)
		}
		if got := runs(segmented); len(got) != 1 || got[0] != high {
			t.Fatalf("segment trigger runs: %v, want [%s]", got, high)
		}
		// Someone enters the segment: only they start.
		je.must(je.do("POST", "/v1/contacts", je.key, map[string]any{"email": "due@" + patientDomain, "fields": map[string]any{"score": 9}}))
		scan()
		if got := runs(segmented); len(got) != 2 || !strings.Contains(strings.Join(got, " "), due) {
			t.Fatalf("after entering the segment: %v", got)
		}
		// The next day the other contact's date comes round.
		je.clock.Add(24 * time.Hour)
		scan()
		if got := runs(dated); len(got) != 2 {
			t.Fatalf("date trigger runs the next day: %v", got)
		}
		// Two runs of each journey: four messages, one per run.
		got := je.subjects(4)
		if n := len(je.rcv.Messages()); n != 4 || len(got["due@"+patientDomain]) != 2 {
			t.Fatalf("%d messages, want 4: %v", n, got)
		}
	})
}

// TestJourneyDefinitionProblems: a definition with many mistakes is refused with
// every one named by its path, and a state change its state forbids is a 409.
func TestJourneyDefinitionProblems(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	storetest.Each(t, func(t *testing.T, dbURL string) {
		je := newJourneyEnv(t, dbURL)
		s, out := je.do("POST", "/v1/journeys", je.key, map[string]any{"name": "", "from": "not an address",
			"trigger": map[string]any{"event": "a b", "segment": "seg_x"},
			"steps": []map[string]any{
				{"id": "One", "type": "send", "text": "x"},
				{"id": "w", "type": "wait", "duration": "-1d"},
				{"id": "b", "type": "branch", "if": map[string]any{"clicked": map[string]any{"within": "3d"}}, "then": "w", "else": "nowhere"},
				{"id": "f", "type": "branch", "if": map[string]any{"field": map[string]any{"field": "nope", "op": "eq", "value": 1}}},
				{"id": "w", "type": "teleport"},
			}})
		fields := errorsOf(out)
		for _, f := range []string{"name", "from", "trigger", "steps[0].id", "steps[0].subject", "steps[1].duration", "steps[2].then", "steps[2].else",
			"steps[2].if.clicked.step", "steps[3].if.field.field", "steps[4].id", "steps[4].type"} {
			if !strings.Contains(" "+fields, " "+f+" ") {
				t.Errorf("no problem for %s in %q", f, fields)
			}
		}
		if s != 422 {
			t.Fatalf("status %d", s)
		}
		if s, out := je.do("POST", "/v1/journeys", je.key, map[string]any{"name": "x", "from": "a@clinic.example", "trigger": map[string]any{"event": "e"}, "steps": []any{map[string]any{"id": "a", "type": "exit", "colour": "red"}}}); s != 400 && s != 422 || !strings.Contains(errorsOf(out), "steps[0].colour") {
			t.Fatalf("unknown field: %d %v", s, out)
		}
		j := je.must(je.do("POST", "/v1/journeys", je.key, clickJourney("e")))
		if s, out := je.do("POST", "/v1/journeys/"+j["id"].(string)+"/pause", je.key, nil); s != 409 {
			t.Fatalf("pausing a draft: %d %v", s, out)
		}
		if s, out := je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": "ct_nope", "event": "e"}); s != 422 || !strings.Contains(errorsOf(out), "idempotency_key") || !strings.Contains(errorsOf(out), "contact") {
			t.Fatalf("bad event: %d %v", s, out)
		}
	})
}

// TestJourneyStopsWhenConsentIsRevoked: a contact whose consent is revoked between two
// sends gets the first and not the second; the run stops, naming the check that
// refused it and nothing of the contact; a paused journey holds its runs until it is
// active again.
func TestJourneyStopsWhenConsentIsRevoked(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	storetest.Each(t, func(t *testing.T, dbURL string) {
		je := newJourneyEnv(t, dbURL)
		kim := je.contact("kim@"+patientDomain, map[string]any{"first_name": "Kim"})
		lou := je.contact("lou@"+patientDomain, map[string]any{"first_name": "Lou"})
		id := je.must(je.do("POST", "/v1/journeys", je.key, map[string]any{"name": "Two", "from": "care@clinic.example", "trigger": map[string]any{"event": "two"},
			"steps": []any{
				map[string]any{"id": "one", "type": "send", "subject": "One for {{first_name}}", "text": "1"},
				map[string]any{"id": "wait", "type": "wait", "duration": "1d"},
				map[string]any{"id": "two", "type": "send", "subject": "Two for {{first_name}}", "text": "2"}}}))["id"].(string)
		je.must(je.do("POST", "/v1/journeys/"+id+"/activate", je.key, nil))
		runs := map[string]string{}
		for _, c := range []string{kim, lou} {
			out := je.must(je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": c, "event": "two", "idempotency_key": c}))
			runs[c] = out["runs"].([]any)[0].(map[string]any)["id"].(string)
		}
		if got := je.subjects(2); len(got) != 2 {
			t.Fatalf("first sends: %v", got)
		}
		_, cs := je.do("GET", "/v1/consents?contact="+kim, je.key, nil)
		list, _ := cs["consents"].([]any)
		if len(list) != 1 {
			t.Fatalf("kim's consents: %v", cs)
		}
		je.must(je.do("POST", "/v1/consents/"+list[0].(map[string]any)["id"].(string)+"/revoke", je.key, map[string]any{"via": "phone"}))
		// Paused over the wait: nothing moves, even past it.
		je.must(je.do("POST", "/v1/journeys/"+id+"/pause", je.key, nil))
		je.clock.Add(25 * time.Hour)
		if got := je.subjects(2); len(je.rcv.Messages()) != 2 {
			t.Fatalf("while paused: %v", got)
		}
		je.must(je.do("POST", "/v1/journeys/"+id+"/activate", je.key, nil))
		got := je.subjects(3)
		if len(je.rcv.Messages()) != 3 || len(got["kim@"+patientDomain]) != 1 || strings.Join(got["lou@"+patientDomain], "|") != "One for Lou|Two for Lou" {
			t.Fatalf("after revoking kim's consent: %v", got)
		}
		_, run := je.do("GET", "/v1/journey-runs/"+runs[kim], je.key, nil)
		reason, _ := run["reason"].(string)
		if run["state"] != "stopped" || !strings.Contains(reason, "marketing.consent") || strings.Contains(reason, "kim") {
			t.Fatalf("kim's run: %v", run)
		}
		if _, run := je.do("GET", "/v1/journey-runs/"+runs[lou], je.key, nil); run["state"] != "done" {
			t.Fatalf("lou's run: %v", run)
		}
	})
}
