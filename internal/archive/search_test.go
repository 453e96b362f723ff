package archive

import (
	"bytes"
	"crypto/ed25519"
	crand "crypto/rand"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestSearchMatchesGroundTruth journals a generated corpus and checks that every
// query type returns exactly the messages that hold what it asks for; that the whole
// corpus exports and reads back intact through independent tools; then that the
// SQLite files hold none of the corpus's words.
func TestSearchMatchesGroundTruth(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	storetest.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		r := rand.New(rand.NewPCG(18, 1))
		c := newCorpus(r)
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		msgs := make([]*msg, n)
		for i := range msgs {
			msgs[i] = c.gen(r, base, 2*365*24*time.Hour)
		}
		start := time.Now()
		w.journal(t, msgs)
		t.Logf("journaled %d messages in %v", n, time.Since(start))
		start = time.Now()
		defer func() { t.Logf("searches took %v", time.Since(start)) }()

		truth := func(keep func(*msg) bool) []string {
			ids := []string{}
			for _, m := range msgs {
				if keep(m) {
					ids = append(ids, m.id)
				}
			}
			slices.Sort(ids)
			return ids
		}
		type tc struct {
			name string
			q    Query
			keep func(*msg) bool
		}
		var cases []tc
		for range 3 {
			word, word2 := c.words[r.IntN(len(c.words))], c.words[r.IntN(len(c.words))]
			sender, rcpt, name := c.senders[r.IntN(len(c.senders))], c.rcpts[r.IntN(len(c.rcpts))], c.names[r.IntN(len(c.names))]
			file, tag := c.files[r.IntN(len(c.files))], c.tags[r.IntN(len(c.tags))]
			since := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
			until := since.Add(30 * 24 * time.Hour)
			cases = append(cases,
				tc{"subject word", Query{Subject: word}, func(m *msg) bool { return slices.Contains(m.subject, word) }},
				tc{"subject two words", Query{Subject: word + " " + strings.ToUpper(word2)}, func(m *msg) bool {
					return slices.Contains(m.subject, word) && slices.Contains(m.subject, word2)
				}},
				tc{"body word", Query{Body: word}, func(m *msg) bool { return slices.Contains(m.body, word) }},
				tc{"from address", Query{From: strings.ToUpper(sender)}, func(m *msg) bool { return m.from == sender }},
				tc{"from name", Query{From: name}, func(m *msg) bool { return slices.Contains(m.fromName, name) }},
				tc{"to address", Query{To: rcpt}, func(m *msg) bool { return slices.Contains(m.to, rcpt) }},
				tc{"any address", Query{Address: rcpt}, func(m *msg) bool { return slices.Contains(m.to, rcpt) || m.from == rcpt }},
				tc{"attachment name", Query{Attachment: file}, func(m *msg) bool { return slices.Contains(m.attachments, file) }},
				tc{"attachment word", Query{Attachment: strings.TrimSuffix(file, "-report.pdf")}, func(m *msg) bool { return slices.Contains(m.attachments, file) }},
				tc{"tag", Query{Tag: tag}, func(m *msg) bool { return slices.Contains(m.tags, tag) }},
				tc{"date range", Query{Since: since, Until: until}, func(m *msg) bool { return !m.at.Before(since) && m.at.Before(until) }},
				tc{"direction and word and dates", Query{Direction: Inbound, Body: word, Since: since}, func(m *msg) bool {
					return m.direction == Inbound && slices.Contains(m.body, word) && !m.at.Before(since)
				}},
			)
		}
		campaign := c.campaigns[0]
		cases = append(cases,
			tc{"direction", Query{Direction: Outbound}, func(m *msg) bool { return m.direction == Outbound }},
			tc{"campaign", Query{Campaign: campaign}, func(m *msg) bool { return m.campaign == campaign }},
			tc{"word nowhere", Query{Body: "nosuchword"}, func(m *msg) bool { return false }},
		)
		for _, tc := range cases {
			got, want := w.searchIDs(t, tc.q), truth(tc.keep)
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %d results, want %d", tc.name, len(got), len(want))
			}
		}
		// The whole corpus exported as one mbox, read back by Python's mailbox module
		// message by message, its manifest verified by openssl.
		_, key, _ := ed25519.GenerateKey(crand.Reader)
		exportReadBack(t, w, msgs, FormatMbox, key, t.TempDir())
		if strings.HasPrefix(url, "sqlite:") {
			w.db.Close()
			canary(t, filepath.Dir(strings.TrimPrefix(url, "sqlite:")), c)
		}
	})
}

// canary reads every file of the database and fails on any word of the corpus.
func canary(t *testing.T, dir string, c *corpus) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var all [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, bytes.ToLower(b))
	}
	if len(all) == 0 {
		t.Fatal("no database files to search")
	}
	// Every corpus word starts with "qz" and six letters: find each such run once
	// and look it up, instead of searching the files once per word.
	words := map[string]bool{}
	for _, l := range [][]string{c.words, c.names, c.senders, c.rcpts, c.files, c.tags, c.campaigns} {
		for _, v := range l {
			words[v[:8]] = true
		}
	}
	for i, b := range all {
		for off := 0; ; {
			j := bytes.Index(b[off:], []byte("qz"))
			if j < 0 {
				break
			}
			off += j + 1
			if end := off - 1 + 8; end <= len(b) && words[string(b[off-1:end])] {
				t.Errorf("corpus word %q found in %s", b[off-1:end], files[i])
			}
		}
	}
}
