package tracking_test

import (
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// BenchmarkClickRedirect measures tracked-link redirects per second: each verifies the
// token, opens the sealed target, classifies the hit and commits a clicked event with
// its rollups, from 16 concurrent clients.
func BenchmarkClickRedirect(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchRedirect(b, storetest.SQLiteURL(b)) })
	b.Run("postgres", func(b *testing.B) { benchRedirect(b, storetest.PostgresURL(b)) })
}

func benchRedirect(b *testing.B, dbURL string) {
	w := newWorld(b, dbURL)
	var links []string
	for range 64 {
		rid := w.delivered(time.Now().Add(-time.Hour))
		links = append(links, clickURL.FindStringSubmatch(w.pages[rid])[1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetParallelism(parallelism()) // clients per core
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req, _ := http.NewRequest("GET", links[i%len(links)], nil)
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "redirects/s")
}

// parallelism is BENCH_PARALLELISM, default 8 (16 clients on 2 cores).
func parallelism() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_PARALLELISM")); err == nil && n > 0 {
		return n
	}
	return 8
}
