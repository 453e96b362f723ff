package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/client"
	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// searchWorld is a real API over a real database with two tenants.
type searchWorld struct {
	db      *store.DB
	tenants *tenant.Service
	url     string
}

func newSearchWorld(t *testing.T, dbURL string) *searchWorld {
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
	srv := httptest.NewServer(api.New(api.Deps{DB: db, Tenants: ts, Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return &searchWorld{db: db, tenants: ts, url: srv.URL}
}

// account makes a tenant and a read key, and returns a client for it.
func (w *searchWorld) account(t *testing.T, name string) (string, *tenant.Keys, *client.Client, string) {
	t.Helper()
	ctx := context.Background()
	tn, err := w.tenants.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := w.tenants.Keys(ctx, tn.ID)
	secret, _, err := w.tenants.CreateKey(ctx, tn.ID, tenant.KeyOptions{Name: "read", Scopes: []string{tenant.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID, keys, client.New(w.url, secret), secret
}

// sent is what the test knows of one stored message.
type sent struct {
	id, from, to, campaign, tag, clinic, status, method string
	quarantined                                         bool
	at                                                  time.Time
}

// store writes a message the way the pipeline does: sealed envelope and addresses,
// keyed hashes for labels, report groups.
func (w *searchWorld) store(t *testing.T, tenantID string, keys *tenant.Keys, m *sent) {
	t.Helper()
	m.id = tenant.NewID("msg")
	env, _ := json.Marshal(pipeline.Envelope{From: m.from, Subject: "Results " + m.clinic, Metadata: map[string]string{"clinic": m.clinic},
		Tags: []string{m.tag}, Campaign: m.campaign})
	tagHash, campHash := pipeline.LabelHash(keys, "tag", m.tag), pipeline.LabelHash(keys, "campaign", m.campaign)
	msg := &store.Message{ID: m.id, TenantID: tenantID, CreatedAt: m.at, FromDomain: "clinic.example", Campaign: campHash, Tags: []string{tagHash},
		Envelope: keys.Data.Seal(env, "message/"+m.id+"/envelope"), Quarantined: m.quarantined,
		Report: report.MessageDims(keys, report.Labels{From: m.from, Subject: "Results " + m.clinic, Metadata: map[string]string{"clinic": m.clinic},
			Campaign: m.campaign, CampaignHash: campHash, Tags: []string{m.tag}, TagHashes: []string{tagHash}})}
	rid := "rcp_" + m.id
	rc := &store.Recipient{ID: rid, MessageID: m.id, TenantID: tenantID, Kind: "to", Address: keys.Data.SealString(m.to, "recipient/"+rid),
		AddressHash: keys.AddressHash(m.to), Domain: strings.SplitN(m.to, "@", 2)[1], Status: m.status, UpdatedAt: m.at, Method: m.method}
	if err := w.db.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertMessage(ctx, msg, []*store.Recipient{rc}, nil, nil)
	}); err != nil {
		t.Fatal(err)
	}
}

func TestMessageSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		w := newSearchWorld(t, dbURL)
		ctx := context.Background()
		aID, aKeys, a, _ := w.account(t, "clinic")
		bID, bKeys, b, _ := w.account(t, "other")
		base := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
		var all []*sent
		statuses := []string{"delivered", "bounced", "queued", "deferred"}
		for i := range 120 {
			m := &sent{from: []string{"lab@clinic.example", "billing@clinic.example"}[i%2], to: fmt.Sprintf("p%d@%s", i%9, []string{"a.example", "b.example"}[i%2]),
				campaign: []string{"flu", "diabetes", "recall"}[i%3], tag: []string{"reminder", "lab"}[i%2], clinic: []string{"north", "south", "east", "west"}[i%4],
				status: statuses[i%4], quarantined: i%10 == 0, at: base.Add(time.Duration(i) * time.Minute)}
			if m.status == "delivered" {
				m.method = []string{"tls", "pgp", "portal"}[i%3]
			}
			w.store(t, aID, aKeys, m)
			all = append(all, m)
		}
		// The other tenant holds a message that matches every filter used below.
		w.store(t, bID, bKeys, &sent{from: "lab@clinic.example", to: "p1@b.example", campaign: "flu", tag: "lab", clinic: "north",
			status: "delivered", method: "pgp", at: base})

		yes := true
		cases := []struct {
			name string
			q    client.MessageQuery
			keep func(*sent) bool
		}{
			{"all", client.MessageQuery{}, func(*sent) bool { return true }},
			{"status", client.MessageQuery{Statuses: []string{"bounced", "deferred"}}, func(m *sent) bool { return m.status == "bounced" || m.status == "deferred" }},
			{"method", client.MessageQuery{Methods: []string{"pgp"}}, func(m *sent) bool { return m.method == "pgp" }},
			{"recipient", client.MessageQuery{Recipient: "P1@b.example"}, func(m *sent) bool { return m.to == "p1@b.example" }},
			{"from", client.MessageQuery{From: "lab@clinic.example"}, func(m *sent) bool { return m.from == "lab@clinic.example" }},
			{"campaign", client.MessageQuery{Campaign: "flu"}, func(m *sent) bool { return m.campaign == "flu" }},
			{"tag", client.MessageQuery{Tag: "lab"}, func(m *sent) bool { return m.tag == "lab" }},
			{"metadata", client.MessageQuery{Metadata: map[string]string{"clinic": "north"}}, func(m *sent) bool { return m.clinic == "north" }},
			{"quarantined", client.MessageQuery{Quarantined: &yes}, func(m *sent) bool { return m.quarantined }},
			{"dates", client.MessageQuery{Since: base.Add(30 * time.Minute), Until: base.Add(40 * time.Minute)}, func(m *sent) bool {
				return !m.at.Before(base.Add(30*time.Minute)) && m.at.Before(base.Add(40*time.Minute))
			}},
			{"combined", client.MessageQuery{Campaign: "flu", Tag: "lab", Statuses: []string{"delivered"}}, func(m *sent) bool {
				return m.campaign == "flu" && m.tag == "lab" && m.status == "delivered"
			}},
		}
		for _, c := range cases {
			var want []string
			for _, m := range all {
				if c.keep(m) {
					want = append(want, m.id)
				}
			}
			slices.Sort(want)
			slices.Reverse(want) // newest first
			got := readAll(t, a, c.q, 25, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %d messages %v\nwant %d %v", c.name, len(got), got, len(want), want)
			}
		}

		// Another tenant's key finds only its own message, whatever the filter.
		if got := readAll(t, b, client.MessageQuery{}, 25, nil); len(got) != 1 {
			t.Fatalf("other tenant sees %d messages", len(got))
		}
		page, err := b.SearchMessages(ctx, client.MessageQuery{Cursor: "msg_zzzzzzzz", Limit: 200})
		if err != nil || len(page.Messages) != 1 || page.Messages[0].From != "lab@clinic.example" {
			t.Fatalf("other tenant page: %+v, %v", page, err)
		}

		// Pages stay stable while messages arrive between them: every message present
		// at the start is read once, and none twice.
		var before []string
		for _, m := range all {
			before = append(before, m.id)
		}
		arrived := 0
		got := readAll(t, a, client.MessageQuery{}, 7, func() {
			arrived++
			m := &sent{from: "lab@clinic.example", to: "new@a.example", campaign: "flu", tag: "lab", clinic: "north", status: "queued", at: time.Now()}
			w.store(t, aID, aKeys, m)
		})
		slices.Sort(before)
		slices.Sort(got)
		if arrived < 10 || !slices.Equal(got, before) {
			t.Fatalf("paging while %d arrived read %d messages, want the %d present at the start", arrived, len(got), len(before))
		}

		// Every bad parameter is reported at once, by name.
		_, err = a.SearchMessages(ctx, client.MessageQuery{Statuses: []string{"lost"}, Recipient: "not an address", Limit: 500, Cursor: "ev_1"})
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Status != 400 || len(ae.Fields) != 4 {
			t.Fatalf("bad search: %v", err)
		}
	})
}

// readAll pages through a search; between pages it calls between (if set).
func readAll(t *testing.T, c *client.Client, q client.MessageQuery, limit int, between func()) []string {
	t.Helper()
	q.Limit = limit
	var ids []string
	for range 1000 {
		page, err := c.SearchMessages(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Messages {
			ids = append(ids, m.ID)
		}
		if !page.HasMore {
			return ids
		}
		if len(page.Messages) != limit {
			t.Fatalf("a page of %d before the end", len(page.Messages))
		}
		q.Cursor = page.NextCursor
		if between != nil {
			between()
		}
	}
	t.Fatal("paging did not end")
	return nil
}

func TestStatsEndpoint(t *testing.T) {
	w := newSearchWorld(t, storetest.SQLiteURL(t))
	_, _, _, secret := w.account(t, "clinic")
	get := func(query string) (int, string, string) {
		req, _ := http.NewRequest("GET", w.url+"/v1/stats?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	status, _, body := get("interval=minute&group_by=colour&format=xml")
	for _, f := range []string{`"field":"from"`, `"field":"to"`, `"field":"interval"`, `"field":"group_by"`, `"field":"format"`} {
		if status != 400 || !strings.Contains(body, f) {
			t.Fatalf("bad query: %d %s (want %s)", status, body, f)
		}
	}
	status, ctype, body := get("from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00Z&group_by=metadata.clinic&format=csv")
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.HasPrefix(body, strings.Join(report.CSVHeader, ",")) {
		t.Fatalf("csv: %d %s %q", status, ctype, body)
	}
	status, _, body = get("from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00Z&interval=day")
	if status != 200 || !strings.Contains(body, `"groups":[`) {
		t.Fatalf("json: %d %s", status, body)
	}
}
