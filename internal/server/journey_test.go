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

// testClock is the journeys' clock, moved by the test instead of waiting days.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// journeyEnv is a server whose journeys run on a test clock, with a marketing
// audience ready: a first_name field and an opted-in contact per address.
type journeyEnv struct {
	*env
	clock *testClock
}

func newJourneyEnv(t *testing.T, dbURL string) *journeyEnv {
	clk := &testClock{t: time.Now().UTC()}
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
			line := m["step"].(string) + " " + num(m["entered"]) + " " + num(m["sent"]) + " " + num(m["delivered"]) + " " + num(m["human_clicks"])
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

func num(v any) string {
	f, _ := v.(float64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}
