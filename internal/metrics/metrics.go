// Package metrics exposes Prometheus metrics. Labels never carry tenants, addresses
// or anything else that could identify a patient: only routes, status codes and
// outcomes.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// QueueStats reports the live queue's depth and the age of its oldest job.
type QueueStats func(ctx context.Context) (depth int, oldest time.Duration, err error)

// read makes a gauge's value from the stats, read at each scrape (-1 when they fail).
func (stats QueueStats) read(pick func(int, time.Duration) float64) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d, age, err := stats(ctx)
		if err != nil {
			return -1
		}
		return pick(d, age)
	}
}

// Metrics holds every collector of one process.
type Metrics struct {
	reg          *prometheus.Registry
	accepted     prometheus.Counter
	outcomes     *prometheus.CounterVec
	deliveryTime prometheus.Histogram
	apiTime      *prometheus.HistogramVec
	dbErrors     prometheus.Counter
	portal       *prometheus.CounterVec
	// Access beyond API keys: refused credentials and limited requests.
	access     *prometheus.CounterVec
	accessOnce sync.Once
}

// New registers the collectors. stats is called on each scrape.
func New(stats QueueStats) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.accepted = prometheus.NewCounter(prometheus.CounterOpts{Name: "sealpost_messages_accepted_total", Help: "Recipients accepted for delivery (one per recipient of each accepted message)."})
	m.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sealpost_deliveries_total", Help: "Delivery attempts by outcome: delivered, deferred, bounced, expired."}, []string{"outcome"})
	m.deliveryTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sealpost_delivery_seconds", Help: "Time of one successful delivery attempt, from claim to the remote 250.",
		Buckets: prometheus.ExponentialBuckets(0.002, 2, 14)})
	m.apiTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sealpost_api_request_seconds", Help: "API request latency by route and status.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"route", "status"})
	m.dbErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "sealpost_database_errors_total", Help: "Requests that failed because the database was unavailable."})
	m.portal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sealpost_portal_events_total",
		Help: "Secure portal events by type: code_sent, code_failed, locked, signed_in, viewed, downloaded, replied, expired, revoked."}, []string{"event"})
	for _, ev := range PortalEvents {
		m.portal.WithLabelValues(ev)
	}
	for _, o := range []string{"delivered", "deferred", "bounced", "expired"} {
		m.outcomes.WithLabelValues(o)
	}
	depth := stats.read
	m.reg.MustRegister(m.accepted, m.outcomes, m.deliveryTime, m.apiTime, m.dbErrors, m.portal,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sealpost_queue_depth", Help: "Delivery jobs waiting or in flight."},
			depth(func(n int, _ time.Duration) float64 { return float64(n) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sealpost_queue_oldest_seconds", Help: "Age of the oldest delivery job."},
			depth(func(_ int, a time.Duration) float64 { return a.Seconds() })),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// PortalEvents are the portal event types counted; others are ignored.
var PortalEvents = []string{"code_sent", "code_failed", "locked", "signed_in", "viewed", "downloaded", "replied", "expiry_changed", "expired", "revoked"}

// Portal counts one portal event ("portal.viewed" or "viewed"); a sudden rise in
// code_failed or locked is someone guessing.
func (m *Metrics) Portal(event string) {
	event = strings.TrimPrefix(event, "portal.")
	for _, ev := range PortalEvents {
		if ev == event {
			m.portal.WithLabelValues(ev).Inc()
			return
		}
	}
}

// Accepted counts recipients of an accepted message.
func (m *Metrics) Accepted(recipients int) { m.accepted.Add(float64(recipients)) }

// Delivered implements queue.Observer.
func (m *Metrics) Delivered(d time.Duration) {
	m.outcomes.WithLabelValues("delivered").Inc()
	m.deliveryTime.Observe(d.Seconds())
}

// Deferred implements queue.Observer.
func (m *Metrics) Deferred() { m.outcomes.WithLabelValues("deferred").Inc() }

// Bounced implements queue.Observer.
func (m *Metrics) Bounced() { m.outcomes.WithLabelValues("bounced").Inc() }

// Expired implements queue.Observer.
func (m *Metrics) Expired() { m.outcomes.WithLabelValues("expired").Inc() }

// Request records one API request.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	m.apiTime.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

// DatabaseError counts a request failed by the database.
func (m *Metrics) DatabaseError() { m.dbErrors.Inc() }

// Listener registers the API listener's gauges: connections open, connections reset
// for being over a cap, and request body bytes held in flight. A steady rise in
// refusals is a flood, or a limit set too low.
func (m *Metrics) Listener(open func() int, refused func() int64, inflightBytes func() int64) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sealpost_api_connections_open", Help: "API connections open now."},
			func() float64 { return float64(open()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sealpost_api_connections_refused_total", Help: "API connections reset on arrival for being over a connection cap."},
			func() float64 { return float64(refused()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sealpost_api_inflight_body_bytes", Help: "Request body bytes held by API requests in flight."},
			func() float64 { return float64(inflightBytes()) }))
}
