package marketing

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

type person struct {
	email  string
	plan   string
	score  float64
	visit  string
	vip    bool
	tags   []string
	listed bool
	authz  string // "", "live", "revoked", "expired", "event"
	id     string
}

func seedPeople(t *testing.T, e *env, n int) []*person {
	t.Helper()
	ctx := context.Background()
	e.fields(t, e.tid, Field{Name: "plan", Type: TypeString, Filterable: true}, Field{Name: "score", Type: TypeNumber, Filterable: true},
		Field{Name: "visit", Type: TypeDate, Filterable: true}, Field{Name: "vip", Type: TypeBoolean, Filterable: true},
		Field{Name: "tags", Type: TypeList, Filterable: true}, Field{Name: "name", Type: TypeString})
	r := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"email", "plan", "score", "visit", "vip", "tags"})
	var ps []*person
	for i := range n {
		p := &person{email: fmt.Sprintf("p%04d@example.org", i), plan: []string{"gold", "Silver", "bronze"}[r.IntN(3)],
			score: float64(r.IntN(4001)-2000) / 8, visit: time.Date(2020+r.IntN(6), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
			vip: r.IntN(4) == 0, listed: r.IntN(2) == 0}
		for _, tg := range []string{"diabetes", "cardio", "flu"} {
			if r.IntN(3) == 0 {
				p.tags = append(p.tags, tg)
			}
		}
		p.authz = []string{"", "live", "live", "revoked", "expired", "event"}[r.IntN(6)]
		w.Write([]string{p.email, p.plan, fmt.Sprint(p.score), p.visit, fmt.Sprint(p.vip), strings.Join(p.tags, ";")})
		ps = append(ps, p)
	}
	w.Flush()
	rep, err := e.svc.Import(ctx, e.tid, &buf, ImportOptions{}, nil)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("seed import: %v %+v", err, rep.Problems)
	}
	return ps
}

// TestSegmentsMatchGroundTruth compiles filters over every field type, lists and
// consent, and compares the database's answer with one computed here.
func TestSegmentsMatchGroundTruth(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ps := seedPeople(t, e, 400)
		l, err := e.svc.CreateList(ctx, e.tid, &List{Name: "Newsletter"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sha := strings.Repeat("ab", 32)
		for _, p := range ps {
			c, err := e.svc.ContactByEmail(ctx, e.tid, p.email)
			if err != nil {
				t.Fatal(err)
			}
			p.id = c.ID
			if p.listed {
				if err := e.svc.SetMembership(ctx, e.tid, l.ID, p.id, "confirmed", nil); err != nil {
					t.Fatal(err)
				}
			}
			if p.authz == "" {
				continue
			}
			in := &ConsentInput{Email: p.email, Kind: "hipaa_authorization", Purposes: []string{"marketing"}, Fields: []string{"plan"},
				ObtainedVia: "signed_form", EvidenceHash: sha, ExpiresAt: time.Now().Add(24 * time.Hour), ExpiryEvent: "end_of_treatment"}
			if p.authz == "expired" {
				in.ObtainedAt, in.ExpiresAt = time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)
			}
			id, err := e.svc.RecordConsent(ctx, e.tid, in)
			if err != nil {
				t.Fatal(err)
			}
			switch p.authz {
			case "revoked":
				if _, err := e.svc.RevokeConsent(ctx, e.tid, id, "letter", nil); err != nil {
					t.Fatal(err)
				}
			case "event":
				ids, err := e.svc.FireExpiryEvent(ctx, e.tid, p.id, "end_of_treatment", nil)
				if err != nil || len(ids) != 1 {
					t.Fatalf("fire expiry event: %v %v", ids, err)
				}
			}
		}
		authz := `{"consent": {"kind": "hipaa_authorization", "purpose": "marketing"}}`
		cases := []struct {
			filter string
			want   func(p *person) bool
		}{
			{`{"field": "plan", "op": "eq", "value": "silver"}`, func(p *person) bool { return strings.EqualFold(p.plan, "silver") }},
			{`{"field": "plan", "op": "ne", "value": "gold"}`, func(p *person) bool { return p.plan != "gold" }},
			{`{"field": "plan", "op": "in", "value": ["gold", "bronze"]}`, func(p *person) bool { return p.plan != "Silver" }},
			{`{"field": "score", "op": "gte", "value": 12.5}`, func(p *person) bool { return p.score >= 12.5 }},
			{`{"field": "score", "op": "lt", "value": -100}`, func(p *person) bool { return p.score < -100 }},
			{`{"field": "score", "op": "between", "value": [-3.25, 40]}`, func(p *person) bool { return p.score >= -3.25 && p.score <= 40 }},
			{`{"field": "score", "op": "eq", "value": 0}`, func(p *person) bool { return p.score == 0 }},
			{`{"field": "visit", "op": "gt", "value": "2023-06-15"}`, func(p *person) bool { return p.visit > "2023-06-15" }},
			{`{"field": "visit", "op": "lte", "value": "2021-01-01"}`, func(p *person) bool { return p.visit <= "2021-01-01" }},
			{`{"field": "vip", "op": "eq", "value": true}`, func(p *person) bool { return p.vip }},
			{`{"field": "tags", "op": "contains", "value": "diabetes"}`, func(p *person) bool { return slices.Contains(p.tags, "diabetes") }},
			{`{"field": "tags", "op": "exists"}`, func(p *person) bool { return len(p.tags) > 0 }},
			{`{"list": "` + l.ID + `"}`, func(p *person) bool { return p.listed }},
			{authz, func(p *person) bool { return p.authz == "live" }},
			{`{"and": [` + authz + `, {"list": "` + l.ID + `"}, {"or": [{"field": "vip", "op": "eq", "value": true}, {"not": {"field": "score", "op": "lt", "value": 0}}]}]}`,
				func(p *person) bool { return p.authz == "live" && p.listed && (p.vip || p.score >= 0) }},
		}
		for _, c := range cases {
			n, err := e.svc.Compile(ctx, e.tid, json.RawMessage(c.filter))
			if err != nil {
				t.Fatalf("%s: %v", c.filter, err)
			}
			var want []string
			for _, p := range ps {
				if c.want(p) {
					want = append(want, p.id)
				}
			}
			slices.Sort(want)
			var got []string
			after := ""
			for {
				page, err := e.db.SegmentContactIDs(ctx, e.tid, n, after, 97)
				if err != nil {
					t.Fatal(c.filter, err)
				}
				got = append(got, page...)
				if len(page) < 97 {
					break
				}
				after = page[len(page)-1]
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %d contacts, want %d", c.filter, len(got), len(want))
			}
			if cnt, err := e.db.SegmentCount(ctx, e.tid, n); err != nil || cnt != len(want) {
				t.Errorf("%s: count %d (%v), want %d", c.filter, cnt, err, len(want))
			}
			// The other tenant sees none of them.
			if cnt, _ := e.db.SegmentCount(ctx, e.tid2, n); cnt != 0 {
				t.Errorf("%s: %d contacts of another tenant", c.filter, cnt)
			}
		}

		// Revoking a live authorisation takes the contact out of the segment at once.
		n, _ := e.svc.Compile(ctx, e.tid, json.RawMessage(authz))
		for _, p := range ps {
			if p.authz != "live" {
				continue
			}
			if in, _ := e.db.SegmentHas(ctx, e.tid, p.id, n); !in {
				t.Fatal("a live authorisation is not in the segment")
			}
			cs, _ := e.svc.Consents(ctx, e.tid, p.id)
			if _, err := e.svc.RevokeConsent(ctx, e.tid, cs[0].ID, "preference_centre", nil); err != nil {
				t.Fatal(err)
			}
			if in, _ := e.db.SegmentHas(ctx, e.tid, p.id, n); in {
				t.Fatal("a revoked authorisation is still in the segment")
			}
			break
		}
	})
}

// TestSegmentValidation: every problem is reported with its path, and text that tries
// to become SQL is a validation error.
func TestSegmentValidation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.fields(t, e.tid, Field{Name: "plan", Type: TypeString, Filterable: true}, Field{Name: "score", Type: TypeNumber, Filterable: true},
			Field{Name: "name", Type: TypeString})
		if _, _, err := e.svc.PutContact(ctx, e.tid, &ContactInput{Email: "a@example.org", Fields: map[string]any{"plan": "gold"}}, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			filter string
			paths  []string
		}{
			{`{"field": "plan' OR '1'='1", "op": "eq", "value": "x"}`, []string{"filter.field"}},
			{`{"field": "plan", "op": "eq; DROP TABLE contacts; --", "value": "x"}`, []string{"filter.op"}},
			{`{"list": "lst_x' OR 1=1 --"}`, []string{"filter.list"}},
			{`{"consent": {"kind": "hipaa_authorization", "purpose": "x') OR 1=1 --"}}`, []string{"filter.consent.purpose"}},
			{`{"and": [{"field": "name", "op": "eq", "value": "x"}, {"field": "score", "op": "gt", "value": "ten"}, {"sql": "SELECT 1"}]}`,
				[]string{"filter.and[0].field", "filter.and[1].value", "filter.and[2].sql"}},
			{`{"or": []}`, []string{"filter.or"}},
			{`[1]`, []string{"filter"}},
		} {
			_, err := e.svc.Compile(ctx, e.tid, json.RawMessage(c.filter))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("%s: %v, want a validation error", c.filter, err)
			}
			var got []string
			for _, f := range ie.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, c.paths) {
				t.Errorf("%s: problems at %v, want %v", c.filter, got, c.paths)
			}
		}
		// A value that looks like SQL is only ever a hash: it matches nothing and breaks nothing.
		n, err := e.svc.Compile(ctx, e.tid, json.RawMessage(`{"field": "plan", "op": "eq", "value": "gold' OR '1'='1"}`))
		if err != nil {
			t.Fatal(err)
		}
		if cnt, err := e.db.SegmentCount(ctx, e.tid, n); err != nil || cnt != 0 {
			t.Fatalf("count %d, %v", cnt, err)
		}
		if cnt, _ := e.db.CountContacts(ctx, e.tid); cnt != 1 {
			t.Fatal("contacts changed")
		}
	})
}
