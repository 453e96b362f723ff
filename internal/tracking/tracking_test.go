package tracking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tracking"
)

type world struct {
	t        testing.TB
	db       *store.DB
	tenants  *tenant.Service
	svc      *tracking.Service
	tenantID string
	keys     *tenant.Keys
	url      string
	pages    map[string]string // recipient id → its rewritten HTML, as a mail client shows it
}

const landing = "Results are ready"

func (w *world) now() time.Time { return time.Now() }

func newWorld(t testing.TB, dbURL string) *world {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	ts := tenant.New(db, ring)
	tn, err := ts.Create(ctx, "clinic")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := ts.Keys(ctx, tn.ID)
	w := &world{t: t, db: db, tenants: ts, tenantID: tn.ID, keys: keys, pages: map[string]string{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	w.svc = tracking.New(db, ts, srv.URL, srv.URL+"/p/", slog.New(slog.DiscardHandler))
	mux.Handle("/t/", w.svc.Handler())
	mux.HandleFunc("/mail/{id}", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(rw, w.pages[r.PathValue("id")])
	})
	mux.HandleFunc("/landing", func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, "<!doctype html><title>x</title><p id=msg>%s</p>", landing)
	})
	return w
}

// delivered stores a message delivered to one recipient at deliveredAt, and its copy's
// HTML rewritten for tracking.
func (w *world) delivered(deliveredAt time.Time) string {
	w.t.Helper()
	ctx := context.Background()
	id := tenant.NewID("msg")
	rid := "rcp_" + id
	html := `<!doctype html><html><head><title>Results</title></head><body><p>Your results</p>` +
		`<a id="go" href="` + w.url + `/landing?result=ready">See results</a> ` +
		`<a id="second" href="` + w.url + `/landing?page=2">More</a> ` +
		`<a id="unsub" href="https://clinic.example/unsubscribe?u=1">Unsubscribe</a></body></html>`
	err := w.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		m := &store.Message{ID: id, TenantID: w.tenantID, CreatedAt: deliveredAt.Add(-time.Minute), FromDomain: "clinic.example", Envelope: []byte("x")}
		rc := &store.Recipient{ID: rid, MessageID: id, TenantID: w.tenantID, Kind: "to", Address: []byte("x"), AddressHash: []byte("h" + rid),
			Domain: "patient.example", Status: "delivered", UpdatedAt: deliveredAt, Method: "tls"}
		if err := tx.InsertMessage(ctx, m, []*store.Recipient{rc}, nil, nil); err != nil {
			return err
		}
		out, err := w.svc.Prepare(ctx, tx, w.keys, w.tenantID, id, rid, html, tracking.Options{Opens: true, Clicks: true})
		w.pages[rid] = out
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return rid
}

// classes are the classes of a recipient's opened and clicked events, in order.
func (w *world) classes(rid string) []string {
	w.t.Helper()
	evs, err := w.db.Events(context.Background(), store.EventFilter{TenantID: w.tenantID, Types: []string{"opened", "clicked"}})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.RecipientID != rid {
			continue
		}
		b, err := w.keys.Data.Open(e.Data, "event/"+rid)
		if err != nil {
			w.t.Fatal(err)
		}
		var d struct{ Class string }
		json.Unmarshal(b, &d)
		out = append(out, e.Type+":"+d.Class)
	}
	return out
}

var (
	clickURL = regexp.MustCompile(`href="([^"]*/t/c/[^"]+)"`)
	pixelURL = regexp.MustCompile(`src="([^"]*/t/o/[^"]+)"`)
)

func request(t *testing.T, method, url, agent string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("User-Agent", agent)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestTrackingTellsPeopleFromMachines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, dbURL)

		// A person: Chromium shows the message, fetching the pixel, and clicks a link.
		person := w.delivered(time.Now().Add(-time.Hour))
		page := w.pages[person]
		if !strings.Contains(page, `href="https://clinic.example/unsubscribe?u=1"`) {
			t.Fatalf("the unsubscribe link was rewritten: %s", page)
		}
		if strings.Contains(page, "/landing") || len(clickURL.FindAllString(page, -1)) != 3 || len(pixelURL.FindAllString(page, -1)) != 1 {
			t.Fatalf("rewritten page: %s", page)
		}
		b := browsertest.Start(t)
		if b == nil {
			return
		}
		b.Navigate(w.url + "/mail/" + person)
		waitFor(t, func() bool { return len(w.classes(person)) == 1 })
		b.Click("#go")
		if got := b.Text("#msg"); got != landing || !strings.Contains(b.Location(), "/landing?result=ready") {
			t.Fatalf("click landed on %s: %q", b.Location(), got)
		}
		if got := fmt.Sprint(w.classes(person)); got != "[opened:human clicked:human]" {
			t.Fatalf("person: %s", got)
		}

		// A privacy proxy fetches the pixel for its reader.
		proxied := w.delivered(time.Now().Add(-time.Hour))
		pix := pixelURL.FindStringSubmatch(w.pages[proxied])[1]
		if r := request(t, "GET", pix, "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/gif" {
			t.Fatalf("pixel: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		request(t, "GET", pix, "Mozilla/5.0")

		// A scanner clicks a second after delivery; another sends HEAD; another
		// follows the hidden decoy link.
		scanned := w.delivered(time.Now())
		links := clickURL.FindAllStringSubmatch(w.pages[scanned], -1)
		if r := request(t, "GET", links[0][1], "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"); r.StatusCode != 302 || !strings.HasSuffix(r.Header.Get("Location"), "/landing?result=ready") {
			t.Fatalf("redirect: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		headed := w.delivered(time.Now().Add(-time.Hour))
		hl := clickURL.FindAllStringSubmatch(w.pages[headed], -1)
		request(t, "HEAD", hl[1][1], "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
		request(t, "GET", hl[2][1], "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0") // the decoy
		request(t, "GET", hl[0][1], "Mozilla/5.0 (compatible; Barracuda Sentinel)")
		for rid, want := range map[string]string{
			proxied: "[opened:proxy opened:proxy]",
			scanned: "[clicked:machine]",
			headed:  "[clicked:machine clicked:machine clicked:machine]",
		} {
			if got := fmt.Sprint(w.classes(rid)); got != want {
				t.Fatalf("classes %s, want %s", got, want)
			}
		}

		// A tampered, truncated or unknown token redirects nowhere.
		tok := links[0][1]
		swap := func(i int) string { // another character at i
			c := map[bool]string{true: "B", false: "A"}[tok[i] == 'A']
			return tok[:i] + c + tok[i+1:]
		}
		for _, bad := range []string{swap(len(tok) - 1), swap(len(tok) - 20), tok[:len(tok)-4], w.url + "/t/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", w.url + "/t/o/" + strings.TrimPrefix(tok, w.url+"/t/c/")} {
			r := request(t, "GET", bad, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
			if r.StatusCode != 404 || r.Header.Get("Location") != "" {
				t.Fatalf("bad token %s: %d %q", bad, r.StatusCode, r.Header.Get("Location"))
			}
		}

		// The rollups count people apart from proxies and machines.
		res, err := report.New(w.db, w.tenants).Stats(context.Background(), w.tenantID, report.Query{From: time.Now().Add(-2 * time.Hour), To: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Groups[0].Totals
		if c.Opened != 1 || c.OpenedProxy != 1 || c.Clicked != 1 || c.ClickedMachine != 2 || c.Rates.ClickToOpen != 1 {
			t.Fatalf("stats: %+v", c)
		}

		// No tracked target is stored in the clear.
		rows, err := w.db.SQL().Query("SELECT target FROM tracking_links WHERE target IS NOT NULL")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			if strings.Contains(string(b), "landing") {
				t.Fatal("a tracked URL is stored in the clear")
			}
			n++
		}
		if n == 0 {
			t.Fatal("no tracked links stored")
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out waiting")
}
