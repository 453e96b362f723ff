package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestArchiveJournalsWhatTheAPIAccepts sends through the API and finds each message
// in the archive by the API: by subject, by a Bcc recipient, by tag and by attachment
// name; opens it in the sanitised viewer and as sent; exports and verifies it; and
// checks that only an archive key may do so, and that every access is audited.
func TestArchiveJournalsWhatTheAPIAccepts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{quiet: true})
		ctx := context.Background()
		s, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain, "bcc": "records@" + patientDomain,
			"subject": "Your glucose results", "text": "Fasting glucose normal.", "html": `<p>Fasting <b>glucose</b> normal.<img src="https://tracker.example/x.png"><script>alert(1)</script></p>`,
			"tags": []string{"lab"}, "attachments": []map[string]any{{"filename": "results-2026.pdf", "content_type": "application/pdf",
				"content": base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n"))}}})
		if s != 202 {
			t.Fatalf("send: %d %v", s, res)
		}
		msgID := res["id"].(string)
		e.send(e.key, simple("other@"+patientDomain))
		// Words are found once the index job ran; the worker runs it every second.
		if _, err := e.srv.Archive.IndexPending(ctx); err != nil {
			t.Fatal(err)
		}

		archiveKey, _, err := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Name: "compliance", Scopes: []string{tenant.ScopeArchive}})
		if err != nil {
			t.Fatal(err)
		}
		var entryID string
		for _, q := range []map[string]any{{"subject": "GLUCOSE"}, {"to": "records@" + patientDomain}, {"tag": "lab"},
			{"attachment": "results-2026.pdf"}, {"body": "fasting normal", "direction": "out"}} {
			s, page := e.do("POST", "/v1/archive/search", archiveKey, map[string]any{"query": q})
			results, _ := page["results"].([]any)
			if s != 200 || len(results) != 1 {
				t.Fatalf("search %v: %d %v", q, s, page)
			}
			r := results[0].(map[string]any)
			if r["message_id"] != msgID {
				t.Fatalf("search %v found %v, want message %s", q, r["message_id"], msgID)
			}
			entryID = r["id"].(string)
		}
		if s, p := e.do("POST", "/v1/archive/search", archiveKey, map[string]any{"query": map[string]any{"direction": "sideways"}}); s != 400 ||
			!strings.Contains(p["errors"].([]any)[0].(map[string]any)["field"].(string), "query.direction") {
			t.Errorf("bad direction: %d %v", s, p)
		}
		// A send key may not search the archive.
		sendKey, _, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{tenant.ScopeSend, tenant.ScopeRead}})
		if s, _ := e.do("POST", "/v1/archive/search", sendKey, map[string]any{"query": map[string]any{}}); s != 403 {
			t.Errorf("send key searched the archive: %d", s)
		}

		s, entry := e.do("GET", "/v1/archive/entries/"+entryID, archiveKey, nil)
		if s != 200 || !strings.Contains(entry["text"].(string), "Fasting glucose normal.") || entry["has_html"] != true {
			t.Fatalf("entry: %d %v", s, entry)
		}
		resp := get(t, e.base+"/v1/archive/entries/"+entryID+"/view", archiveKey)
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") {
			t.Fatalf("view: %d, CSP %q", resp.StatusCode, csp)
		}
		page, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(page), "glucose") || strings.Contains(string(page), "<script") || strings.Contains(string(page), "tracker.example") {
			t.Errorf("view is not the sanitised message: %s", page)
		}
		raw := get(t, e.base+"/v1/archive/entries/"+entryID+"/raw", archiveKey)
		rawBody, _ := io.ReadAll(raw.Body)
		if !bytes.Contains(rawBody, []byte("Subject: Your glucose results")) {
			t.Errorf("raw message: %q", rawBody)
		}

		// Export through the API; the bundle verifies with the audit key.
		body, _ := json.Marshal(map[string]any{"format": "mbox", "query": map[string]any{}})
		req, _ := http.NewRequest("POST", e.base+"/v1/archive/export", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+archiveKey)
		er, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		bundle, _ := io.ReadAll(er.Body)
		er.Body.Close()
		pub := e.srv.API.ArchiveKey.Public().(ed25519.PublicKey)
		chk, err := archive.VerifyExport(bytes.NewReader(bundle), int64(len(bundle)), pub)
		if er.StatusCode != 200 || err != nil || len(chk.Problems) != 0 || chk.Files != 2 {
			t.Fatalf("export: %d %+v %v", er.StatusCode, chk, err)
		}

		if s, v := e.do("GET", "/v1/archive/verify", archiveKey, nil); s != 200 || v["entries"] != 2.0 || len(v["problems"].([]any)) != 0 {
			t.Errorf("verify: %d %v", s, v)
		}
		for _, action := range []string{archive.ActionJournal, archive.ActionSearch, archive.ActionView, archive.ActionExport} {
			entries, err := e.srv.DB.AuditEntries(ctx, store.AuditFilter{TenantID: e.tenant, Action: action})
			if err != nil || len(entries) == 0 {
				t.Errorf("no %s in the audit trail: %v", action, err)
			}
			for _, a := range entries {
				if strings.Contains(strings.ToLower(a.Detail), "glucose") || strings.Contains(a.Detail, patientDomain) {
					t.Errorf("audit detail carries content: %q", a.Detail)
				}
			}
		}
	})
}

func get(t *testing.T, url, key string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// BenchmarkAcceptArchive measures what the journal costs acceptance: BenchmarkAccept's
// load (10 KiB text, 64 clients, API role alone) with the archive on and off, the two
// alternating for SEALPOST_BENCH_ROUNDS rounds (default 3) so they share the machine's
// state. cpu-ms/msg is this process's CPU (server and clients) per message.
//
//	go test -run '^$' -bench AcceptArchive -benchtime 2000x ./internal/server/
func BenchmarkAcceptArchive(b *testing.B) {
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("SEALPOST_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for round := range rounds {
		for _, db := range []string{"sqlite", "postgres"} {
			for _, on := range []bool{true, false} {
				benchAcceptArchive(b, fmt.Sprintf("%s/archive=%v/round%d", db, on, round+1), db, on)
			}
		}
	}
}

func benchAcceptArchive(b *testing.B, name, db string, on bool) {
	b.Run(name, func(b *testing.B) {
		url := storetest.SQLiteURL(b)
		if db == "postgres" {
			url = storetest.PostgresURL(b)
		}
		e := newEnv(b, url, envOptions{roles: "api", quiet: true, configure: func(c *config.Config) { c.Archive.Journal = on }})
		body := []byte(fmt.Sprintf(`{"from":"a@clinic.example","to":"pat@patient.example","subject":"results","text":%q}`, strings.Repeat("0123456789abcdef", 640)))
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
		b.SetParallelism(32)
		var ru0, ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("POST", e.base+"/v1/messages", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.key)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 202 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		elapsed := time.Since(start)
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/msg")
	})
}

// assertArchived fails the test if any of the tenant's messages has no archive entry:
// every face that accepts mail goes through the journal.
func assertArchived(t *testing.T, e *env) {
	t.Helper()
	missing, err := e.srv.DB.MessagesNotArchived(context.Background(), e.tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("%d accepted messages have no archive entry: %v", len(missing), missing)
	}
}
