package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/anomaly"
)

// The detector itself raises a new-network and a volume anomaly; the report lists
// exactly those of the tenant within the range, and its CSV says what its JSON says.
func TestAnomaliesReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, dbURL)
		ctx := context.Background()
		tenantID, _ := w.tenant(t, "clinic")
		otherID, _ := w.tenant(t, "other")
		start := time.Now().Add(-time.Second)
		window := 200 * time.Millisecond
		d := anomaly.New(w.db, w.tenants, nil, anomaly.Config{Window: window, Factor: 2, Floor: 1, Warmup: 1}, slog.New(slog.DiscardHandler))
		p := &tenant.Principal{TenantID: tenantID, KeyID: "key_clinic1"}
		other := &tenant.Principal{TenantID: otherID, KeyID: "key_other1"}
		d.Observe(ctx, p, "192.0.2.10")     // the credential's first network: its baseline
		d.Observe(ctx, other, "192.0.2.10") // another tenant's credential
		d.Observe(ctx, other, "203.0.113.5")
		d.Observe(ctx, p, "198.51.100.7") // a network it never used
		time.Sleep(window)
		for range 8 {
			d.Observe(ctx, p, "198.51.100.7") // far above one request a window
		}
		end := time.Now().Add(time.Second)

		res, err := w.svc.Anomalies(ctx, tenantID, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Anomalies) != 2 {
			t.Fatalf("want a new_network and a volume anomaly, got %+v", res.Anomalies)
		}
		nn, vol := res.Anomalies[0], res.Anomalies[1]
		if nn.Kind != "new_network" || nn.CredentialID != "key_clinic1" || nn.Network != "198.51.100.0/24" || nn.Suspended {
			t.Fatalf("new network: %+v", nn)
		}
		if vol.Kind != "volume" || vol.CredentialID != "key_clinic1" || vol.Requests < 2 || vol.At.Before(nn.At) {
			t.Fatalf("volume: %+v", vol)
		}

		var buf bytes.Buffer
		if err := report.WriteAnomaliesCSV(&buf, res); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Fatalf("csv: %v %v", rows, err)
		}
		for i, a := range res.Anomalies {
			requests := ""
			if a.Requests > 0 {
				requests = strconv.Itoa(a.Requests)
			}
			want := []string{a.At.Format(time.RFC3339Nano), a.CredentialID, a.Kind, a.Network, requests, strconv.FormatBool(a.Suspended)}
			for j := range want {
				if rows[i+1][j] != want[j] {
					t.Fatalf("csv row %d: %v, json %v", i, rows[i+1], want)
				}
			}
		}

		// The other tenant sees only its own credential's anomaly; a range before
		// everything holds none; a bad range names its field.
		if res, err := w.svc.Anomalies(ctx, otherID, start, end); err != nil || len(res.Anomalies) != 1 || res.Anomalies[0].CredentialID != "key_other1" {
			t.Fatalf("other tenant: %+v %v", res, err)
		}
		if res, err := w.svc.Anomalies(ctx, tenantID, start.Add(-time.Hour), start); err != nil || len(res.Anomalies) != 0 {
			t.Fatalf("empty range: %+v %v", res, err)
		}
		var inv *report.InvalidError
		if _, err := w.svc.Anomalies(ctx, tenantID, end, start); !errors.As(err, &inv) || inv.Fields["to"] == "" {
			t.Fatalf("reversed range: %v", err)
		}
	})
}
