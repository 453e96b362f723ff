package archive

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// world is one database with one tenant and its archive.
type world struct {
	db      *store.DB
	svc     *Service
	tenants *tenant.Service
	keys    *tenant.Keys
	who     Actor
	now     time.Time
}

func newWorld(t testing.TB, url string) *world {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(seal.GenerateMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	ts := tenant.New(db, ring)
	ten, err := ts.Create(ctx, "clinic")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ts.Keys(ctx, ten.ID)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, svc: New(db, ts, nil), tenants: ts, keys: keys, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		who: Actor{TenantID: ten.ID, Principal: "test"}}
	w.svc.now = func() time.Time { return w.now }
	return w
}

// msg is one generated message and what a search should find it by.
type msg struct {
	id          string
	at          time.Time
	direction   string
	from        string // address
	fromName    []string
	to          []string
	subject     []string
	body        []string
	attachments []string
	tags        []string
	campaign    string
}

// vocab are made-up words that appear nowhere else: the canary search looks for them.
func vocab(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		b.WriteString("qz")
		for range 6 {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		out[i] = b.String()
	}
	return out
}

type corpus struct {
	words, names, senders, rcpts, files, tags, campaigns []string
}

func newCorpus(r *rand.Rand) *corpus {
	c := &corpus{words: vocab(r, 300), names: vocab(r, 20), tags: vocab(r, 6), campaigns: vocab(r, 3)}
	for _, v := range vocab(r, 15) {
		c.senders = append(c.senders, v+"@sender"+v[2:4]+".example")
	}
	for _, v := range vocab(r, 40) {
		c.rcpts = append(c.rcpts, v+"@rcpt.example")
	}
	for _, v := range vocab(r, 12) {
		c.files = append(c.files, v+"-report.pdf")
	}
	return c
}

func pick(r *rand.Rand, list []string, n int) []string {
	out := []string{}
	for range n {
		v := list[r.IntN(len(list))]
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (c *corpus) gen(r *rand.Rand, base time.Time, span time.Duration) *msg {
	m := &msg{at: base.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond).UTC(), direction: Outbound,
		from: c.senders[r.IntN(len(c.senders))], fromName: pick(r, c.names, 1), to: pick(r, c.rcpts, 1+r.IntN(3)),
		subject: pick(r, c.words, 3), body: pick(r, c.words, 8), attachments: pick(r, c.files, r.IntN(3)), tags: pick(r, c.tags, r.IntN(3))}
	if r.IntN(2) == 0 {
		m.direction = Inbound
	}
	if r.IntN(4) == 0 {
		m.campaign = c.campaigns[r.IntN(len(c.campaigns))]
	}
	return m
}

func (m *msg) raw() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d@gen.example>\r\nMIME-Version: 1.0\r\n",
		strings.Join(m.fromName, " "), m.from, strings.Join(m.to, ", "), strings.Join(m.subject, " "), m.at.Format(time.RFC1123Z), m.at.UnixNano())
	if len(m.attachments) == 0 {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\nFrom the clinic.\r\n", strings.Join(m.body, " "))
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n--b0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.Join(m.body, " ") + "\r\n")
	for _, f := range m.attachments {
		fmt.Fprintf(&b, "--b0\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n", f)
	}
	b.WriteString("--b0--\r\n")
	return []byte(b.String())
}

// journal writes messages straight through the archive's store API, many per write.
func (w *world) journal(t testing.TB, msgs []*msg) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < len(msgs); start += 250 {
		batch := msgs[start:min(start+250, len(msgs))]
		preps := make([]*Prepared, len(batch))
		for i, m := range batch {
			p, err := Prepare(w.keys, &Record{TenantID: w.who.TenantID, Direction: m.direction, At: m.at, Recipients: m.to,
				Tags: m.tags, Campaign: m.campaign, Raw: m.raw()})
			if err != nil {
				t.Fatal(err)
			}
			preps[i], m.id = p, p.ID()
		}
		err := w.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			for _, p := range preps {
				if err := p.Insert(ctx, tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Words are found once the index job ran, as in the server.
	if _, err := w.svc.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
}

// searchIDs runs a query to its end through the public Search, page by page.
func (w *world) searchIDs(t testing.TB, q Query) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		p, err := w.svc.Search(context.Background(), w.who, q, cursor, MaxPage)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Results {
			ids = append(ids, r.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	slices.Sort(ids)
	return ids
}
