package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// BenchmarkAccept measures durably accepted messages per second through the API:
// 10 KiB text, one recipient, 64 concurrent clients in a closed loop. The API role runs
// alone so the figure is acceptance, not acceptance competing with delivery.
//
//	go test -run '^$' -bench Accept -benchtime 5000x ./internal/server/
func BenchmarkAccept(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			url := storetest.SQLiteURL(b)
			if db == "postgres" {
				url = storetest.PostgresURL(b)
			}
			e := newEnv(b, url, envOptions{roles: "api", quiet: true})
			body := []byte(fmt.Sprintf(`{"from":"a@clinic.example","to":"pat@patient.example","subject":"results","text":%q}`, strings.Repeat("0123456789abcdef", 640)))
			tr := &http.Transport{MaxIdleConnsPerHost: 128}
			hc := &http.Client{Transport: tr}
			b.SetParallelism(32) // 2 cores × 32 = 64 clients
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("POST", e.base+"/v1/messages", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+e.key)
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 202 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
