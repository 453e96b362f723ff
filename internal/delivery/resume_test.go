package delivery_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
)

// TestDeliverResumesTLSSession checks that a new connection to a host resumes the
// earlier TLS session, and that a resumed session is judged like a full handshake:
// a certificate that did not verify the first time does not verify on resumption.
func TestDeliverResumesTLSSession(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("good.test", "mx.good.test", net.ParseIP(localhost))
	n.dns.AddZoneMX("bad.test", "mx.bad.test", net.ParseIP(localhost))
	for _, tc := range []struct {
		domain, certFor string
		verified        bool
	}{
		{"good.test", "mx.good.test", true},
		{"bad.test", "other.test", false}, // the certificate names another host
	} {
		r := n.receiver(tc.certFor, devnet.ReceiverOptions{})
		// No idle connections kept: every delivery dials anew.
		c := n.client(r.Port(), delivery.Config{MaxIdlePerHost: -1})
		var resumed []bool
		for i := range 3 {
			res, err := c.Deliver(ctxFor(t), delivery.Envelope{From: "s@x.test", To: fmt.Sprintf("u%d@%s", i, tc.domain)}, strings.NewReader("m\r\n"))
			if err != nil {
				t.Fatalf("%s: %v", tc.domain, err)
			}
			if res.Reused || res.TLS == nil || res.TLS.Verified != tc.verified || res.TLS.ServerName != "mx."+tc.domain {
				t.Fatalf("%s message %d: result %+v, TLS %+v", tc.domain, i, res, res.TLS)
			}
			if !tc.verified && res.TLS.VerifyError == "" {
				t.Errorf("%s message %d: no verify error recorded", tc.domain, i)
			}
			resumed = append(resumed, res.TLS.Resumed)
		}
		if fmt.Sprint(resumed) != "[false true true]" || r.Connections() != 3 {
			t.Errorf("%s: resumed %v over %d connections", tc.domain, resumed, r.Connections())
		}
	}
}
