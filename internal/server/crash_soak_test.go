package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// soakLoad posts numbered messages to whichever servers are up and remembers, for each
// acknowledged one, its recipient id.
type soakLoad struct {
	mu    sync.Mutex
	bases []string
	acked map[int]string // message number → recipient id
	next  int
}

func (l *soakLoad) setBases(b []string) {
	l.mu.Lock()
	l.bases = slices.Clone(b)
	l.mu.Unlock()
}

func (l *soakLoad) run(ctx context.Context, key string, clients int) {
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				l.mu.Lock()
				i, base := l.next, l.bases[c%len(l.bases)]
				l.next++
				l.mu.Unlock()
				body := fmt.Sprintf(`{"from":"a@clinic.example","to":"p%d@patient.example","subject":"m-%d","text":"message %d"}`, i%50, i, i)
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/messages", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := hc.Do(req)
				if err != nil {
					time.Sleep(20 * time.Millisecond) // the server is down: not acknowledged
					continue
				}
				var res struct {
					Recipients []struct {
						ID string `json:"id"`
					} `json:"recipients"`
				}
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if resp.StatusCode == 202 && len(res.Recipients) == 1 {
					l.mu.Lock()
					l.acked[i] = res.Recipients[0].ID
					l.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

// inFlight lists the deliveries of process pid that reached DATA with no outcome
// recorded: the deliveries a kill of that process can duplicate, and no others.
func inFlight(t *testing.T, db *store.DB, pid int) []string {
	t.Helper()
	rows, err := db.SQL().Query("SELECT recipient_id FROM deliveries WHERE claimed_by LIKE $1 AND data_attempt = attempts AND data_attempt > 0",
		fmt.Sprintf("%%/%d/%%", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// waitStopped returns once every thread of pid is stopped: SIGSTOP is delivered
// asynchronously, and a thread still running could commit a DATA mark after the
// in-flight deliveries were read.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(tasks) > 0
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			// The state follows the command name in parentheses: T is stopped.
			if i := bytes.LastIndexByte(b, ')'); err != nil || i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d not stopped", pid)
		}
	}
}

// TestCrashSoak kills a server with SIGKILL, round after round, while messages are
// accepted and delivered — one process on SQLite, two sharing PostgreSQL — and
// restarts it. Every acknowledged message must arrive, and every duplicate must be a
// delivery that was in flight at a kill: one that had reached DATA with its outcome
// not yet recorded. The victim is frozen (SIGSTOP) before it is killed, so what was in
// flight is read from the database at the very moment of the kill. crashRounds is
// small in the normal suite; `go test -tags soak` runs the long version.
func TestCrashSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		p := newProcEnv(t, dbURL)
		db, err := store.Open(context.Background(), dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		procs := 1
		if db.Dialect() == store.Postgres {
			procs = 2
		}
		cmds, bases := make([]*exec.Cmd, procs), make([]string, procs)
		for i := range procs {
			cmds[i], bases[i] = p.start(fmt.Sprint("p", i))
		}
		load := &soakLoad{acked: map[int]string{}}
		load.setBases(bases)
		ctx, stop := context.WithCancel(context.Background())
		loaded := make(chan struct{})
		go func() { load.run(ctx, p.key, 16); close(loaded) }()

		rnd := rand.New(rand.NewPCG(1, 2))
		inflight := map[string]int{} // recipient id → the round that killed it mid-flight
		var perKill []int
		start := time.Now()
		for round := range crashRounds {
			// Kill at a random moment while deliveries run.
			before := p.rcv.Count()
			for p.rcv.Count() < before+100 {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(time.Duration(rnd.IntN(300)) * time.Millisecond)
			v := round % procs
			cmds[v].Process.Signal(syscall.SIGSTOP)
			waitStopped(t, cmds[v].Process.Pid)
			ids := inFlight(t, db, cmds[v].Process.Pid)
			cmds[v].Process.Signal(syscall.SIGKILL)
			cmds[v].Wait()
			for _, id := range ids {
				inflight[id] = round
			}
			perKill = append(perKill, len(ids))
			cmds[v], bases[v] = p.start(fmt.Sprint("p", v))
			load.setBases(bases)
		}
		stop()
		<-loaded
		elapsed := time.Since(start)

		// Everything acknowledged arrives, and the queue empties: every outcome recorded.
		deadline := time.Now().Add(90 * time.Second)
		var got map[int]int
		for {
			got = received(p.rcv)
			missing := 0
			for i := range load.acked {
				if got[i] == 0 {
					missing++
				}
			}
			var left int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM deliveries").Scan(&left); err != nil {
				t.Fatal(err)
			}
			if missing == 0 && left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d acknowledged messages never delivered; %d jobs left", missing, left)
			}
			time.Sleep(200 * time.Millisecond)
		}
		dups, unexplained := 0, 0
		dupsPerKill := make([]int, crashRounds)
		for i, n := range got {
			if n < 2 {
				continue
			}
			dups += n - 1
			round, ok := inflight[load.acked[i]]
			if !ok || n > 2 {
				unexplained += n - 1
				t.Errorf("m-%d delivered %d times; in flight at a kill: %v", i, n, ok)
				continue
			}
			dupsPerKill[round]++
		}
		total := 0
		for _, n := range perKill {
			total += n
		}
		t.Logf("%d processes, %d kills in %v: %d acknowledged, %d delivered; duplicates %d (%.2f per kill, %.3f%%); in flight at the kills %d (%.2f per kill)",
			procs, crashRounds, elapsed.Round(time.Second), len(load.acked), len(got), dups, float64(dups)/crashRounds,
			100*float64(dups)/float64(len(got)), total, float64(total)/crashRounds)
		t.Logf("in flight per kill %v; duplicates per kill %v", perKill, dupsPerKill)
		if unexplained > 0 {
			t.Fatalf("%d duplicates were not deliveries in flight at a kill", unexplained)
		}
	})
}
