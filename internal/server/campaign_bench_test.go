package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// BenchmarkCampaignVsAPI compares, in one run on one server, the rate at which a
// campaign gets messages accepted and delivered with the rate of plain API sends
// (POST /v1/messages from 32 concurrent clients) to as many recipients: each figure is
// messages delivered at the receiver per second, from the first request (or from
// scheduling) to the last delivery. b.N is the number of recipients of each.
//
//	go test -run '^$' -bench CampaignVsAPI -benchtime 2000x ./internal/server/
func BenchmarkCampaignVsAPI(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			url := storetest.SQLiteURL(b)
			if db == "postgres" {
				url = storetest.PostgresURL(b)
			}
			clock := newTestClock()
			e := newEnv(b, url, envOptions{quiet: true, options: campaignOptions(clock)})
			n := b.N
			list, _ := e.audience(n, func(int) bool { return true })
			b.ResetTimer()
			waitDelivered := func(want int) {
				for len(e.rcv.Messages()) < want {
					time.Sleep(10 * time.Millisecond)
				}
			}
			// Plain API sends, to the same addresses.
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			start := time.Now()
			work := make(chan int)
			var wg sync.WaitGroup
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						body := fmt.Sprintf(`{"from":"news@clinic.example","to":%q,"subject":"Flu shots","text":"Book online."}`, addr(i))
						req, _ := http.NewRequest("POST", e.base+"/v1/messages", bytes.NewReader([]byte(body)))
						req.Header.Set("Authorization", "Bearer "+e.key)
						resp, err := hc.Do(req)
						if err != nil {
							b.Error(err)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 202 {
							b.Errorf("status %d", resp.StatusCode)
						}
					}
				}()
			}
			for i := range n {
				work <- i
			}
			close(work)
			wg.Wait()
			waitDelivered(n)
			api := float64(n) / time.Since(start).Seconds()
			// The campaign, unthrottled, to the same audience.
			start = time.Now()
			id := e.startCampaign(e.marketer(), map[string]any{"name": "Flu shots", "from": "news@clinic.example", "subject": "Flu shots",
				"text": "Book online. {{unsubscribe_url}}", "lists": []string{list}})
			waitDelivered(2 * n)
			cmp := float64(n) / time.Since(start).Seconds()
			b.StopTimer()
			if st := e.state(id); st != "finished" && st != "running" {
				b.Fatalf("campaign %s", st)
			}
			b.ReportMetric(api, "api_msgs/s")
			b.ReportMetric(cmp, "campaign_msgs/s")
			b.ReportMetric(100*cmp/api, "campaign_%_of_api")
		})
	}
}
