package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// BenchmarkStatsByDomain reads 30 days grouped by recipient domain, by day, from the
// rollups of 1,000,000 recipients over 200 domains. The rollups are written straight
// into their table: a million recipients through the events would take hours.
func BenchmarkStatsByDomain(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchStats(b, storetest.SQLiteURL(b)) })
	b.Run("postgres", func(b *testing.B) { benchStats(b, storetest.PostgresURL(b)) })
}

func benchStats(b *testing.B, dbURL string) {
	ctx := context.Background()
	w := newWorld(b, dbURL)
	tenantID, _ := w.tenant(b, "clinic")
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	start := end.Add(-30 * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	const recipients, domains = 1_000_000, 200
	// Domain i gets a share falling with its rank, as real recipient domains do.
	var weights []float64
	total := 0.0
	for i := range domains {
		weights = append(weights, 1/float64(i+1))
		total += 1 / float64(i+1)
	}
	var rows, totals []store.RollupRow
	perHour := map[time.Time][]int64{}
	for i := range domains {
		share := int64(float64(recipients) * weights[i] / total)
		hours := map[time.Time]int64{}
		for n := int64(0); n < share; {
			k := min(share-n, 1+int64(rng.IntN(200)))
			hours[start.Add(time.Duration(rng.IntN(720))*time.Hour)] += k
			n += k
		}
		for h, n := range hours {
			c := make([]int64, len(store.Counters))
			c[0], c[1], c[6], c[9], c[14] = n, n*97/100, n*40/100, n*8/100, n*97/100 // accepted, delivered, opened, clicked, secured_tls
			rows = append(rows, store.RollupRow{Value: fmt.Sprintf("d%03d.example", i), Start: h, Counts: c})
			if perHour[h] == nil {
				perHour[h] = make([]int64, len(store.Counters))
			}
			for j := range c {
				perHour[h][j] += c[j]
			}
		}
	}
	for h, c := range perHour {
		totals = append(totals, store.RollupRow{Start: h, Counts: c})
	}
	for i := 0; i < len(rows); i += 5000 {
		chunk := rows[i:min(i+5000, len(rows))]
		if err := w.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertRollups(ctx, tenantID, chunk, store.DimDomain)
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertRollups(ctx, tenantID, totals, store.DimTotal)
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d rollup rows for the domain grouping", len(rows))
	q := report.Query{From: start, To: end, Interval: "day", GroupBy: "domain"}
	b.ResetTimer()
	for b.Loop() {
		res, err := w.svc.Stats(ctx, tenantID, q)
		if err != nil {
			b.Fatal(err)
		}
		var sum int64
		for _, g := range res.Groups {
			sum += g.Totals.Accepted
		}
		if len(res.Groups) != domains || sum < recipients*99/100 {
			b.Fatalf("%d groups, %d accepted", len(res.Groups), sum)
		}
	}
}
