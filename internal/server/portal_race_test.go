package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/portal/view"
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

// failedLines picks the log lines of failed requests.
func failedLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "request failed") && len(out) < 5 {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
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
				t.Errorf("%d guesses: unexpected statuses %v\n%s", n, count, failedLines(pe.logs.String()))
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

// arrival is what the receiving server saw when a notice arrived.
type arrival struct {
	rcpt, link string
	status     int  // the link's answer, fetched before the notice was accepted
	landing    bool // it answered with the copy's landing page
}

// TestPortalNoticeLinkWorksOnArrival: the receiving server follows the link in each
// portal notice the moment it arrives, before it answers the DATA (so before the
// sender can record the delivery): the copy is already there. A notice refused once
// and sent again carries the same link to the same copy; a notice that never goes
// out leaves no readable copy behind.
func TestPortalNoticeLinkWorksOnArrival(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		var mu sync.Mutex
		var seen []arrival
		held, release := make(chan string, 1), make(chan struct{})
		linkRe := regexp.MustCompile(`https?://[^\s"<>]+/p/[A-Za-z0-9_-]{20,}`)
		opts := devnet.ReceiverOptions{Addr: net.JoinHostPort("127.0.0.4", itoa(pe.rcv.Port())), Hostname: "mx.arrive.example",
			Inspect: func(from string, to []string, data []byte) *smtp.SMTPError {
				v, err := view.Parse(data, view.Limits{})
				if err != nil {
					return &smtp.SMTPError{Code: 554, Message: "unreadable"}
				}
				a := arrival{rcpt: to[0], link: linkRe.FindString(v.Text)}
				if a.link != "" {
					if resp, err := http.Get(a.link); err == nil {
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						a.status, a.landing = resp.StatusCode, strings.Contains(string(body), `/code"`)
					}
				}
				if strings.HasPrefix(a.rcpt, "held@") {
					held <- a.link
					<-release
				}
				mu.Lock()
				defer mu.Unlock()
				tries := 0
				for _, s := range seen {
					if s.rcpt == a.rcpt {
						tries++
					}
				}
				seen = append(seen, a)
				switch {
				case strings.HasPrefix(a.rcpt, "retry@") && tries == 0:
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again"}
				case strings.HasPrefix(a.rcpt, "gone@"):
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
				}
				return nil
			}}
		rcv, err := devnet.StartReceiver(opts)
		if err != nil {
			t.Skipf("cannot listen on 127.0.0.4: %v", err)
		}
		t.Cleanup(func() { rcv.Close() })
		pe.dns.AddZoneMX("arrive.example", "mx.arrive.example", net.ParseIP("127.0.0.4"))

		arrivals := func(rcpt string) []arrival {
			mu.Lock()
			defer mu.Unlock()
			var out []arrival
			for _, a := range seen {
				if a.rcpt == rcpt {
					out = append(out, a)
				}
			}
			return out
		}
		send := func(rcpt string) string {
			s, res := pe.send(pe.key, portalMessage(rcpt, nil))
			if s != 202 {
				t.Fatalf("send: %d %v", s, res)
			}
			id := res["id"].(string)
			pe.waitFinal(id)
			return id
		}

		// Delivered at the first attempt: the link worked as the notice arrived.
		send("first@arrive.example")
		got := arrivals("first@arrive.example")
		if len(got) != 1 || got[0].link == "" {
			t.Fatalf("notices seen: %+v", got)
		}
		if got[0].status != 200 || !got[0].landing {
			t.Fatalf("the link followed on arrival answered %d (landing page: %v); the copy was not there yet", got[0].status, got[0].landing)
		}
		if p := newVisitor(t).get(got[0].link); p.status != 200 {
			t.Errorf("the link after delivery: %d", p.status)
		}
		var notified sql.NullInt64
		pe.srv.DB.SQL().QueryRow("SELECT notified_at FROM portal_messages WHERE id = $1", pe.portalID(got[0].link)).Scan(&notified)
		if !notified.Valid {
			t.Error("the delivered notice is not recorded on its copy")
		}

		// Refused once, then accepted: the same link both times, one copy.
		id := send("retry@arrive.example")
		got = arrivals("retry@arrive.example")
		if len(got) != 2 || got[0].link == "" || got[0].link != got[1].link {
			t.Fatalf("a notice sent twice carried different links: %+v", got)
		}
		if got[1].status != 200 || !got[1].landing {
			t.Fatalf("the retried notice's link on arrival: %d", got[1].status)
		}
		if _, out := pe.do("GET", "/v1/messages/"+id+"/portal", pe.key, nil); len(out["copies"].([]any)) != 1 {
			t.Errorf("copies after a retried notice: %v", out)
		}

		// Refused for good: the copy made for it is destroyed, the link opens nothing.
		id = send("gone@arrive.example")
		got = arrivals("gone@arrive.example")
		if len(got) != 1 || got[0].link == "" {
			t.Fatalf("notices seen: %+v", got)
		}
		if p := newVisitor(t).get(got[0].link); p.status != 404 {
			t.Errorf("the link of a notice that bounced: %d, want the neutral page", p.status)
		}
		_, out := pe.do("GET", "/v1/messages/"+id+"/portal", pe.key, nil)
		copies := out["copies"].([]any)
		if len(copies) != 1 || copies[0].(map[string]any)["state"] != "undelivered" {
			t.Errorf("copies after a bounced notice: %v", out)
		}
		var content []byte
		pe.srv.DB.SQL().QueryRow("SELECT content_key FROM portal_messages WHERE recipient_id = $1", copies[0].(map[string]any)["recipient_id"]).Scan(&content)
		if content != nil {
			t.Error("the copy of a bounced notice keeps its key")
		}

		// Revoked while its notice is on the wire: the copy already exists, so the
		// revocation destroys it, and the link that arrives opens nothing.
		s, res := pe.send(pe.key, portalMessage("held@arrive.example", nil))
		if s != 202 {
			t.Fatalf("send: %d %v", s, res)
		}
		id = res["id"].(string)
		link := <-held
		s, rv := pe.do("POST", "/v1/messages/"+id+"/revoke", pe.key, nil)
		close(release)
		if s != 200 || rv["recipients"].([]any)[0].(map[string]any)["outcome"] != "revoked" {
			t.Fatalf("revoke while the notice is being delivered: %d %v", s, rv)
		}
		if p := newVisitor(t).get(link); p.status != 404 {
			t.Errorf("the link of a revoked copy: %d", p.status)
		}
	})
}

// apiAll sends the same API request n times at once, spread over bases, and returns
// each answer's status and body.
func apiAll(t *testing.T, bases []string, n int, method, path, key string, body []byte, hdr ...string) ([]int, []map[string]any) {
	statuses, outs := make([]int, n), make([]map[string]any, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(method, bases[i%len(bases)]+path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			for h := 0; h+1 < len(hdr); h += 2 {
				req.Header.Set(hdr[h], hdr[h+1])
			}
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			json.NewDecoder(resp.Body).Decode(&outs[i])
		}()
	}
	close(start)
	wg.Wait()
	return statuses, outs
}

// TestConcurrentRevoke: revocations sent at once (to two servers on PostgreSQL) cancel
// a pending delivery once: one reports it cancelled, the others already revoked, and
// the timeline and the delivery history hold it once.
func TestConcurrentRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		// The API role only: a worker that reached the queued delivery first would
		// make its portal copy, and the one revocation that takes effect would then
		// say "revoked" (copy destroyed) instead of "cancelled".
		pe := newPortalEnv(t, dbURL, func(c *config.Config) { c.Roles = "api" })
		bases := pe.portalBases(dbURL)
		s, res := pe.send(pe.key, portalMessage("pat@slow.example", nil))
		if s != 202 {
			t.Fatal(s)
		}
		id := res["id"].(string)
		statuses, outs := apiAll(t, bases, 12, "POST", "/v1/messages/"+id+"/revoke", pe.key, nil)
		outcomes := map[string]int{}
		for i, s := range statuses {
			if s != 200 {
				t.Errorf("revoke %d: %d %v", i, s, outs[i])
				continue
			}
			outcomes[outs[i]["recipients"].([]any)[0].(map[string]any)["outcome"].(string)]++
		}
		if outcomes["cancelled"] != 1 || outcomes["already_revoked"] != 11 {
			t.Errorf("12 revocations at once: %v; want one cancelled, eleven already revoked", outcomes)
		}
		var history int
		pe.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM delivery_history WHERE message_id = $1", id).Scan(&history)
		if n := len(pe.events("type=revoked&message=" + id)); n != 1 || history != 1 {
			t.Errorf("revoked events %d, history rows %d; want 1 and 1", n, history)
		}
	})
}

// TestConcurrentIdempotentSends: the same send with the same Idempotency-Key, sent at
// once (to two servers on PostgreSQL), is accepted once; every answer names that one
// message.
func TestConcurrentIdempotentSends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		bases := pe.portalBases(dbURL)
		body, _ := json.Marshal(map[string]any{"from": "lab@clinic.example", "to": []string{"pat@" + patientDomain}, "subject": "Reminder", "text": "See you on Monday."})
		statuses, outs := apiAll(t, bases, 16, "POST", "/v1/messages", pe.key, body, "Idempotency-Key", "reminder-42")
		ids := map[string]bool{}
		for i, s := range statuses {
			if s != 202 {
				t.Errorf("send %d: %d %v", i, s, outs[i])
				continue
			}
			ids[outs[i]["id"].(string)] = true
		}
		var n int
		pe.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM messages WHERE tenant_id = $1", pe.tenant).Scan(&n)
		if len(ids) != 1 || n != 1 {
			t.Errorf("16 sends with one key: ids %v, %d messages stored; want one", ids, n)
		}
	})
}

// TestConcurrentClientLock: wrong guesses sent at once across three copies from one
// address count against the address at most its limit: the address lock is decided by
// the statement that counts.
func TestConcurrentClientLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, func(c *config.Config) { c.Portal.MaxFailures, c.Portal.ClientMaxFailures = 3, 6 })
		bases := pe.portalBases(dbURL)
		var paths []string
		for _, r := range []string{"ca@plain.example", "cb@plain.example", "cc@plain.example"} {
			_, l := pe.sendPortal(r, portalMessage(r, nil))
			paths = append(paths, strings.TrimPrefix(l, pe.base)+"/verify")
		}
		statuses := make([]int, 60)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := newVisitor(t)
				<-start
				statuses[i] = v.post(bases[i%len(bases)]+paths[i%len(paths)], url.Values{"code": {"000000"}}).status
			}()
		}
		close(start)
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		fails := len(pe.events("type=portal.code_failed"))
		if fails > 6 || count[401] > 5 || count[401]+count[429] != 60 {
			t.Errorf("60 wrong codes at once from one address (limit 6): %d counted, statuses %v", fails, count)
		}
	})
}

// TestConcurrentQuarantineActions: releases and deletions of one quarantined message
// sent at once (to two servers on PostgreSQL): exactly one acts, once.
func TestConcurrentQuarantineActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		bases := pe.portalBases(dbURL)
		rules := map[string]any{"rules": []any{map[string]any{"if": map[string]any{"tags": []string{"review"}}, "then": map[string]any{"action": "quarantine"}}}}
		if s, p := pe.do("PUT", "/v1/policy", pe.key, rules); s != 200 {
			t.Fatalf("policy: %d %v", s, p)
		}
		_, res := pe.send(pe.key, map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain, "subject": "s", "text": "hello", "tags": []string{"review"}})
		if res["status"] != "quarantined" {
			t.Fatalf("not quarantined: %v", res)
		}
		id := res["id"].(string)
		rel, _ := apiAll(t, bases, 6, "POST", "/v1/messages/"+id+"/release", pe.key, nil)
		del, _ := apiAll(t, bases, 6, "DELETE", "/v1/messages/"+id, pe.key, nil)
		ok := 0
		for _, s := range append(rel, del...) {
			switch s {
			case 200:
				ok++
			case 409:
			default:
				t.Errorf("quarantine action: %d", s)
			}
		}
		acted := len(pe.events("type=released,deleted&message=" + id))
		if ok != 1 || acted != 1 {
			t.Errorf("12 releases and deletions at once: %d succeeded, %d events; want one", ok, acted)
		}
	})
}

// TestPortalConcurrentPassphrases: 100 passphrase guesses at once, the right one among
// them: at most the limit of wrong ones counted, never a sign-in after the lock, at
// most one session.
func TestPortalConcurrentPassphrases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		bases := pe.portalBases(dbURL)
		const rcpt = "ppr@plain.example"
		_, link := pe.sendPortal(rcpt, portalMessage(rcpt, map[string]any{"portal": map[string]any{"passphrase": "blue heron 1987"}}))
		forms := make([]url.Values, 100)
		for i := range forms {
			forms[i] = url.Values{"passphrase": {fmt.Sprintf("blue heron %d", 1900+i)}}
		}
		forms[60] = url.Values{"passphrase": {"blue heron 1987"}}
		forms[87] = url.Values{"passphrase": {"blue heron 9999"}}
		statuses, signedIn := postAll(t, bases, strings.TrimPrefix(link, pe.base)+"/passphrase", forms)
		id := pe.portalID(link)
		count, ins := map[int]int{}, 0
		for i, s := range statuses {
			count[s]++
			if signedIn[i] {
				ins++
				if i != 60 {
					t.Fatalf("wrong passphrase %d signed in", i)
				}
			}
		}
		fails, afterLock := 0, false
		for _, a := range pe.portalTrail(id) {
			switch a {
			case "portal.code_failed":
				fails++
			case "portal.locked":
				afterLock = true
			case "portal.signed_in":
				if afterLock {
					t.Error("the right passphrase signed in after the lock")
				}
			}
		}
		t.Logf("100 passphrases over %d server(s): statuses %v, %d failures counted, %d signed in", len(bases), count, fails, ins)
		if fails > 5 || count[401] > 4 || ins > 1 || pe.portalSessions(id) != ins {
			t.Errorf("statuses %v, %d failures, %d sign-ins, %d sessions", count, fails, ins, pe.portalSessions(id))
		}
	})
}
