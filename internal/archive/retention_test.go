package archive

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestPurgeRespectsHolds is a property test: over random datasets, random rules and
// random holds, a purge removes exactly the entries that are expired and unheld, and
// what it removed no longer opens. Each round's seed is logged to replay it.
func TestPurgeRespectsHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		ctx := context.Background()
		for round := range 6 {
			seed := uint64(time.Now().UnixNano())
			r := rand.New(rand.NewPCG(seed, uint64(round)))
			t.Logf("round %d seed %d", round, seed)
			// Each round is a tenant of its own.
			ten, err := w.tenants.Create(ctx, "round-"+string(rune('a'+round)))
			if err != nil {
				t.Fatal(err)
			}
			w.who.TenantID = ten.ID
			if w.keys, err = w.tenants.Keys(ctx, ten.ID); err != nil {
				t.Fatal(err)
			}
			propertyRound(t, w, r)
		}
	})
}

func propertyRound(t *testing.T, w *world, r *rand.Rand) {
	ctx := context.Background()
	c := newCorpus(r)
	c.tags, c.words = c.tags[:3], c.words[:20] // small vocabularies, so holds and rules overlap
	msgs := make([]*msg, 60+r.IntN(60))
	for i := range msgs {
		msgs[i] = c.gen(r, w.now.AddDate(-10, 0, 0), 10*365*24*time.Hour)
	}
	w.journal(t, msgs)

	// Rules: maybe a new default, and a few by direction, tag or campaign.
	defDays := DefaultDays
	var rules []Rule
	if r.IntN(2) == 0 {
		defDays = 365 * (1 + r.IntN(9))
		rules = append(rules, Rule{Days: defDays})
	}
	for range r.IntN(4) {
		rl := Rule{Days: 30 + r.IntN(3650)}
		switch r.IntN(3) {
		case 0:
			rl.Direction = []string{Inbound, Outbound}[r.IntN(2)]
		case 1:
			rl.Tag = c.tags[r.IntN(len(c.tags))]
		default:
			rl.Campaign = c.campaigns[r.IntN(len(c.campaigns))]
		}
		rules = append(rules, rl)
	}
	for _, rl := range rules {
		if _, err := w.svc.SetRule(ctx, w.who, rl); err != nil {
			t.Fatal(err)
		}
	}
	// The rules as stored: one per set of criteria, the last written.
	stored, err := w.svc.Rules(ctx, w.who)
	if err != nil {
		t.Fatal(err)
	}
	days := func(m *msg) int {
		best, def := 0, DefaultDays
		for _, rl := range stored {
			switch {
			case rl.Direction == "" && rl.Tag == "" && rl.Campaign == "":
				def = rl.Days
			case rl.Direction != "" && rl.Direction == m.direction,
				rl.Tag != "" && slices.Contains(m.tags, rl.Tag),
				rl.Campaign != "" && rl.Campaign == m.campaign:
				best = max(best, rl.Days)
			}
		}
		if best == 0 {
			return def
		}
		return best
	}

	// Holds of every kind, some released.
	type hold struct {
		Hold
		released bool
	}
	var holds []hold
	for range 1 + r.IntN(4) {
		h := Hold{Name: "matter"}
		switch r.IntN(4) {
		case 0:
			h.Since = w.now.AddDate(-10+r.IntN(8), 0, 0)
			h.Until = h.Since.AddDate(0, 6+r.IntN(12), 0)
		case 1:
			h.Address = strings.ToUpper(c.rcpts[r.IntN(len(c.rcpts))])
		case 2:
			h.Query = &Query{Body: c.words[r.IntN(len(c.words))]}
		default:
			h.Query = &Query{Tag: c.tags[r.IntN(len(c.tags))], Since: w.now.AddDate(-9, 0, 0)}
			h.Address = msgs[r.IntN(len(msgs))].from
		}
		placed, err := w.svc.PlaceHold(ctx, w.who, h)
		if err != nil {
			t.Fatal(err)
		}
		rel := r.IntN(4) == 0
		if rel {
			if err := w.svc.ReleaseHold(ctx, w.who, placed.ID); err != nil {
				t.Fatal(err)
			}
		}
		holds = append(holds, hold{h, rel})
	}
	heldBy := func(m *msg, h Hold) bool {
		if !h.Since.IsZero() && m.at.Before(h.Since) || !h.Until.IsZero() && !m.at.Before(h.Until) {
			return false
		}
		if a := strings.ToLower(h.Address); a != "" && m.from != a && !slices.Contains(m.to, a) {
			return false
		}
		if q := h.Query; q != nil {
			if q.Body != "" && !slices.Contains(m.body, q.Body) || q.Tag != "" && !slices.Contains(m.tags, q.Tag) ||
				!q.Since.IsZero() && m.at.Before(q.Since) {
				return false
			}
		}
		return true
	}

	rep, err := w.svc.Purge(ctx, w.who)
	if err != nil {
		t.Fatal(err)
	}
	wantPurged, wantHeld := 0, 0
	for _, m := range msgs {
		expired := !m.at.AddDate(0, 0, days(m)).After(w.now)
		held := false
		for _, h := range holds {
			held = held || !h.released && heldBy(m, h.Hold)
		}
		e, err := w.db.ArchiveEntry(ctx, w.who.TenantID, m.id)
		if err != nil {
			t.Fatal(err)
		}
		purged := !e.PurgedAt.IsZero()
		_, openErr := OpenContent(context.Background(), w.db, w.keys, e)
		switch {
		case expired && !held:
			wantPurged++
			if !purged || !errors.Is(openErr, ErrPurged) || e.Content != nil || e.KeyWrapped != nil {
				t.Errorf("entry %s (%s, %d days) expired and unheld but not shredded: purged=%v open=%v", m.id, m.at.Format("2006-01-02"), days(m), purged, openErr)
			}
		case held && expired:
			wantHeld++
			fallthrough
		default:
			if purged || openErr != nil {
				t.Errorf("entry %s (%s, %d days, held=%v) must be kept: purged=%v open=%v", m.id, m.at.Format("2006-01-02"), days(m), held, purged, openErr)
			}
		}
	}
	if rep.Purged != wantPurged || rep.Held != wantHeld {
		t.Errorf("report %+v, want purged %d held %d", rep, wantPurged, wantHeld)
	}
	// The purge is in the audit trail, and the archive still verifies.
	entries, err := w.db.AuditEntries(ctx, store.AuditFilter{TenantID: w.who.TenantID, Action: ActionPurge})
	if err != nil || len(entries) == 0 || !strings.Contains(entries[0].Detail, "purged=") {
		t.Fatalf("purge not audited: %v %v", entries, err)
	}
	if v, err := Verify(ctx, w.db, w.who.TenantID); err != nil || !v.OK() || v.Purged != wantPurged {
		t.Fatalf("after purge: %+v %v", v, err)
	}
}
