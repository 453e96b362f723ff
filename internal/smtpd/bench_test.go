package smtpd_test

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestCompareWithPostfix measures, in one run on one machine, messages per second from
// submission to delivery through Sealpost and through Debian's Postfix, into the same
// receiving server. Postfix's side is driven by smtp-source; Sealpost's by a Go client,
// because smtp-source speaks neither TLS nor AUTH and our submission requires both.
// Run with SEALPOST_SMTP_BENCH=1 (a measurement, not a test).
func TestCompareWithPostfix(t *testing.T) {
	if os.Getenv("SEALPOST_SMTP_BENCH") == "" {
		t.Skip("set SEALPOST_SMTP_BENCH=1 to measure")
	}
	if _, err := exec.LookPath("smtp-source"); err != nil {
		t.Skip("needs postfix's smtp-source")
	}
	const n, conc = 400, 8
	e := newEnv(t, storetest.SQLiteURL(t), nil)
	// Sealpost: submission over implicit TLS with AUTH, to delivery.
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > n {
					return
				}
				if err := submitOne(e.subs, e.user, e.pass, fmt.Sprintf("m-0-%d", i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	accepted := time.Since(start)
	e.waitDeliveredWithin(n, 5*time.Minute)
	ours := time.Since(start)

	// Postfix: smtp-source into a private instance that relays to a receiver like ours.
	rcv, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: "sink.example", MaxStored: 100000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })
	port := startPostfixTo(t, rcv.Addr(), "may")
	start = time.Now()
	out, err := exec.Command("smtp-source", "-s", fmt.Sprint(conc), "-m", fmt.Sprint(n), "-f", "a@clinic.example", "-t", "pat@"+patientDomain,
		fmt.Sprintf("127.0.0.1:%d", port)).CombinedOutput()
	if err != nil {
		t.Fatalf("smtp-source: %v %s", err, out)
	}
	pfAccepted := time.Since(start)
	deadline := time.Now().Add(5 * time.Minute)
	for len(rcv.Messages()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	theirs := time.Since(start)
	t.Logf("%d messages, %d connections at once", n, conc)
	t.Logf("Sealpost: accepted in %v (%.0f/s), delivered in %v (%.0f/s)", accepted, float64(n)/accepted.Seconds(), ours, float64(n)/ours.Seconds())
	t.Logf("Postfix:  accepted in %v (%.0f/s), delivered in %v (%.0f/s)", pfAccepted, float64(n)/pfAccepted.Seconds(), theirs, float64(n)/theirs.Seconds())
	t.Logf("ratio Sealpost/Postfix end to end: %.2f", theirs.Seconds()/ours.Seconds())
}

func (e *env) waitDeliveredWithin(n int, d time.Duration) {
	deadline := time.Now().Add(d)
	for len(e.rcv.Messages()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := len(e.rcv.Messages()); got < n {
		e.t.Fatalf("%d of %d delivered", got, n)
	}
}
