package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// WebhookOutcomes are the outcomes of a webhook attempt.
var WebhookOutcomes = []string{"delivered", "retrying", "failed", "disabled"}

// WebhookObserver counts webhook attempts; from Webhooks.
type WebhookObserver struct {
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
}

// Webhooks registers the webhook collectors: attempts by outcome, their latency, and the
// pending jobs and oldest one's age, read from stats on each scrape.
func (m *Metrics) Webhooks(stats QueueStats) *WebhookObserver {
	o := &WebhookObserver{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sealpost_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: delivered, retrying, failed (schedule exhausted), disabled."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sealpost_webhook_seconds", Help: "Time from a webhook request to its answer's headers.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14)}),
	}
	for _, oc := range WebhookOutcomes {
		o.attempts.WithLabelValues(oc)
	}
	read := stats.read
	m.reg.MustRegister(o.attempts, o.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sealpost_webhook_queue_depth", Help: "Webhook deliveries waiting or in flight."},
			read(func(n int, _ time.Duration) float64 { return float64(n) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sealpost_webhook_oldest_seconds", Help: "Age of the oldest pending webhook delivery."},
			read(func(_ int, a time.Duration) float64 { return a.Seconds() })))
	return o
}

// Attempt counts one attempt.
func (o *WebhookObserver) Attempt(outcome string, latency time.Duration) {
	o.attempts.WithLabelValues(outcome).Inc()
	if latency > 0 {
		o.latency.Observe(latency.Seconds())
	}
}
