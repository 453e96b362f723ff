package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// call is one JSON request to a running process.
func call(t *testing.T, method, url, key string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestCampaignKill9 kills the server with SIGKILL while a campaign sends, restarts
// it, and checks that every recipient got a message stored exactly once (the
// recipient leaves pending in the message's own transaction) and that every one was
// delivered, with no more duplicates at the receiver than deliveries in flight.
func TestCampaignKill9(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		p := newProcEnv(t, dbURL)
		creator := strings.TrimSpace(p.run("key", "create", "--tenant", "clinic", "--scopes", "marketing"))
		approver := strings.TrimSpace(p.run("key", "create", "--tenant", "clinic", "--scopes", "marketing"))
		cmd, base := p.start("first")
		const n = 1500
		s, ls := call(t, "POST", base+"/v1/lists", creator, map[string]any{"name": "Patients"})
		if s != 201 {
			t.Fatalf("list: %d %v", s, ls)
		}
		list := ls["id"].(string)
		var csv strings.Builder
		csv.WriteString("email\n")
		for i := range n {
			fmt.Fprintf(&csv, "k%05d@%s\n", i, patientDomain)
		}
		if s, out := call(t, "POST", base+"/v1/contacts/import?list="+list, creator, csv.String()); s != 200 {
			t.Fatalf("import: %d %v", s, out)
		}
		var wg sync.WaitGroup
		work := make(chan int)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					if s, out := call(t, "POST", base+"/v1/consents", creator, map[string]any{"email": fmt.Sprintf("k%05d@%s", i, patientDomain),
						"kind": "email_opt_in", "purposes": []string{"marketing"}, "obtained_via": "web_form"}); s != 201 {
						t.Errorf("consent: %d %v", s, out)
					}
				}
			}()
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		s, c := call(t, "POST", base+"/v1/campaigns", creator, map[string]any{"name": "Refills", "from": "news@clinic.example",
			"subject": "Refill due", "text": "Order online. {{unsubscribe_url}}", "lists": []string{list}})
		if s != 201 {
			t.Fatalf("create: %d %v", s, c)
		}
		id := c["id"].(string)
		if s, out := call(t, "POST", base+"/v1/campaigns/"+id+"/approve", approver, nil); s != 200 {
			t.Fatalf("approve: %d %v", s, out)
		}
		if s, out := call(t, "POST", base+"/v1/campaigns/"+id+"/schedule", creator, nil); s != 200 {
			t.Fatalf("schedule: %d %v", s, out)
		}
		sent := func(base string) int {
			_, r := call(t, "GET", base+"/v1/campaigns/"+id+"/report", creator, nil)
			return num(r, "recipients", "sent")
		}
		deadline := time.Now().Add(120 * time.Second)
		for sent(base) < n/3 {
			if time.Now().After(deadline) {
				t.Fatal("the campaign did not get a third through")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		_, base = p.start("second")
		before := sent(base)
		deadline = time.Now().Add(180 * time.Second)
		for {
			_, r := call(t, "GET", base+"/v1/campaigns/"+id+"/report", creator, nil)
			if r["state"] == "finished" && num(r, "deliveries", "delivered") == n {
				if num(r, "recipients", "sent") != n || num(r, "recipients", "pending") != 0 || len(r["skipped"].(map[string]any)) != 0 {
					t.Fatalf("report after restart: %v", r)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not finished after restart: %v", r)
			}
			time.Sleep(100 * time.Millisecond)
		}
		got := map[string]int{}
		for _, m := range p.rcv.Messages() {
			for _, to := range m.To {
				got[to]++
			}
		}
		dups := 0
		for i := range n {
			a := fmt.Sprintf("k%05d@%s", i, patientDomain)
			if got[a] == 0 {
				t.Errorf("%s never received the campaign", a)
			}
			dups += max(got[a]-1, 0)
		}
		t.Logf("%d of %d stored before SIGKILL; %d duplicate deliveries", before, n, dups)
		if dups > 64 {
			t.Fatalf("%d duplicates: more than the deliveries that can be in flight", dups)
		}
	})
}
