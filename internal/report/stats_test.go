package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
	"golang.org/x/sync/errgroup"
)

type world struct {
	db      *store.DB
	tenants *tenant.Service
	svc     *report.Service
}

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
	return &world{db: db, tenants: ts, svc: report.New(db, ts)}
}

func (w *world) tenant(t testing.TB, name string) (string, *tenant.Keys) {
	t.Helper()
	tn, err := w.tenants.Create(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := w.tenants.Keys(context.Background(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID, keys
}

// truth is what the test expects one group to count, by counter name.
type truth map[string]int64

// ev is one event the generator writes, with the class of an open or click.
type ev struct {
	typ, class string
	at         time.Time
	method     string // the recipient's method once this event is written
}

type genRcpt struct {
	domain string
	queued bool
	events []ev
}

type genMsg struct {
	from, subject, campaign string
	tags                    []string
	meta                    map[string]string
	sandbox                 bool
	at                      time.Time
	rcpts                   []genRcpt
}

const canarySubject = "Canary 7731 biopsy results"

var (
	domains   = []string{"a.example", "b.example", "c.example", "d.example", "e.example"}
	campaigns = []string{"", "flu-2026", "=HYPERLINK(1)", "diabetes-check"}
	subjects  = []string{"Your appointment", canarySubject, "Invoice", "Test results ready"}
	froms     = []string{"clinic@hospital.example", "lab@hospital.example", "billing@hospital.example"}
	clinics   = []string{"north", "south", "east"}
	methods   = []string{"tls", "pgp", "smime", "portal"}
)

// generate makes messages with known outcomes: n recipients, two per message.
func generate(rng *rand.Rand, base time.Time, n int, sandbox bool) []genMsg {
	var out []genMsg
	for len(out)*2 < n {
		m := genMsg{from: froms[rng.IntN(len(froms))], subject: subjects[rng.IntN(len(subjects))],
			campaign: campaigns[rng.IntN(len(campaigns))], meta: map[string]string{"clinic": clinics[rng.IntN(len(clinics))]},
			sandbox: sandbox, at: base.Add(time.Duration(rng.IntN(72*60)) * time.Minute)}
		if rng.IntN(2) == 0 {
			m.tags = append(m.tags, "reminder")
		}
		if rng.IntN(3) == 0 {
			m.tags = append(m.tags, "lab")
		}
		if rng.IntN(4) == 0 {
			m.meta["dept"] = "cardiology"
		}
		for range 2 {
			r := genRcpt{domain: domains[rng.IntN(len(domains))]}
			at := m.at
			next := func() time.Time { at = at.Add(time.Duration(1+rng.IntN(300)) * time.Minute); return at }
			r.events = append(r.events, ev{typ: "accepted", at: m.at})
			switch k := rng.IntN(10); {
			case k == 0:
				r.queued = true
				if rng.IntN(2) == 0 {
					r.events = append(r.events, ev{typ: "deferred", at: next()})
				}
			case k == 1:
				r.events = append(r.events, ev{typ: "bounced", at: next()})
			case k == 2:
				r.events = append(r.events, ev{typ: "deferred", at: next()}, ev{typ: "expired", at: next()})
			case k == 3:
				r.events = append(r.events, ev{typ: "dropped", at: next()})
			default:
				for range rng.IntN(3) {
					r.events = append(r.events, ev{typ: "deferred", at: next()})
				}
				method := methods[rng.IntN(len(methods))]
				t := next()
				r.events = append(r.events, ev{typ: "delivered", at: t, method: method}, ev{typ: "secured", at: t, method: method})
				for range rng.IntN(4) { // opens, some repeated, of every class
					r.events = append(r.events, ev{typ: "opened", class: []string{"human", "proxy", "machine"}[rng.IntN(3)], at: next(), method: method})
				}
				for range rng.IntN(3) {
					r.events = append(r.events, ev{typ: "clicked", class: []string{"human", "human", "machine"}[rng.IntN(3)], at: next(), method: method})
				}
			}
			m.rcpts = append(m.rcpts, r)
		}
		out = append(out, m)
	}
	return out
}

// write stores generated messages and their events straight into the store, through
// the same InsertMessage and InsertEvents every writer uses.
func write(t *testing.T, db *store.DB, tenantID string, keys *tenant.Keys, msgs []genMsg) {
	t.Helper()
	ctx := context.Background()
	var g errgroup.Group
	g.SetLimit(4) // concurrent writers, as the API's are
	for start := 0; start < len(msgs); start += 250 {
		batch := msgs[start:min(start+250, len(msgs))]
		g.Go(func() error { return writeBatch(ctx, db, tenantID, keys, batch) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func writeBatch(ctx context.Context, db *store.DB, tenantID string, keys *tenant.Keys, batch []genMsg) error {
	{
		err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			for _, g := range batch {
				id := tenant.NewID("msg")
				var tagHashes []string
				for _, tg := range g.tags {
					tagHashes = append(tagHashes, pipeline.LabelHash(keys, "tag", tg))
				}
				ch := ""
				if g.campaign != "" {
					ch = pipeline.LabelHash(keys, "campaign", g.campaign)
				}
				m := &store.Message{ID: id, TenantID: tenantID, CreatedAt: g.at, FromDomain: "hospital.example", Sandbox: g.sandbox,
					Campaign: ch, Tags: tagHashes, Envelope: []byte("sealed"),
					Report: report.MessageDims(keys, report.Labels{From: g.from, Subject: g.subject, Metadata: g.meta,
						Campaign: g.campaign, CampaignHash: ch, Tags: g.tags, TagHashes: tagHashes})}
				var rcpts []*store.Recipient
				var jobs []*store.Job
				var first []*store.Event
				for i, r := range g.rcpts {
					rid := fmt.Sprintf("rcp_%s_%d", id, i)
					rcpts = append(rcpts, &store.Recipient{ID: rid, MessageID: id, TenantID: tenantID, Kind: "to", Address: []byte("sealed"),
						AddressHash: keys.AddressHash(fmt.Sprintf("p%d@%s", i, r.domain)), Domain: r.domain, Status: "queued", UpdatedAt: g.at})
					if r.queued {
						jobs = append(jobs, &store.Job{RecipientID: rid, MessageID: id, TenantID: tenantID, Domain: r.domain, Sandbox: g.sandbox,
							CreatedAt: g.at, ExpiresAt: g.at.Add(5 * 24 * time.Hour), NextAttemptAt: g.at})
					}
					first = append(first, &store.Event{TenantID: tenantID, MessageID: id, RecipientID: rid, Type: "accepted", At: g.at, Sandbox: g.sandbox},
						&store.Event{TenantID: tenantID, MessageID: id, RecipientID: rid, Type: "queued", At: g.at, Sandbox: g.sandbox})
				}
				if err := tx.InsertMessage(ctx, m, rcpts, jobs, first); err != nil {
					return err
				}
				for i, r := range g.rcpts {
					rid := rcpts[i].ID
					// Events before delivery, then the recipient's method, then the rest:
					// each a call as the worker and the tracker make them.
					var evs []*store.Event
					flush := func() error {
						err := tx.InsertEvents(ctx, evs...)
						evs = nil
						return err
					}
					for _, e := range r.events[1:] {
						if e.typ == "delivered" {
							if err := flush(); err != nil {
								return err
							}
							if err := tx.SetRecipientOutcome(ctx, rid, "delivered", e.at, nil, e.method, nil); err != nil {
								return err
							}
						}
						evs = append(evs, &store.Event{TenantID: tenantID, MessageID: id, RecipientID: rid, Type: e.typ,
							At: e.at, Sandbox: g.sandbox, Class: e.class})
					}
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		return err
	}
}

// groupLabels are the labels of the groups a recipient's event counts under, per
// group_by, as the report shows them.
func groupLabels(g genMsg, r genRcpt, e ev) map[string][]string {
	method := e.method
	if method == "" {
		method = "not yet delivered"
	}
	l := map[string][]string{
		"": {"all"}, "domain": {r.domain}, "method": {method}, "from": {g.from}, "subject": {g.subject},
		"metadata.clinic": {g.meta["clinic"]}, "tag": g.tags,
	}
	if g.campaign != "" {
		l["campaign"] = []string{g.campaign}
	}
	if d := g.meta["dept"]; d != "" {
		l["metadata.dept"] = []string{d}
	}
	return l
}

// groundTruth counts what the report must show: per group_by, per label, per counter.
// bucket, when not zero, keeps only events in that step (of the given length).
func groundTruth(msgs []genMsg, from, to time.Time) map[string]map[string]truth {
	out := map[string]map[string]truth{}
	add := func(by, label, counter string) {
		if out[by] == nil {
			out[by] = map[string]truth{}
		}
		if out[by][label] == nil {
			out[by][label] = truth{}
		}
		out[by][label][counter]++
	}
	for _, g := range msgs {
		if g.sandbox {
			continue
		}
		for _, r := range g.rcpts {
			seen := map[string]bool{}
			for _, e := range r.events {
				counter := e.typ
				switch e.typ {
				case "dropped":
					counter = "failed"
				case "secured":
					counter = "secured_" + e.method
				case "opened", "clicked":
					if e.class != "human" {
						counter += "_" + e.class
					}
					if seen[counter] {
						continue
					}
					seen[counter] = true
				}
				if e.at.Before(from) || !e.at.Before(to) {
					continue
				}
				for by, labels := range groupLabels(g, r, e) {
					for _, l := range labels {
						add(by, l, counter)
					}
				}
			}
			if r.queued {
				for by, labels := range groupLabels(g, r, ev{}) {
					for _, l := range labels {
						add(by, l, "in_queue")
					}
				}
			}
		}
	}
	return out
}

// flat names a Counts' numbers by counter, as the ground truth does.
func flat(c report.Counts) truth {
	out := truth{"accepted": c.Accepted, "delivered": c.Delivered, "deferred": c.Deferred, "bounced": c.Bounced,
		"expired": c.Expired, "failed": c.Failed, "opened": c.Opened, "opened_proxy": c.OpenedProxy,
		"opened_machine": c.OpenedMachine, "clicked": c.Clicked, "clicked_proxy": c.ClickedProxy, "clicked_machine": c.ClickedMachine,
		"unsubscribed": c.Unsubscribed, "complained": c.Complained, "secured_tls": c.Secured.TLS, "secured_pgp": c.Secured.PGP,
		"secured_smime": c.Secured.SMIME, "secured_portal": c.Secured.Portal, "secured_none": c.Secured.None}
	if c.InQueue != nil {
		out["in_queue"] = *c.InQueue
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

func TestStatsEqualGroundTruth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, dbURL)
		ctx := context.Background()
		tenantID, keys := w.tenant(t, "clinic")
		otherID, otherKeys := w.tenant(t, "other")
		rng := rand.New(rand.NewPCG(14, 1))
		base := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
		msgs := generate(rng, base, 10_000, false)
		msgs = append(msgs, generate(rng, base, 400, true)...) // sandbox: never counted
		write(t, w.db, tenantID, keys, msgs)
		write(t, w.db, otherID, otherKeys, generate(rng, base, 200, false)) // another tenant: never counted

		from, to := base.Add(-time.Hour), base.Add(6*24*time.Hour)
		want := groundTruth(msgs, from, to)
		if n := want[""]["all"]["accepted"]; n != 10_000 {
			t.Fatalf("generated %d recipients", n)
		}
		for _, by := range []string{"", "domain", "campaign", "tag", "from", "subject", "method", "metadata.clinic", "metadata.dept"} {
			res, err := w.svc.Stats(ctx, tenantID, report.Query{From: from, To: to, Interval: "day", GroupBy: by})
			if err != nil {
				t.Fatalf("group_by %q: %v", by, err)
			}
			got := map[string]truth{}
			for _, g := range res.Groups {
				if _, dup := got[g.Label]; dup {
					t.Fatalf("group_by %q: label %q twice", by, g.Label)
				}
				got[g.Label] = flat(g.Totals)
				sum := report.Counts{}
				for _, p := range g.Series {
					if p.Start.Hour() != 0 {
						t.Fatalf("group_by %q: a day starts at %v", by, p.Start)
					}
					addCounts(&sum, p.Counts)
				}
				sum.InQueue = g.Totals.InQueue
				if fmt.Sprint(flat(sum)) != fmt.Sprint(flat(g.Totals)) {
					t.Fatalf("group_by %q %q: series sum %v, totals %v", by, g.Label, flat(sum), flat(g.Totals))
				}
				wantRates(t, g.Totals)
			}
			if fmt.Sprint(got) != fmt.Sprint(want[by]) {
				t.Fatalf("group_by %q:\n got %v\nwant %v", by, got, want[by])
			}
			checkCSV(t, res)
		}

		// Hourly and weekly steps of the total match the ground truth of each step.
		for _, iv := range []struct {
			name string
			step time.Duration
		}{{"hour", time.Hour}, {"week", 7 * 24 * time.Hour}} {
			res, err := w.svc.Stats(ctx, tenantID, report.Query{From: base, To: base.Add(14 * 24 * time.Hour), Interval: iv.name})
			if err != nil {
				t.Fatal(err)
			}
			steps := 0
			for _, p := range res.Groups[0].Series {
				want := groundTruth(msgs, p.Start, p.Start.Add(iv.step))[""]["all"]
				delete(want, "in_queue") // a count of now, in the totals only
				if fmt.Sprint(flat(p.Counts)) != fmt.Sprint(want) {
					t.Fatalf("%s from %v: got %v want %v", iv.name, p.Start, flat(p.Counts), want)
				}
				if iv.name == "week" && p.Start.Weekday() != time.Monday {
					t.Fatalf("a week starts on %v", p.Start.Weekday())
				}
				steps++
			}
			if steps == 0 {
				t.Fatalf("no %s steps", iv.name)
			}
		}
		canary(t, w.db, canarySubject, "diabetes-check", "HYPERLINK")
	})
}

func addCounts(dst *report.Counts, c report.Counts) {
	f := flat(c)
	d := flat(*dst)
	for k, v := range f {
		d[k] += v
	}
	*dst = report.Counts{Accepted: d["accepted"], Delivered: d["delivered"], Deferred: d["deferred"], Bounced: d["bounced"],
		Expired: d["expired"], Failed: d["failed"], Opened: d["opened"], OpenedProxy: d["opened_proxy"], OpenedMachine: d["opened_machine"],
		Clicked: d["clicked"], ClickedProxy: d["clicked_proxy"], ClickedMachine: d["clicked_machine"], Unsubscribed: d["unsubscribed"],
		Complained: d["complained"], Secured: report.Secured{TLS: d["secured_tls"], PGP: d["secured_pgp"], SMIME: d["secured_smime"],
			Portal: d["secured_portal"], None: d["secured_none"]}}
}

func wantRates(t *testing.T, c report.Counts) {
	t.Helper()
	div := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	want := report.Rates{Delivery: div(c.Delivered, c.Accepted), Open: div(c.Opened, c.Delivered),
		ClickThrough: div(c.Clicked, c.Delivered), ClickToOpen: div(c.Clicked, c.Opened)}
	if c.Rates != want {
		t.Fatalf("rates %+v, want %+v", c.Rates, want)
	}
}

// checkCSV reads the CSV export back and compares every cell with the JSON export.
func checkCSV(t *testing.T, res *report.Result) {
	t.Helper()
	var jb, cb bytes.Buffer
	if err := report.WriteJSON(&jb, res); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteCSV(&cb, res); err != nil {
		t.Fatal(err)
	}
	var back report.Result
	if err := json.Unmarshal(jb.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(report.CSVHeader, ",") {
		t.Fatalf("csv header %v", rows[0])
	}
	rows = rows[1:]
	i := 0
	for _, g := range back.Groups {
		points := append([]report.Point{{Counts: g.Totals}}, g.Series...)
		for _, p := range points {
			row := rows[i]
			i++
			cell := func(name string) string {
				for j, h := range report.CSVHeader {
					if h == name {
						return row[j]
					}
				}
				t.Fatalf("no column %s", name)
				return ""
			}
			if cell("key") != g.Key || strings.TrimPrefix(cell("label"), "'") != g.Label {
				t.Fatalf("csv row %d names %s/%s, json %s/%s", i, cell("key"), cell("label"), g.Key, g.Label)
			}
			if p.Start.IsZero() != (cell("start") == "") {
				t.Fatalf("csv row %d start %q, json %v", i, cell("start"), p.Start)
			}
			for counter, v := range flat(p.Counts) {
				if cell(counter) != strconv.FormatInt(v, 10) {
					t.Fatalf("csv %s %q %s = %s, json %d", g.Key, cell("start"), counter, cell(counter), v)
				}
			}
			for name, v := range map[string]float64{"delivery_rate": p.Counts.Rates.Delivery, "open_rate": p.Counts.Rates.Open,
				"click_through_rate": p.Counts.Rates.ClickThrough, "click_to_open_rate": p.Counts.Rates.ClickToOpen} {
				if f, err := strconv.ParseFloat(cell(name), 64); err != nil || f != v {
					t.Fatalf("csv %s %s = %s, json %v", g.Key, name, cell(name), v)
				}
			}
			if strings.HasPrefix(cell("label"), "=") {
				t.Fatalf("csv label %q would run as a formula", cell("label"))
			}
		}
	}
	if i != len(rows) {
		t.Fatalf("csv has %d rows, json %d", len(rows), i)
	}
}

// canary fails if any of the texts is stored in the clear in the report tables or the
// message and event tables.
func canary(t *testing.T, db *store.DB, texts ...string) {
	t.Helper()
	for _, table := range []string{"report_dims", "report_labels", "report_rollups", "report_firsts", "messages", "recipients", "events"} {
		rows, err := db.SQL().Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case []byte:
					s = string(v)
				case string:
					s = v
				}
				for _, c := range texts {
					if strings.Contains(strings.ToLower(s), strings.ToLower(c)) {
						t.Fatalf("%s.%s holds %q in the clear", table, cols[i], c)
					}
				}
			}
		}
		rows.Close()
	}
}
