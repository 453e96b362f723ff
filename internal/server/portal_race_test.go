package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// twin starts a second server on e's database, serving the API and the portal only,
// and returns its base URL: two processes sharing one database, as far as the
// database can tell (each has its own pool and its own committers).
func (e *env) twin() string {
	e.t.Helper()
	cfg := e.cfg
	cfg.DataDir = e.t.TempDir()
	cfg.AuditKeyFile = ""
	cfg.Roles = "api"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, &cfg, server.Options{Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Keyring: e.ring, RootCAs: e.ca.Pool(),
		Listener: ln, HTTPClient: e.sts.Client()})
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("twin server run: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// portalBases is where concurrent visitors go: the server, and on PostgreSQL a twin
// sharing its database too.
func (pe *portalEnv) portalBases(dbURL string) []string {
	bases := []string{pe.base}
	if strings.HasPrefix(dbURL, "postgres") {
		bases = append(bases, pe.twin())
	}
	return bases
}

// portalID finds the copy a link names.
func (pe *portalEnv) portalID(link string) string {
	pe.t.Helper()
	var id string
	token := link[strings.LastIndex(link, "/")+1:]
	if err := pe.srv.DB.SQL().QueryRow("SELECT id FROM portal_messages WHERE token_hash = $1", secureline.TokenHash(token)).Scan(&id); err != nil {
		pe.t.Fatal(err)
	}
	return id
}

// portalTrail is the copy's audit actions in the order they were committed.
func (pe *portalEnv) portalTrail(portalID string) []string {
	pe.t.Helper()
	rows, err := pe.srv.DB.SQL().Query("SELECT action FROM audit_log WHERE object = $1 ORDER BY seq", portalID)
	if err != nil {
		pe.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		out = append(out, a)
	}
	return out
}

func (pe *portalEnv) portalSessions(portalID string) int {
	pe.t.Helper()
	var n int
	if err := pe.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM portal_sessions WHERE portal_id = $1", portalID).Scan(&n); err != nil {
		pe.t.Fatal(err)
	}
	return n
}

// postAll sends every form at once (each from a fresh visitor, spread over bases) and
// returns each answer's status and whether it signed in.
func postAll(t *testing.T, bases []string, path string, forms []url.Values) (statuses []int, signedIn []bool) {
	statuses, signedIn = make([]int, len(forms)), make([]bool, len(forms))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, f := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := newVisitor(t)
			<-start
			p := v.post(bases[i%len(bases)]+path, f)
			statuses[i] = p.status
			signedIn[i] = p.status == 303 && strings.HasSuffix(p.location, "/m") && len(v.cookies) > 0
		}()
	}
	close(start)
	wg.Wait()
	return statuses, signedIn
}

// TestPortalConcurrentGuesses: 100 and then 200 guesses sent at once, the right code
// among them, on two servers sharing the database where the database allows it. The
// attempt count, the lock and the code's single use are decided by the database, so
// at most the limit of wrong codes is evaluated, the right code never opens the copy
// after the lock, and it opens at most one session.
func TestPortalConcurrentGuesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		bases := pe.portalBases(dbURL)
		const limit = 5 // the default portal.max_failures
		for _, n := range []int{100, 200} {
			rcpt := fmt.Sprintf("guess%d@plain.example", n)
			_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
			before := len(mailTo(pe.plain, rcpt, "access code is"))
			newVisitor(t).post(link+"/code", nil)
			code := pe.code(rcpt, before)
			right := n / 3
			forms := make([]url.Values, n)
			for i := range forms {
				guess := fmt.Sprintf("%06d", i)
				if guess == code {
					guess = "999999"
				}
				if i == right {
					guess = code
				}
				forms[i] = url.Values{"code": {guess}}
			}
			path := strings.TrimPrefix(link, pe.base) + "/verify"
			statuses, signedIn := postAll(t, bases, path, forms)
			count := map[int]int{}
			ins := 0
			for i, s := range statuses {
				count[s]++
				if signedIn[i] {
					ins++
					if i != right {
						t.Fatalf("guess %d, a wrong code, signed in", i)
					}
				}
			}
			id := pe.portalID(link)
			trail := pe.portalTrail(id)
			fails, locks, signIns, afterLock := 0, 0, 0, false
			for _, a := range trail {
				switch a {
				case "portal.code_failed":
					fails++
				case "portal.locked":
					locks++
					afterLock = true
				case "portal.signed_in":
					signIns++
					if afterLock {
						t.Errorf("%d guesses: the right code signed in after the lock: %v", n, trail)
					}
				}
			}
			t.Logf("%d guesses over %d server(s): statuses %v, trail: %d failed, %d locked, %d signed in", n, len(bases), count, fails, locks, signIns)
			if count[303]+count[401]+count[429] != n {
				t.Errorf("%d guesses: unexpected statuses %v", n, count)
			}
			if fails > limit || count[401] > limit-1 {
				t.Errorf("%d guesses: %d wrong codes evaluated (%d refusals); the limit is %d", n, fails, count[401], limit)
			}
			if ins > 1 || signIns != ins || pe.portalSessions(id) != ins {
				t.Errorf("%d guesses: %d signed in, %d signed_in entries, %d sessions; want one at most, all agreeing", n, ins, signIns, pe.portalSessions(id))
			}
			if fails == limit && locks != 1 {
				t.Errorf("%d guesses: %d failures but %d locks", n, fails, locks)
			}
			if ins == 0 && locks != 1 {
				t.Errorf("%d guesses: no sign-in and no lock: %v", n, count)
			}
		}
	})
}

// TestPortalCodeSingleUse: the right code sent by many requests at once opens one
// session; and code requests sent at once send one code.
func TestPortalCodeSingleUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		bases := pe.portalBases(dbURL)
		const rcpt = "once@plain.example"
		_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
		path := strings.TrimPrefix(link, pe.base)
		id := pe.portalID(link)

		before := len(mailTo(pe.plain, rcpt, "access code is"))
		statuses, _ := postAll(t, bases, path+"/code", make([]url.Values, 30))
		sent := len(pe.events("type=portal.code_sent"))
		var sends int
		pe.srv.DB.SQL().QueryRow("SELECT code_sends FROM portal_messages WHERE id = $1", id).Scan(&sends)
		if sent != 1 || sends != 1 {
			t.Fatalf("30 code requests at once: %d code_sent events, code_sends %d (statuses %v); want one code", sent, sends, statuses)
		}
		code := pe.code(rcpt, before)

		forms := make([]url.Values, 20)
		for i := range forms {
			forms[i] = url.Values{"code": {code}}
		}
		_, signedIn := postAll(t, bases, path+"/verify", forms)
		ins := 0
		for _, in := range signedIn {
			if in {
				ins++
			}
		}
		if n := pe.portalSessions(id); ins != 1 || n != 1 {
			t.Fatalf("one code sent 20 times at once: %d sign-ins, %d sessions; want 1", ins, n)
		}
	})
}
