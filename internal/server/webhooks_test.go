package server_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// verifier is the independent webhook receiver in internal/webhook/testdata/verifier:
// Node, the standardwebhooks library for v1 and Node's Ed25519 for v1a.
type verifier struct {
	t    *testing.T
	base string
}

type hookCall struct {
	At        int64  `json:"at"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Signature string `json:"signature"`
	Body      string `json:"body"`
	V1        []bool `json:"v1"`
	V1a       bool   `json:"v1a"`
	Status    int    `json:"status"`
}

func (r hookCall) payload(t *testing.T) (typ string, data map[string]any) {
	var p struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		t.Fatalf("payload not JSON: %v", err)
	}
	return p.Type, p.Data
}

func startVerifier(t *testing.T) *verifier {
	t.Helper()
	dir, _ := filepath.Abs("../webhook/testdata/verifier")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("need node (scripts/deps.sh installs it)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		t.Fatalf("need the verifier's packages: run scripts/deps.sh (npm ci in %s)", dir)
	}
	cmd := exec.Command("node", "receiver.mjs")
	cmd.Dir = dir
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("verifier did not start: %v", err)
	}
	return &verifier{t: t, base: "http://127.0.0.1:" + strings.TrimSpace(port)}
}

func (v *verifier) configure(c map[string]any) {
	v.t.Helper()
	b, _ := json.Marshal(c)
	resp, err := http.Post(v.base+"/config", "application/json", strings.NewReader(string(b)))
	if err != nil || resp.StatusCode != 204 {
		v.t.Fatalf("configure verifier: %v %v", err, resp)
	}
	resp.Body.Close()
}

func (v *verifier) log() []hookCall {
	v.t.Helper()
	resp, err := http.Get(v.base + "/log")
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []hookCall
	if err := json.Unmarshal(b, &out); err != nil {
		v.t.Fatalf("verifier log: %v", err)
	}
	return out
}

// waitFor polls the verifier's log until cond holds.
func (v *verifier) waitFor(what string, d time.Duration, cond func([]hookCall) bool) []hookCall {
	v.t.Helper()
	deadline := time.Now().Add(d)
	for {
		l := v.log()
		if cond(l) {
			return l
		}
		if time.Now().After(deadline) {
			for _, r := range l {
				v.t.Logf("received %s %s", r.ID, r.Body)
			}
			v.t.Fatalf("%s: not within %s; received %d deliveries", what, d, len(l))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func fastWebhooks(o *server.Options) {
	o.WebhookLoopback = true
	o.WebhookRetry = []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, 900 * time.Millisecond}
	o.WebhookTimeout = time.Second
}

func (e *env) addWebhook(body map[string]any) (id, secret, publicKey string) {
	e.t.Helper()
	st, out := e.do("POST", "/v1/webhooks", e.key, body)
	if st != 201 {
		e.t.Fatalf("create webhook: %d %v", st, out)
	}
	_, key := e.do("GET", "/v1/webhooks/signing-key", e.key, nil)
	return out["id"].(string), out["secret"].(string), key["public_key"].(string)
}

func TestWebhooksVerifiedIndependently(t *testing.T) {
	t.Parallel() // its own server, database and verifier process; it mostly waits on retries
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{options: fastWebhooks})
		v := startVerifier(t)
		id, secret, pub := e.addWebhook(map[string]any{"url": v.base + "/hook", "description": "EHR feed"})
		v.configure(map[string]any{"secrets": []string{secret}, "public_key": pub})

		const canary = "CANARY7731"
		st, sent := e.send(e.key, map[string]any{"from": "Clinic <results@clinic.example>", "to": []string{"pat." + strings.ToLower(canary) + "@" + patientDomain},
			"subject": "Result " + canary, "text": "Body " + canary, "tags": []string{"results"}, "metadata": map[string]string{"order": "17"}})
		if st != 202 {
			t.Fatalf("send: %d %v", st, sent)
		}
		msgID := sent["id"].(string)
		e.waitFinal(msgID)
		log := v.waitFor("accepted, queued, delivered and secured", 5*time.Second, func(l []hookCall) bool {
			seen := map[string]bool{}
			for _, r := range l {
				typ, _ := r.payload(t)
				seen[typ] = true
			}
			return seen["accepted"] && seen["queued"] && seen["delivered"] && seen["secured"]
		})
		evs := e.events("message=" + msgID)
		at := map[string]time.Time{}
		for _, ev := range evs {
			ts, _ := time.Parse(time.RFC3339Nano, ev["at"].(string))
			at[ev["id"].(string)] = ts
		}
		seen := map[string]bool{}
		for _, r := range log {
			if len(r.V1) != 1 || !r.V1[0] || !r.V1a {
				t.Errorf("delivery %s: v1 %v, v1a %v (signature %q)", r.ID, r.V1, r.V1a, r.Signature)
			}
			typ, data := r.payload(t)
			seen[typ] = true
			if data["event_id"] != r.ID || data["message_id"] != msgID {
				t.Errorf("%s: webhook-id %s, data %v", typ, r.ID, data)
			}
			if strings.Contains(strings.ToLower(r.Body), strings.ToLower(canary)) || strings.Contains(r.Body, patientDomain) {
				t.Errorf("%s payload carries content or the address: %s", typ, r.Body)
			}
			if typ == "delivered" || typ == "secured" {
				if lag := time.UnixMilli(r.At).Sub(at[r.ID]); lag > time.Second {
					t.Errorf("%s reached the endpoint %s after the event", typ, lag)
				}
			}
			if typ == "delivered" && (data["smtp_code"] != float64(250) || data["status"] != "delivered") {
				t.Errorf("delivered payload: %v", data)
			}
			if typ == "secured" {
				sec, _ := data["security"].(map[string]any)
				if sec["method"] != "tls" || sec["tls_version"] == "" || sec["certificate_verified"] != true {
					t.Errorf("secured payload: %v", data)
				}
			}
			if tags, _ := data["tags"].([]any); len(tags) != 1 || tags[0] != "results" {
				t.Errorf("%s tags: %v", typ, data["tags"])
			}
		}
		for _, want := range []string{"accepted", "queued", "delivered", "secured"} {
			if !seen[want] {
				t.Errorf("no %s delivery; saw %v", want, seen)
			}
		}
		// Attempts are logged without the URL or the answer; the log holds no canary.
		// The receiver may answer before the attempt is recorded: give it a moment.
		var atts map[string]any
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, atts = e.do("GET", "/v1/webhooks/"+id+"/attempts", e.key, nil)
			if len(atts["attempts"].([]any)) >= len(log) || time.Now().After(deadline) {
				break
			}
		}
		raw, _ := json.Marshal(atts)
		if len(atts["attempts"].([]any)) < len(log) || strings.Contains(string(raw), canary) || strings.Contains(string(raw), v.base) {
			t.Errorf("attempts: %s", raw)
		}
		for _, l := range strings.Split(e.logs.String(), "\n") {
			if strings.Contains(l, `"part":"webhook"`) && strings.Contains(l, `"level":"ERROR"`) {
				t.Errorf("webhook error: %s", l)
			}
		}
		if strings.Contains(e.logs.String(), canary) || strings.Contains(strings.ToLower(e.logs.String()), strings.ToLower(canary)) {
			t.Error("the server log holds the canary")
		}
		// With include_address on, the recipient's address is carried.
		if st, _ := e.do("PATCH", "/v1/webhooks/"+id, e.key, map[string]any{"include_address": true}); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		_, sent = e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"pat@" + patientDomain}, "subject": "x", "text": "y"})
		v.waitFor("address carried", 5*time.Second, func(l []hookCall) bool {
			for _, r := range l {
				if _, d := r.payload(t); d["message_id"] == sent["id"] && d["recipient"] == "pat@"+patientDomain {
					return true
				}
			}
			return false
		})
	})
}

func TestWebhookRetriesRedirectsGoneAndTimeouts(t *testing.T) {
	t.Parallel() // its own server, database and verifier process; it mostly waits on retries
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{options: fastWebhooks})
		v := startVerifier(t)
		id, secret, _ := e.addWebhook(map[string]any{"url": v.base + "/hook", "types": []string{"accepted"}})
		v.configure(map[string]any{"secrets": []string{secret}, "statuses": []int{500, 500, 200}})
		_, sent := e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"a@" + patientDomain}, "subject": "x", "text": "y"})
		v.waitFor("three attempts", 5*time.Second, func(l []hookCall) bool { return len(l) >= 3 })
		time.Sleep(700 * time.Millisecond) // room for a wrong fourth attempt
		log := v.log()
		if len(log) != 3 || log[0].ID != log[2].ID || log[2].Status != 200 {
			t.Fatalf("want 500, 500, 200 for one event; got %d deliveries %+v", len(log), log)
		}
		if gap := log[1].At - log[0].At; gap < 250 {
			t.Errorf("first retry after %d ms, want the schedule's 300 ms", gap)
		}
		if gap := log[2].At - log[1].At; gap < 500 {
			t.Errorf("second retry after %d ms, want the schedule's 600 ms", gap)
		}
		_, atts := e.do("GET", "/v1/webhooks/"+id+"/attempts", e.key, nil)
		var outcomes []string
		for _, a := range atts["attempts"].([]any) {
			outcomes = append(outcomes, a.(map[string]any)["outcome"].(string))
		}
		if strings.Join(outcomes, ",") != "delivered,retrying,retrying" {
			t.Errorf("attempt log (newest first): %v", outcomes)
		}
		_ = sent

		// A redirect is a failure and is not followed.
		v.configure(map[string]any{"statuses": []int{302, 204}})
		e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"b@" + patientDomain}, "subject": "x", "text": "y"})
		log = v.waitFor("redirect then success", 5*time.Second, func(l []hookCall) bool { return len(l) >= 5 })
		if log[3].Status != 302 || log[4].ID != log[3].ID {
			t.Errorf("after a 302: %+v", log[3:])
		}

		// A receiver that never answers is cut at the timeout and retried.
		v.configure(map[string]any{"hang": true})
		start := time.Now()
		e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"c@" + patientDomain}, "subject": "x", "text": "y"})
		v.waitFor("a retry after the timeout", 5*time.Second, func(l []hookCall) bool { return len(l) >= 7 })
		if d := time.Since(start); d < time.Second {
			t.Errorf("retried after %s: the first attempt was not left to time out", d)
		}
		_, atts = e.do("GET", "/v1/webhooks/"+id+"/attempts?limit=1", e.key, nil)
		if a := atts["attempts"].([]any)[0].(map[string]any); a["error"] != "timed out" || a["status"] != float64(0) {
			t.Errorf("timed-out attempt: %v", a)
		}
		v.configure(map[string]any{"hang": false, "statuses": []int{410}})
		time.Sleep(1500 * time.Millisecond) // the hung request's retry meets the 410

		// 410 disables the endpoint, with an event and an audit entry.
		e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"d@" + patientDomain}, "subject": "x", "text": "y"})
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, ep := e.do("GET", "/v1/webhooks/"+id, e.key, nil)
			if ep["enabled"] == false {
				if ep["disabled_reason"] != "answered 410 Gone" {
					t.Errorf("disabled reason %v", ep["disabled_reason"])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("410 did not disable the endpoint")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if evs := e.events("type=webhook.disabled"); len(evs) != 1 {
			t.Errorf("webhook.disabled events: %v", evs)
		}
		_, au := e.do("GET", "/v1/audit?action=webhook.disabled", e.key, nil)
		if entries, _ := au["entries"].([]any); len(entries) != 1 {
			t.Errorf("audit entries for the disable: %v", au)
		}
		n := len(v.log())
		e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"e@" + patientDomain}, "subject": "x", "text": "y"})
		time.Sleep(500 * time.Millisecond)
		if len(v.log()) != n {
			t.Error("a disabled endpoint was still called")
		}
		if st, _ := e.do("POST", "/v1/webhooks/"+id+"/replay", e.key, map[string]any{"since": time.Now().Add(-time.Hour)}); st != 409 {
			t.Errorf("replay to a disabled endpoint: %d", st)
		}
	})
}

func TestWebhookRotationReplayAndValidation(t *testing.T) {
	t.Parallel() // its own server, database and verifier process; it mostly waits on retries
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{options: fastWebhooks})
		v := startVerifier(t)
		id, oldSecret, _ := e.addWebhook(map[string]any{"url": v.base + "/hook", "types": []string{"accepted"}})
		st, rot := e.do("POST", "/v1/webhooks/"+id+"/rotate", e.key, map[string]any{"overlap": "2s"})
		if st != 200 {
			t.Fatalf("rotate: %d %v", st, rot)
		}
		newSecret := rot["secret"].(string)
		v.configure(map[string]any{"secrets": []string{oldSecret, newSecret}})
		e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"a@" + patientDomain}, "subject": "x", "text": "y"})
		log := v.waitFor("delivery during overlap", 5*time.Second, func(l []hookCall) bool { return len(l) >= 1 })
		if !log[0].V1[0] || !log[0].V1[1] {
			t.Errorf("during the overlap both secrets must verify: %v", log[0].V1)
		}
		time.Sleep(2100 * time.Millisecond)
		e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"b@" + patientDomain}, "subject": "x", "text": "y"})
		log = v.waitFor("delivery after overlap", 5*time.Second, func(l []hookCall) bool { return len(l) >= 2 })
		if log[1].V1[0] || !log[1].V1[1] {
			t.Errorf("after the overlap only the new secret may verify: %v", log[1].V1)
		}

		// Replay: the same event again, with the same webhook-id.
		st, out := e.do("POST", "/v1/webhooks/"+id+"/replay", e.key, map[string]any{"event_id": log[0].ID})
		if st != 202 || out["queued"] != float64(1) {
			t.Fatalf("replay: %d %v", st, out)
		}
		log = v.waitFor("replayed", 5*time.Second, func(l []hookCall) bool { return len(l) >= 3 })
		if log[2].ID != log[0].ID || log[2].Body != log[0].Body {
			t.Errorf("replay carried %s %s, want %s", log[2].ID, log[2].Body, log[0].ID)
		}

		// The test delivery reports the receiver's answer.
		st, out = e.do("POST", "/v1/webhooks/"+id+"/test", e.key, nil)
		if st != 200 || out["ok"] != true {
			t.Errorf("test delivery: %d %v", st, out)
		}

		// Bad settings are named by field, all at once.
		st, out = e.do("POST", "/v1/webhooks", e.key, map[string]any{"url": "http://hooks.example.org/x", "types": []string{"delivered", "deliverd"}, "description": strings.Repeat("x", 501)})
		if st != 422 {
			t.Fatalf("bad webhook: %d %v", st, out)
		}
		var fields []string
		for _, f := range out["errors"].([]any) {
			fields = append(fields, f.(map[string]any)["field"].(string))
		}
		if strings.Join(fields, " ") != "url types[1] description" {
			t.Errorf("fields %v", fields)
		}
		if st, out := e.do("POST", "/v1/webhooks", e.key, map[string]any{"url": "https://x.example", "secret": "mine"}); st != 400 {
			t.Errorf("unknown field: %d %v", st, out)
		}
		// Another tenant sees nothing of this endpoint.
		_, other := e.addTenant("other", "other.example")
		for _, p := range []string{"/v1/webhooks/" + id, "/v1/webhooks/" + id + "/attempts"} {
			if st, _ := e.do("GET", p, other, nil); st != 404 {
				t.Errorf("other tenant GET %s: %d", p, st)
			}
		}
		if _, l := e.do("GET", "/v1/webhooks", other, nil); len(l["webhooks"].([]any)) != 0 {
			t.Error("other tenant lists the endpoint")
		}
		if st, _ := e.do("DELETE", "/v1/webhooks/"+id, e.key, nil); st != 204 {
			t.Errorf("delete: %d", st)
		}
	})
}

// An endpoint that fails every attempt for the disable period is switched off, with an
// event and an audit entry (5 days in production; a second here).
func TestWebhookFailingEndpointIsDisabled(t *testing.T) {
	t.Parallel() // its own server, database and verifier process; it mostly waits on retries
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{options: func(o *server.Options) {
			fastWebhooks(o)
			o.WebhookRetry = []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
			o.WebhookDisableAfter = time.Second
		}})
		v := startVerifier(t)
		id, _, _ := e.addWebhook(map[string]any{"url": v.base + "/hook", "types": []string{"accepted"}})
		v.configure(map[string]any{"statuses": []int{503}})
		e.send(e.key, map[string]any{"from": "results@clinic.example", "to": []string{"a@" + patientDomain}, "subject": "x", "text": "y"})
		deadline := time.Now().Add(8 * time.Second)
		for {
			_, ep := e.do("GET", "/v1/webhooks/"+id, e.key, nil)
			if ep["enabled"] == false {
				if ep["disabled_reason"] != "every attempt failed for 1s" {
					t.Errorf("reason %v", ep["disabled_reason"])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still enabled after failing past the limit: %v", ep)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := len(e.events("type=webhook.disabled")); n != 1 {
			t.Errorf("%d webhook.disabled events", n)
		}
		// Enabling again clears the failure state.
		if st, ep := e.do("PATCH", "/v1/webhooks/"+id, e.key, map[string]any{"enabled": true}); st != 200 || ep["failing_since"] != nil || ep["disabled_reason"] != nil {
			t.Errorf("re-enable: %d %v", st, ep)
		}
	})
}
