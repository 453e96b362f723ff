package metrics

import "github.com/prometheus/client_golang/prometheus"

// authFailures counts refused credentials and limited requests by method and reason —
// never by credential or tenant.
func (m *Metrics) authFailures() *prometheus.CounterVec {
	m.accessOnce.Do(func() {
		m.access = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sealpost_api_auth_failures_total",
			Help: "API requests refused before their handler: method (bearer, basic, oauth, oauth_client, none, limit) and reason (refused, missing, malformed, insecure, oversize, scheme, rate)."},
			[]string{"method", "reason"})
		m.reg.MustRegister(m.access)
	})
	return m.access
}

// AuthFailure counts one refused credential or rate-limited request.
func (m *Metrics) AuthFailure(method, reason string) {
	m.authFailures().WithLabelValues(method, reason).Inc()
}
