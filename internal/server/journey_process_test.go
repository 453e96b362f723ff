package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// mustCall sends a JSON request to a server process and decodes the answer; anything
// but 2xx fails the test.
func mustCall(t *testing.T, method, url, key string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %v", method, url, resp.StatusCode, out)
	}
	return resp.StatusCode, out
}

var (
	journeySubject = regexp.MustCompile(`(?m)^Subject: (step-\d) for c(\d+)\r$`)
	messageIDLine  = regexp.MustCompile(`(?mi)^Message-Id: (.*)\r$`)
)

// TestJourneyStepsSurviveKill9 runs a three-send journey for many contacts in the real
// binary, kills it with SIGKILL twice while steps are being taken, and restarts it:
// in the end every contact has received each step's message, and no step was taken
// twice — a second copy at the receiver could only be the delivery queue resending
// the same message (the same Message-Id), never a second message for a step.
func TestJourneyStepsSurviveKill9(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		p := newProcEnv(t, dbURL)
		key := strings.TrimSpace(p.run("key", "create", "--tenant", "clinic", "--scopes", "marketing"))
		cmd, base := p.start("first")
		const contacts = 20
		mustCall(t, "POST", base+"/v1/contact-fields", key, map[string]any{"name": "n", "type": "string"})
		var steps []map[string]any
		for i := 1; i <= 3; i++ {
			if i > 1 {
				steps = append(steps, map[string]any{"id": fmt.Sprintf("wait%d", i), "type": "wait", "duration": "1s"})
			}
			steps = append(steps, map[string]any{"id": fmt.Sprintf("send%d", i), "type": "send", "subject": fmt.Sprintf("step-%d for c{{n}}", i), "text": "Hello."})
		}
		_, j := mustCall(t, "POST", base+"/v1/journeys", key, map[string]any{"name": "Crash", "from": "care@clinic.example", "trigger": map[string]any{"event": "go"}, "steps": steps})
		mustCall(t, "POST", base+"/v1/journeys/"+j["id"].(string)+"/activate", key, nil)
		for i := range contacts {
			email := fmt.Sprintf("c%d@%s", i, patientDomain)
			_, ct := mustCall(t, "POST", base+"/v1/contacts", key, map[string]any{"email": email, "fields": map[string]any{"n": fmt.Sprint(i)}})
			mustCall(t, "POST", base+"/v1/consents", key, map[string]any{"email": email, "kind": "email_opt_in", "purposes": []string{"marketing"}, "fields": []string{"n"}, "obtained_via": "web_form"})
			mustCall(t, "POST", base+"/v1/journeys/events", key, map[string]any{"contact": ct["id"], "event": "go", "idempotency_key": "go-" + fmt.Sprint(i)})
		}
		waitFor := func(n int, within time.Duration) {
			deadline := time.Now().Add(within)
			for len(p.rcv.Messages()) < n && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}
		for round, at := range []int{contacts / 2, contacts * 3 / 2} {
			waitFor(at, 30*time.Second)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			t.Logf("killed with %d messages received", len(p.rcv.Messages()))
			name := fmt.Sprintf("after-kill-%d", round)
			cmd, base = p.start(name)
			// On SQLite the restart hands back the steps the killed process had
			// claimed (on PostgreSQL their lease runs out): say how many were cut off.
			if log, _ := os.ReadFile(filepath.Join(p.dir, name+".log")); bytes.Contains(log, []byte("released journey steps")) {
				t.Logf("round %d: %s", round, regexp.MustCompile(`"runs":\d+`).Find(log))
			}
		}
		waitFor(3*contacts, 60*time.Second)
		time.Sleep(time.Second)                // anything extra would arrive now
		copies := map[string]map[string]bool{} // step and contact → Message-Ids
		for _, m := range p.rcv.Messages() {
			sm := journeySubject.FindSubmatch(m.Data)
			id := messageIDLine.FindSubmatch(m.Data)
			if sm == nil || id == nil {
				t.Fatalf("unexpected message:\n%s", m.Data)
			}
			k := string(sm[1]) + "/c" + string(sm[2])
			if copies[k] == nil {
				copies[k] = map[string]bool{}
			}
			copies[k][string(id[1])] = true
		}
		resent := len(p.rcv.Messages()) - len(copies)
		t.Logf("%d messages received for %d steps (%d resent by the delivery queue)", len(p.rcv.Messages()), len(copies), resent)
		for i := range contacts {
			for s := 1; s <= 3; s++ {
				k := fmt.Sprintf("step-%d/c%d", s, i)
				if n := len(copies[k]); n != 1 {
					t.Errorf("%s: %d distinct messages, want exactly 1", k, n)
				}
			}
		}
		_, runs := mustCall(t, "GET", base+"/v1/journeys/"+j["id"].(string)+"/runs", key, nil)
		for _, r := range runs["runs"].([]any) {
			if r.(map[string]any)["state"] != "done" {
				t.Errorf("run not done: %v", r)
			}
		}
	})
}
