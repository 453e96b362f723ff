package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// refuseOutcomes makes the database refuse every retired delivery, the write that
// records a delivered outcome, as a full disk would; allowOutcomes lifts it.
func refuseOutcomes(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER refuse_outcomes BEFORE INSERT ON delivery_history BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`}
	if db.Dialect() == store.Postgres {
		stmts = []string{
			`CREATE FUNCTION refuse_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$`,
			`CREATE TRIGGER refuse_outcomes BEFORE INSERT ON delivery_history FOR EACH ROW EXECUTE FUNCTION refuse_outcomes()`,
		}
	}
	for _, s := range stmts {
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

func allowOutcomes(t *testing.T, db *store.DB) {
	t.Helper()
	q := "DROP TRIGGER refuse_outcomes"
	if db.Dialect() == store.Postgres {
		q += " ON delivery_history"
	}
	if _, err := db.SQL().Exec(q); err != nil {
		t.Fatal(err)
	}
}

// TestUnwritableOutcomesStopClaims delivers while the database refuses to record
// outcomes. The delivery already running reaches the receiver; nothing further is
// claimed or sent while its outcome cannot be written, though slots are free; once the database takes
// writes again, the held outcomes are recorded, the rest is delivered, and — even
// after the lease has run out — nothing is sent twice.
func TestUnwritableOutcomesStopClaims(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	storetest.Each(t, func(t *testing.T, dbURL string) {
		const concurrency, total = 4, 24
		e := newEnv(t, dbURL, envOptions{configure: func(c *config.Config) {
			c.Delivery.Concurrency, c.Delivery.PerDomain = concurrency, concurrency
			c.Delivery.Lease = "2s"
		}})
		db := e.srv.DB
		refuseOutcomes(t, db)
		send := func(i int) {
			t.Helper()
			if status, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": fmt.Sprintf("p%d@patient.example", i),
				"subject": "s", "text": "t"}); status != 202 {
				t.Fatalf("send: %d %v", status, res)
			}
		}
		// One delivery whose outcome the database refuses; then more work, with free
		// delivery slots to run it.
		send(0)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := e.rcv.WaitCount(ctx, 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		for i := 1; i < total; i++ {
			send(i)
		}
		// Longer than the lease: jobs whose outcome is held must not be claimed again.
		time.Sleep(3 * time.Second)
		sent := e.rcv.Count()
		if sent != 1 {
			t.Fatalf("%d messages sent while an outcome could not be recorded; 1 was in flight", sent)
		}
		if !e.srv.Worker.Paused() {
			t.Fatal("worker not paused while outcomes cannot be written")
		}
		var unclaimed int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM deliveries WHERE claimed_by = ''").Scan(&unclaimed); err != nil {
			t.Fatal(err)
		}
		if unclaimed != total-1 {
			t.Fatalf("%d jobs left unclaimed, want %d", unclaimed, total-1)
		}

		allowOutcomes(t, db)
		if err := e.rcv.WaitCount(ctx, total); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var left int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM deliveries").Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d outcomes still unrecorded after the database recovered", left)
			}
		}
		time.Sleep(2500 * time.Millisecond) // past any lease
		if n := e.rcv.Count(); n != total {
			t.Fatalf("receiver got %d messages for %d recipients: %d duplicates (%d were in flight when writes failed)", n, total, n-total, sent)
		}
		if e.srv.Worker.Paused() {
			t.Fatal("worker still paused after outcomes were recorded")
		}
		t.Logf("%d deliveries in flight when outcomes failed; all %d delivered once after recovery", sent, total)
	})
}

// TestAcceptedBeforeCrashIsNotSentAgain kills the real server after the receiver took
// a message whose outcome the database refused. The local log written the moment the
// receiver answered 250 survives the kill: after a restart the delivery is recorded
// from it and the message is not sent again, even after the lease has run out.
func TestAcceptedBeforeCrashIsNotSentAgain(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	crashAfterAccept(t, false)
}

// TestResendAfterLostOutcomeIsFlagged is the same crash with the local log lost too
// (the process ran on a machine that is gone). The job runs again once its lease ends
// — at-least-once — and its delivered event says that an earlier attempt reached DATA
// with no recorded outcome, so the resend may be a duplicate.
func TestResendAfterLostOutcomeIsFlagged(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	crashAfterAccept(t, true)
}

func crashAfterAccept(t *testing.T, loseLog bool) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		p := newProcEnv(t, dbURL)
		ctx := context.Background()
		db, err := store.Open(ctx, dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		cmd, base := p.start("first")
		refuseOutcomes(t, db)
		status, res := apiCall(t, "POST", base+"/v1/messages", p.key, `{"from":"a@clinic.example","to":"p1@patient.example","subject":"m-1","text":"t"}`)
		if status != 202 {
			t.Fatalf("send: %d %v", status, res)
		}
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := p.rcv.WaitCount(wctx, 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the outcome write has failed by now
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		allowOutcomes(t, db)
		logs, _ := filepath.Glob(filepath.Join(p.dir, "accepted-*.log"))
		if len(logs) != 1 {
			t.Fatalf("local logs of accepted deliveries: %v", logs)
		}
		if b, _ := os.ReadFile(logs[0]); !strings.Contains(string(b), `"attempt":1`) || strings.Contains(string(b), "patient") {
			t.Fatalf("local log holds %q", b)
		}
		if loseLog {
			os.Remove(logs[0])
		}
		_, base = p.start("second")
		want := map[string]any{"attempt": 1.0, "recovered_after_crash": true}
		if loseLog {
			if err := p.rcv.WaitCount(wctx, 2); err != nil {
				t.Fatal(err)
			}
			want = map[string]any{"attempt": 2.0, "unconfirmed_attempt": 1.0}
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			_, out := apiCall(t, "GET", base+"/v1/events?type=delivered", p.key, "")
			evs, _ := out["events"].([]any)
			if len(evs) == 1 {
				data, _ := evs[0].(map[string]any)["data"].(map[string]any)
				for k, v := range want {
					if data[k] != v {
						t.Fatalf("delivered event: %s = %v, want %v (%v)", k, data[k], v, data)
					}
				}
				break
			}
			if len(evs) > 1 || time.Now().After(deadline) {
				t.Fatalf("delivered events: %v", evs)
			}
		}
		log, _ := os.ReadFile(filepath.Join(p.dir, "second.log"))
		if loseLog && !strings.Contains(string(log), "sending again after an attempt with no recorded outcome") {
			t.Error("resend of an unconfirmed attempt not logged")
		}
		if !loseLog {
			time.Sleep(6 * time.Second) // past the 5 s lease
			if n := p.rcv.Count(); n != 1 {
				t.Fatalf("message sent %d times", n)
			}
			if _, err := os.Stat(logs[0]); !os.IsNotExist(err) {
				t.Errorf("the dead process's log was not removed after recovery: %v", err)
			}
		}
	})
}

func apiCall(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestLostLeaseSendsNothing takes a job over, as another process would once the lease
// ran out, while this process is connecting to deliver it. The DATA mark finds the job
// no longer this process's: nothing is sent, and the new owner's claim is left alone.
func TestLostLeaseSendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		// A gate in front of the receiver holds every connection until the takeover.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		connected, open := make(chan struct{}, 16), make(chan struct{})
		var rcvAddr string
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				connected <- struct{}{}
				go func() {
					defer c.Close()
					<-open
					up, err := net.Dial("tcp", rcvAddr)
					if err != nil {
						return
					}
					defer up.Close()
					go io.Copy(up, c)
					io.Copy(c, up)
				}()
			}
		}()
		port := ln.Addr().(*net.TCPAddr).Port
		e := newEnv(t, dbURL, envOptions{configure: func(c *config.Config) { c.Delivery.Port = port }})
		rcvAddr = e.rcv.Addr()
		db := e.srv.DB
		if status, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p1@patient.example", "subject": "s", "text": "t"}); status != 202 {
			t.Fatalf("send: %d %v", status, res)
		}
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			t.Fatal("no connection to the receiver")
		}
		if _, err := db.SQL().Exec("UPDATE deliveries SET claimed_by = 'elsewhere/1/x'"); err != nil {
			t.Fatal(err)
		}
		close(open)
		// Wait for the attempt to end: abandoned, or (wrongly) recorded.
		var owner string
		var mark int
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if err := db.SQL().QueryRow("SELECT claimed_by, data_attempt FROM deliveries").Scan(&owner, &mark); err != nil {
				t.Fatal(err)
			}
			if owner != "elsewhere/1/x" || strings.Contains(e.logs.String(), "delivery abandoned before DATA") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("attempt did not end")
			}
		}
		if owner != "elsewhere/1/x" || mark != 0 {
			t.Errorf("new owner's claim changed: claimed_by %q, data_attempt %d", owner, mark)
		}
		if n, a := e.rcv.Count(), e.rcv.Attempts("p1@patient.example"); n != 0 || a != 0 {
			t.Errorf("sent after losing the lease: %d accepted, %d DATA phases", n, a)
		}
	})
}
