package prefs

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestOneClickUnsubscribe: a GET (what scanners send) changes nothing; the RFC 8058
// POST, with no cookie, unsubscribes at once and writes the event; a tampered link
// does nothing; the preference centre saves topic choices.
func TestOneClickUnsubscribe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
		ts := tenant.New(db, ring)
		ten, _ := ts.Create(ctx, "northside")
		svc := &marketing.Service{DB: db, Tenants: ts}
		c, _, err := svc.PutContact(ctx, ten.ID, &marketing.ContactInput{Email: "pat@example.org"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := svc.CreateList(ctx, ten.ID, &marketing.List{Name: "News"}, nil)
		top, _ := svc.CreateTopic(ctx, ten.ID, &marketing.Topic{Name: "Flu clinics"}, nil)
		svc.SetMembership(ctx, ten.ID, l.ID, c.ID, "confirmed", nil)
		token, err := svc.SignLink(ctx, &marketing.Link{Purpose: marketing.LinkUnsubscribe, TenantID: ten.ID, ContactID: c.ID, ListID: l.ID})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(&Handler{Marketing: svc, DB: db})
		defer srv.Close()
		suppressed := func() bool {
			r, _ := svc.IsSuppressed(ctx, ten.ID, "pat@example.org", marketing.ScopeMarketing)
			return r != ""
		}
		post := func(path, body string) (int, string) {
			resp, err := http.Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}

		resp, err := http.Get(srv.URL + "/u/" + token)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `<form method="post"`) || strings.Contains(string(b), "<script") {
			t.Fatalf("GET: %d %s", resp.StatusCode, b)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatal("no strict CSP")
		}
		if suppressed() {
			t.Fatal("a GET unsubscribed")
		}

		// Tampered: one character of the MAC, or of the ids, changed.
		for _, bad := range []string{token[:len(token)-1] + flip(token[len(token)-1]), flip(token[0]) + token[1:], "x." + token} {
			if s, _ := post("/u/"+bad, "List-Unsubscribe=One-Click"); s != 404 {
				t.Fatalf("tampered link: %d", s)
			}
		}
		if suppressed() {
			t.Fatal("a tampered link unsubscribed")
		}

		if s, body := post("/u/"+token, "List-Unsubscribe=One-Click"); s != 200 || !strings.Contains(body, "You are unsubscribed") {
			t.Fatalf("one-click POST: %d %s", s, body)
		}
		if !suppressed() {
			t.Fatal("the one-click POST did not unsubscribe")
		}
		if r, _ := svc.IsSuppressed(ctx, ten.ID, "pat@example.org", marketing.ScopeTransactional); r != "" {
			t.Fatal("unsubscribing stopped transactional mail")
		}
		evs, _ := db.Events(ctx, store.EventFilter{TenantID: ten.ID, Types: []string{"unsubscribed"}})
		if len(evs) != 1 || evs[0].RecipientID != c.ID {
			t.Fatalf("events: %v", evs)
		}

		// Preference centre: the same link's preferences page saves topics.
		if s, body := post("/u/"+token+"/preferences", url.Values{"topic": {top.ID}}.Encode()); s != 200 || !strings.Contains(body, "saved") || !strings.Contains(body, "checked") {
			t.Fatalf("preferences: %d %s", s, body)
		}
		subs, _ := db.Subscriptions(ctx, ten.ID, c.ID)
		if !subs[top.ID] {
			t.Fatal("topic not saved")
		}
	})
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
