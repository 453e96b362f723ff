package archive

import (
	"context"
	"crypto/ed25519"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// Benchmarks over large generated archives. The corpus size comes from
// SEALPOST_BENCH_ARCHIVE_N (default 100000); SEALPOST_BENCH_POSTGRES=1 runs them on
// PostgreSQL instead of SQLite. Generating 100,000 entries takes minutes on a small
// machine: run them with -bench, never in the suite.

func benchWorld(b *testing.B, n int) (*world, *corpus) {
	url := storetest.SQLiteURL(b)
	if os.Getenv("SEALPOST_BENCH_POSTGRES") != "" {
		url = storetest.PostgresURL(b)
	}
	w := newWorld(b, url)
	r := rand.New(rand.NewPCG(100, 1))
	c := newCorpus(r)
	start := time.Now()
	for done := 0; done < n; done += 5000 {
		msgs := make([]*msg, min(5000, n-done))
		for i := range msgs {
			msgs[i] = c.gen(r, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 5*365*24*time.Hour)
		}
		w.journal(b, msgs)
	}
	b.Logf("journaled %d entries in %v", n, time.Since(start))
	return w, c
}

func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("SEALPOST_BENCH_ARCHIVE_N")); err == nil && v > 0 {
		return v
	}
	return 100000
}

// BenchmarkArchive builds one large archive, then measures one page (100 results) of
// each query type, and the heap's peak while the whole archive is exported.
func BenchmarkArchive(b *testing.B) {
	w, c := benchWorld(b, benchN())
	b.Run("search", func(b *testing.B) { benchSearch(b, w, c) })
	b.Run("export", func(b *testing.B) { benchExport(b, w, benchN()) })
}

func benchSearch(b *testing.B, w *world, c *corpus) {
	ctx := context.Background()
	since := time.Date(2022, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		q    Query
	}{
		{"body-word", Query{Body: c.words[7]}},
		{"subject-2-words", Query{Subject: c.words[3] + " " + c.words[9]}},
		{"from-address", Query{From: c.senders[2]}},
		{"to-address", Query{To: c.rcpts[5]}},
		{"attachment", Query{Attachment: c.files[1]}},
		{"tag", Query{Tag: c.tags[0]}},
		{"direction", Query{Direction: Inbound}},
		{"date-month", Query{Since: since, Until: since.AddDate(0, 1, 0)}},
		{"direction+body+date", Query{Direction: Outbound, Body: c.words[11], Since: since}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := w.svc.Search(ctx, w.who, bc.q, "", 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchExport exports the whole archive and reports the heap's peak while it runs
// (sampled every millisecond), to compare sizes: it should stay flat.
func benchExport(b *testing.B, w *world, n int) {
	_, key, _ := ed25519.GenerateKey(crand.Reader)
	for _, format := range []string{FormatMbox, FormatZip} {
		b.Run(fmt.Sprintf("%s-%d", format, n), func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				var peak atomic.Uint64
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					var m runtime.MemStats
					for {
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
						runtime.ReadMemStats(&m)
						if m.HeapInuse > peak.Load() {
							peak.Store(m.HeapInuse)
						}
					}
				}()
				path := filepath.Join(b.TempDir(), "export.zip")
				f, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := w.svc.Export(context.Background(), w.who, Query{}, format, key, f)
				close(stop)
				<-done
				f.Close()
				if err != nil || rep.Messages != n {
					b.Fatalf("export: %+v %v", rep, err)
				}
				b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-MiB")
				b.StopTimer()
				verifyBundle(b, path, key)
				b.StartTimer()
			}
		})
	}
}

// verifyBundle reads a large bundle back (ZIP64 past 65,535 files) with VerifyExport.
func verifyBundle(b *testing.B, path string, key ed25519.PrivateKey) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	chk, err := VerifyExport(f, st.Size(), key.Public().(ed25519.PublicKey))
	if err != nil || len(chk.Problems) != 0 {
		b.Fatalf("verify export: %v %v", err, chk)
	}
}
