package tracking_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tracking"
)

// world is a tracking service over a real database, with copies prepared by hand. The
// end-to-end check — a message delivered over SMTP, read and clicked in Chromium — is
// internal/server's TestTrackingTellsPeopleFromMachines.
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

// clickURL finds a tracked link in a rewritten page.
var clickURL = regexp.MustCompile(`href="([^"]*/t/c/[^"]+)"`)
