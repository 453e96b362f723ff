package server_test

import (
	"net/http"
	"strings"
	"testing"

	"encoding/json"
	"io"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestReceivedHeadersTool analyses the Received chain of a message we delivered: our
// own hop, taken over HTTP from loopback, is an internal hop, so nothing external is
// left to judge.
func TestReceivedHeadersTool(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	_, res := e.send(e.key, simple("p@patient.example"))
	e.waitFinal(res["id"].(string))
	raw := e.rcv.Messages()[0].Data
	req, _ := http.NewRequest("POST", e.base+"/v1/tools/received-headers", strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "message/rfc822")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var rep struct {
		Hops []struct {
			By, With, Class string
		}
		Verdict, Summary string
	}
	if err := json.Unmarshal(b, &rep); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if len(rep.Hops) != 1 || rep.Hops[0].By != "sealpost.test" || rep.Hops[0].With != "HTTP" || rep.Hops[0].Class != "internal" {
		t.Fatalf("hops: %+v", rep.Hops)
	}
	if rep.Verdict != "unknown" || rep.Summary == "" {
		t.Fatalf("verdict: %q %q", rep.Verdict, rep.Summary)
	}
	if s, _ := e.do("POST", "/v1/tools/received-headers", e.key, ""); s != 400 {
		t.Fatalf("empty body: %d", s)
	}
}

// TestDomainChecksAPI runs the checks on a tenant domain in the test DNS: the DKIM key
// we published passes, the missing DMARC record fails with the record to publish.
func TestDomainChecksAPI(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	e.dns.AddTXT("clinic.example", "v=spf1 ip4:127.0.0.1 -all")
	status, out := e.do("GET", "/v1/domains/clinic.example/checks", e.key, nil)
	if status != 200 {
		t.Fatalf("%d %v", status, out)
	}
	byName := map[string]map[string]any{}
	for _, c := range out["checks"].([]any) {
		c := c.(map[string]any)
		byName[c["name"].(string)] = c
	}
	for _, n := range []string{"mx", "spf", "dkim", "dmarc", "mta-sts", "tls-rpt", "starttls"} {
		if byName[n] == nil {
			t.Errorf("no %s check", n)
		}
	}
	if byName["dkim"]["status"] != "pass" {
		t.Errorf("dkim: %v", byName["dkim"])
	}
	if byName["dmarc"]["status"] != "fail" || !strings.Contains(byName["dmarc"]["fix"].(string), "_dmarc.clinic.example") {
		t.Errorf("dmarc: %v", byName["dmarc"])
	}
	if out["status"] != "fail" {
		t.Errorf("overall: %v", out["status"])
	}
}

// TestRemovedDomainStopsSendingAtOnce: SenderAllowed remembers verified domains for a
// few seconds, but removing one through this process forgets them at once.
func TestRemovedDomainStopsSendingAtOnce(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	msg := map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "t"}
	if st, out := e.send(e.key, msg); st != 202 {
		t.Fatalf("before removal: %d %v", st, out)
	}
	if st, out := e.do("DELETE", "/v1/domains/clinic.example", e.key, nil); st != 204 {
		t.Fatalf("remove domain: %d %v", st, out)
	}
	st, out := e.send(e.key, msg)
	if st != 422 || !hasField(out, "from") {
		t.Fatalf("after removal: %d %v", st, out)
	}
}
