package marketing

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// csvGen writes a generated CSV row by row as it is read, so the test's own memory
// does not hide the importer's. Every 97th row has a bad score, every 211th a bad
// address, every 503rd a bad date and a bad flag at once.
type csvGen struct {
	n, i int
	buf  bytes.Buffer
	w    *csv.Writer
}

func newGen(n int) *csvGen {
	g := &csvGen{n: n}
	g.w = csv.NewWriter(&g.buf)
	g.w.Write([]string{"email", "name", "plan", "score", "visit", "vip", "tags"})
	g.w.Flush()
	return g
}

type badCell struct {
	row int
	col string
}

func expectedBad(n int) []badCell {
	var out []badCell
	for i := 0; i < n; i++ {
		row := i + 2
		if i%211 == 5 {
			out = append(out, badCell{row, "email"})
		}
		if i%97 == 3 {
			out = append(out, badCell{row, "score"})
		}
		if i%503 == 7 {
			out = append(out, badCell{row, "visit"}, badCell{row, "vip"})
		}
	}
	return out
}

func (g *csvGen) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i < g.n {
		i := g.i
		email := fmt.Sprintf("patient%06d@example.org", i)
		if i%211 == 5 {
			email = "not-an-address"
		}
		score := fmt.Sprint(i % 1000)
		if i%97 == 3 {
			score = "lots"
		}
		visit, vip := fmt.Sprintf("2025-%02d-%02d", i%12+1, i%28+1), fmt.Sprint(i%2 == 0)
		if i%503 == 7 {
			visit, vip = "2025-13-45", "maybe"
		}
		g.w.Write([]string{email, fmt.Sprintf("Name %d", i), []string{"gold", "silver", "bronze"}[i%3], score, visit, vip, "a;b"})
		g.w.Flush()
		g.i++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// TestImport100k imports 100,000 generated rows with deliberate errors: the report
// names every bad row and column, the good rows are stored, and the heap stays flat
// (sampled while the import runs).
func TestImport100k(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 5000
	}
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.fields(t, e.tid, Field{Name: "name", Type: TypeString}, Field{Name: "plan", Type: TypeString, Filterable: true},
			Field{Name: "score", Type: TypeNumber}, Field{Name: "visit", Type: TypeDate}, Field{Name: "vip", Type: TypeBoolean, Filterable: true},
			Field{Name: "tags", Type: TypeList})
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tk := time.NewTicker(50 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}
		}()
		start := time.Now()
		rep, err := e.svc.Import(ctx, e.tid, newGen(n), ImportOptions{}, nil)
		close(stop)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		want := expectedBad(n)
		badRows := map[int]bool{}
		for _, b := range want {
			badRows[b.row] = true
		}
		if len(rep.Problems) != len(want) {
			t.Fatalf("report lists %d problems, want %d", len(rep.Problems), len(want))
		}
		for i, p := range rep.Problems {
			if p.Row != want[i].row || p.Column != want[i].col {
				t.Fatalf("problem %d: row %d column %q, want row %d column %q", i, p.Row, p.Column, want[i].row, want[i].col)
			}
			if strings.Contains(p.Detail, "lots") || strings.Contains(p.Detail, "not-an-address") {
				t.Fatalf("problem detail quotes the value: %q", p.Detail)
			}
		}
		if rep.Rows != n || rep.Stored != n-len(badRows) || rep.Created != rep.Stored {
			t.Fatalf("rows %d stored %d created %d; want %d, %d", rep.Rows, rep.Stored, rep.Created, n, n-len(badRows))
		}
		got, err := e.db.CountContacts(ctx, e.tid)
		if err != nil || got != rep.Stored {
			t.Fatalf("%d contacts stored (%v), want %d", got, err, rep.Stored)
		}
		c, err := e.svc.ContactByEmail(ctx, e.tid, "patient000010@example.org")
		if err != nil || c.Fields["plan"] != "silver" || c.Fields["score"] != float64(10) || c.Fields["visit"] != "2025-11-11" {
			t.Fatalf("contact 10: %+v, %v", c, err)
		}
		growth := int64(peak.Load()) - int64(base.HeapInuse)
		t.Logf("%d rows in %v (%.0f rows/s); heap in use: %d MiB before, peak %d MiB (growth %d MiB)",
			n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds(), base.HeapInuse>>20, peak.Load()>>20, growth>>20)
		// Flat: what a batch costs, not what the file weighs (the file is ~7 MB and the
		// problems report itself grows by ~1,500 entries).
		if growth > 48<<20 {
			t.Fatalf("heap grew by %d MiB during the import", growth>>20)
		}

		// Export round-trips the stored contacts.
		var out bytes.Buffer
		cnt, err := e.svc.Export(ctx, e.tid, &out)
		if err != nil || cnt != rep.Stored {
			t.Fatalf("export wrote %d (%v), want %d", cnt, err, rep.Stored)
		}
		r := csv.NewReader(&out)
		head, _ := r.Read()
		if strings.Join(head, ",") != "email,name,plan,score,tags,vip,visit" {
			t.Fatalf("export header %v", head)
		}
	})
}
