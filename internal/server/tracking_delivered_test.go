package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

const landingText = "Results are ready"

var (
	deliveredClick = regexp.MustCompile(`href="([^"]*/t/c/[^"]+)"`)
	deliveredPixel = regexp.MustCompile(`src="([^"]*/t/o/[^"]+)"`)
)

// mailClient stands in for a reader's mail program: it serves, at /mail/{rcpt}, exactly
// the HTML part the receiving server got for that recipient, and the landing page the
// message's links point to.
type mailClient struct {
	url   string
	mu    sync.Mutex
	pages map[string]string
}

func newMailClient(t *testing.T) *mailClient {
	mc := &mailClient{pages: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/mail/{rcpt}", func(w http.ResponseWriter, r *http.Request) {
		mc.mu.Lock()
		page := mc.pages[r.PathValue("rcpt")]
		mc.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/landing", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<!doctype html><title>Results</title><p id=msg>%s</p>", landingText)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mc.url = srv.URL
	return mc
}

// trackedDelivery sends a tracked HTML message to rcpt through the API, waits for the
// delivery worker to hand it to the receiving server over SMTP, and returns the
// recipient's id and the HTML part of the delivered bytes.
func (e *env) trackedDelivery(mc *mailClient, rcpt string) (rid, html string) {
	e.t.Helper()
	body := `<!doctype html><html><head><title>Results</title></head><body><p>Your results</p>` +
		`<a id="go" href="` + mc.url + `/landing?result=ready">See results</a> ` +
		`<a id="second" href="` + mc.url + `/landing?page=2">More</a> ` +
		`<a id="unsub" href="https://clinic.example/unsubscribe?u=1">Unsubscribe</a></body></html>`
	s, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": rcpt, "subject": "Your results",
		"text": "Your results are ready.", "html": body, "track": map[string]any{"opens": true, "clicks": true}})
	if s != 202 && s != 200 {
		e.t.Fatalf("send: %d %v", s, res)
	}
	m := e.waitFinal(res["id"].(string))
	r := m["recipients"].([]any)[0].(map[string]any)
	if r["status"] != "delivered" {
		e.t.Fatalf("not delivered: %v", r)
	}
	got := messageTo(e.rcv, rcpt)
	if got == nil {
		e.t.Fatalf("the receiver got nothing for %s", rcpt)
	}
	html = htmlOf(e.t, got.Data)
	mc.mu.Lock()
	mc.pages[rcpt] = html
	mc.mu.Unlock()
	return r["id"].(string), html
}

// htmlOf is the decoded text/html part of a delivered message.
func htmlOf(t testing.TB, raw []byte) string {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		t.Fatal(err)
	}
	var html string
	e.Walk(func(_ []int, p *gomessage.Entity, _ error) error {
		if ct, _, _ := p.Header.ContentType(); ct == "text/html" {
			b, _ := io.ReadAll(p.Body)
			html = string(b)
		}
		return nil
	})
	if html == "" {
		t.Fatalf("no HTML part in:\n%s", raw)
	}
	return html
}

// readLater moves a recipient's delivery an hour into the past, as if its reader
// opened the message an hour after it arrived (a click seconds after delivery is a
// scanner's).
func (e *env) readLater(rid string) {
	e.t.Helper()
	if _, err := e.srv.DB.SQL().Exec("UPDATE recipients SET updated_at = updated_at - 3600000 WHERE id = $1", rid); err != nil {
		e.t.Fatal(err)
	}
}

// classes are the type:class of a recipient's opened and clicked events, in order.
func (e *env) classes(messageRid string) []string {
	e.t.Helper()
	var out []string
	for _, ev := range e.events("type=opened,clicked&limit=1000") {
		if ev["recipient_id"] != messageRid {
			continue
		}
		d, _ := ev["data"].(map[string]any)
		out = append(out, fmt.Sprintf("%s:%v", ev["type"], d["class"]))
	}
	return out
}

func plainGet(t *testing.T, method, u, agent string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	req.Header.Set("User-Agent", agent)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestTrackingTellsPeopleFromMachines: messages go through the API, the pipeline and
// the delivery worker to the receiving server over SMTP; Chromium shows the HTML part
// the receiver got and clicks a link in it, so the pixel and the link are those of the
// delivered bytes. A person reads as human, a privacy proxy as proxy, scanners as machine.
func TestTrackingTellsPeopleFromMachines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		mc := newMailClient(t)

		// A person: Chromium shows the delivered message, fetching the pixel, and clicks.
		personAddr := "person@" + patientDomain
		person, page := e.trackedDelivery(mc, personAddr)
		if !strings.Contains(page, `href="https://clinic.example/unsubscribe?u=1"`) {
			t.Fatalf("the unsubscribe link was rewritten: %s", page)
		}
		if strings.Contains(page, "/landing") || len(deliveredClick.FindAllString(page, -1)) != 3 || len(deliveredPixel.FindAllString(page, -1)) != 1 {
			t.Fatalf("delivered HTML is not tracked as expected: %s", page)
		}
		if !strings.HasPrefix(deliveredPixel.FindStringSubmatch(page)[1], e.base+"/t/o/") {
			t.Fatalf("the pixel does not point at the tracking base %s: %s", e.base, page)
		}
		e.readLater(person)
		b := browsertest.Start(t)
		if b == nil {
			return
		}
		b.Navigate(mc.url + "/mail/" + url.PathEscape(personAddr))
		waitUntil(t, func() bool { return len(e.classes(person)) == 1 })
		b.Click("#go")
		if got := b.Text("#msg"); got != landingText || !strings.Contains(b.Location(), "/landing?result=ready") {
			t.Fatalf("click landed on %s: %q", b.Location(), got)
		}
		if got := fmt.Sprint(e.classes(person)); got != "[opened:human clicked:human]" {
			t.Fatalf("person: %s", got)
		}

		// A privacy proxy fetches the pixel for its reader.
		proxied, page := e.trackedDelivery(mc, "proxied@"+patientDomain)
		e.readLater(proxied)
		pix := deliveredPixel.FindStringSubmatch(page)[1]
		if r := plainGet(t, "GET", pix, "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/gif" {
			t.Fatalf("pixel: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		plainGet(t, "GET", pix, "Mozilla/5.0")

		// Another's copy is HEADed, its hidden decoy followed, and a scanner agent clicks.
		headed, page := e.trackedDelivery(mc, "headed@"+patientDomain)
		e.readLater(headed)
		hl := deliveredClick.FindAllStringSubmatch(page, -1)
		plainGet(t, "HEAD", hl[1][1], "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
		plainGet(t, "GET", hl[2][1], "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0") // the decoy
		plainGet(t, "GET", hl[0][1], "Mozilla/5.0 (compatible; Barracuda Sentinel)")

		// A click with a browser's agent a second after delivery is a scanner's.
		scanned, page := e.trackedDelivery(mc, "scanned@"+patientDomain)
		links := deliveredClick.FindAllStringSubmatch(page, -1)
		if r := plainGet(t, "GET", links[0][1], "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"); r.StatusCode != 302 || r.Header.Get("Location") != mc.url+"/landing?result=ready" {
			t.Fatalf("redirect: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		for rid, want := range map[string]string{
			proxied: "[opened:proxy opened:proxy]",
			scanned: "[clicked:machine]",
			headed:  "[clicked:machine clicked:machine clicked:machine]",
		} {
			if got := fmt.Sprint(e.classes(rid)); got != want {
				t.Fatalf("%s: classes %s, want %s", rid, got, want)
			}
		}

		// A tampered, truncated or unknown token redirects nowhere.
		tok := links[0][1]
		swap := func(i int) string { // another character at i
			c := map[bool]string{true: "B", false: "A"}[tok[i] == 'A']
			return tok[:i] + c + tok[i+1:]
		}
		for _, bad := range []string{swap(len(tok) - 1), swap(len(tok) - 20), tok[:len(tok)-4], e.base + "/t/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", strings.Replace(tok, "/t/c/", "/t/o/", 1)} {
			r := plainGet(t, "GET", bad, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
			if r.StatusCode != 404 || r.Header.Get("Location") != "" {
				t.Fatalf("bad token %s: %d %q", bad, r.StatusCode, r.Header.Get("Location"))
			}
		}

		// /v1/stats counts people apart from proxies and machines.
		from := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
		to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		s, st := e.do("GET", "/v1/stats?from="+from+"&to="+to, e.key, nil)
		if s != 200 {
			t.Fatalf("stats: %d %v", s, st)
		}
		c := st["groups"].([]any)[0].(map[string]any)["totals"].(map[string]any)
		rates := c["rates"].(map[string]any)
		if c["delivered"] != 4.0 || c["opened"] != 1.0 || c["opened_proxy"] != 1.0 || c["clicked"] != 1.0 || c["clicked_machine"] != 2.0 || rates["click_to_open"] != 1.0 {
			t.Fatalf("stats: %v", c)
		}

		// No tracked target is stored in the clear.
		rows, err := e.srv.DB.SQL().Query("SELECT target FROM tracking_links WHERE target IS NOT NULL")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), "landing") {
				t.Fatal("a tracked URL is stored in the clear")
			}
			n++
		}
		if n == 0 {
			t.Fatal("no tracked links stored")
		}
	})
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out waiting")
}
