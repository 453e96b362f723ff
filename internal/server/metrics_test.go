package server_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

func scrape(t *testing.T, e *env) string {
	t.Helper()
	resp, err := http.Get(e.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no series %s", series)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsMoveWhenMessagesFlow(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	before := scrape(t, e)
	if metricValue(t, before, "sealpost_messages_accepted_total") != 0 || metricValue(t, before, "sealpost_queue_depth") != 0 {
		t.Fatal("counters not at zero")
	}
	_, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": []string{"p1@patient.example", "p2@patient.example"}, "subject": "s", "text": "t"})
	e.waitFinal(res["id"].(string))
	after := scrape(t, e)
	for series, want := range map[string]float64{
		"sealpost_messages_accepted_total":                                           2,
		`sealpost_deliveries_total{outcome="delivered"}`:                             2,
		"sealpost_delivery_seconds_count":                                            2,
		`sealpost_api_request_seconds_count{route="POST /v1/messages",status="202"}`: 1,
		"sealpost_queue_depth":                                                       0,
	} {
		if got := metricValue(t, after, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if strings.Contains(after, "patient.example") || strings.Contains(after, e.tenant) {
		t.Error("metrics carry addresses or tenant ids")
	}
}

func TestMetricsShowTheListener(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	text := scrape(t, e)
	if open := metricValue(t, text, "sealpost_api_connections_open"); open < 1 {
		t.Errorf("sealpost_api_connections_open = %v while a scrape is connected", open)
	}
	if v := metricValue(t, text, "sealpost_api_connections_refused_total"); v != 0 {
		t.Errorf("sealpost_api_connections_refused_total = %v with no flood", v)
	}
	metricValue(t, text, "sealpost_api_inflight_body_bytes")
}
