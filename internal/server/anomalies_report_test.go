package server_test

import (
	"context"
	"encoding/csv"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestAnomaliesReportRoute: a credential used from a new network (and suspended, as
// the account chose) appears in GET /v1/reports/anomalies as JSON and as CSV, for an
// admin only.
func TestAnomaliesReportRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		ctx := context.Background()
		from := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		get := func(c *http.Client, key, path string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", e.base+path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if s, _ := e.do("PUT", "/v1/access/settings", e.key, map[string]any{"suspend_on_anomaly": true}); s != 200 {
			t.Fatalf("settings: %d", s)
		}
		key, k, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{"read"}})
		get(http.DefaultClient, key, "/v1/events?limit=1")
		other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, 1)}}).DialContext}}
		get(other, key, "/v1/events?limit=1")

		q := "?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
		s, p := e.do("GET", "/v1/reports/anomalies"+q, e.key, nil)
		list, _ := p["anomalies"].([]any)
		if s != 200 || len(list) != 1 {
			t.Fatalf("report: %d %v", s, p)
		}
		a := list[0].(map[string]any)
		if a["credential_id"] != k.ID || a["kind"] != "new_network" || a["network"] != "127.0.1.0/24" || a["suspended"] != true {
			t.Fatalf("anomaly: %v", a)
		}
		s, body := get(http.DefaultClient, e.key, "/v1/reports/anomalies"+q+"&format=csv")
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if s != 200 || err != nil || len(rows) != 2 || rows[1][1] != k.ID || rows[1][2] != "new_network" || rows[1][3] != "127.0.1.0/24" || rows[1][5] != "true" || rows[1][0] != a["at"] {
			t.Fatalf("csv: %d %q %v", s, body, err)
		}

		readKey, _, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{"read"}})
		if s, _ := get(http.DefaultClient, readKey, "/v1/reports/anomalies"+q); s != 403 {
			t.Fatalf("read key: %d", s)
		}
		if s, p := e.do("GET", "/v1/reports/anomalies", e.key, nil); s != 400 || !strings.Contains(problemFields(p), "from") || !strings.Contains(problemFields(p), "to") {
			t.Fatalf("no range: %d %v", s, p)
		}
	})
}
