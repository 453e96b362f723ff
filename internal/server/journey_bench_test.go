package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// BenchmarkJourneySends measures journeys end to end on the server's own engine: 200
// events through the API, each starting a run whose one send step goes through the
// marketing checks and the pipeline (sealed, queued, the run's advance in the same
// commit). Reported as runs finished per second, from the first event to the last
// step; delivery runs beside it.
//
//	go test -run '^$' -bench JourneySends -benchtime 3x ./internal/server/
func BenchmarkJourneySends(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			url := storetest.SQLiteURL(b)
			if db == "postgres" {
				url = storetest.PostgresURL(b)
			}
			je := newJourneyEnv(b, url)
			const runs = 200
			var contacts []string
			for i := range runs {
				contacts = append(contacts, je.contact(fmt.Sprintf("p%d@%s", i, patientDomain), map[string]any{"first_name": "P"}))
			}
			ctx := context.Background()
			var done int64
			var spent time.Duration
			for i := 0; b.Loop(); i++ {
				ev := fmt.Sprintf("bench%d", i)
				def := map[string]any{"name": "b", "from": "care@clinic.example", "trigger": map[string]any{"event": ev},
					"steps": []any{map[string]any{"id": "s", "type": "send", "subject": "Hi {{first_name}}", "text": "Hello"}}}
				id := je.must(je.do("POST", "/v1/journeys", je.key, def))["id"].(string)
				je.must(je.do("POST", "/v1/journeys/"+id+"/activate", je.key, nil))
				start := time.Now()
				for k, c := range contacts {
					je.must(je.do("POST", "/v1/journeys/events", je.key, map[string]any{"contact": c, "event": ev, "idempotency_key": fmt.Sprint(i, "-", k)}))
				}
				for {
					n, err := je.srv.DB.JourneyRunCounts(ctx, je.tenant, id)
					if err != nil {
						b.Fatal(err)
					}
					if n["done"] == runs {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				spent += time.Since(start)
				done += runs
			}
			b.ReportMetric(float64(done)/spent.Seconds(), "runs/s")
		})
	}
}
