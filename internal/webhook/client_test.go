package webhook

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
)

// receiver is an HTTPS server on a loopback address with a certificate from a test CA,
// counting the requests that reach it.
type receiver struct {
	url  string
	hits atomic.Int64
	srv  *http.Server
}

func startReceiver(t *testing.T, ca *devnet.CA, ip string, h http.HandlerFunc) *receiver {
	return startReceiverOn(t, ca, ip, "0", h)
}

func startReceiverOn(t *testing.T, ca *devnet.CA, ip, port string, h http.HandlerFunc) *receiver {
	t.Helper()
	cert, err := ca.Issue("hooks.test", "rebind.test", "loop.test", ip)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, port))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	r := &receiver{}
	r.srv = &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.hits.Add(1); h(w, req) }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	go r.srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { r.srv.Close() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	r.url = "https://" + net.JoinHostPort(ip, port) + "/hook"
	return r
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }

func TestClientRefusesForbiddenAddressesAtDialTime(t *testing.T) {
	ca, err := devnet.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	dns, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	canary := startReceiver(t, ca, "127.0.0.1", ok)
	port := canary.url[strings.LastIndex(canary.url, ":")+1 : strings.LastIndex(canary.url, "/")]
	dns.AddA("loop.test", net.ParseIP("127.0.0.1"))

	c := NewClient(ClientOptions{Resolver: dns.Resolver(), RootCAs: ca.Pool(), Timeout: 3 * time.Second})
	for _, u := range []string{
		canary.url,
		"https://[::ffff:127.0.0.1]:" + port + "/hook", // IPv4-mapped loopback
		"https://127.000.000.001:" + port + "/hook",    // not an address Go accepts: fails at DNS, never dials
		"https://2130706433:" + port + "/hook",         // decimal form: likewise
		"https://loop.test:" + port + "/hook",          // a public-looking name that resolves to loopback
		"https://localhost:" + port + "/hook",
		"https://[::1]:" + port + "/hook",
	} {
		a := Post(context.Background(), c, u, nil, []byte("{}"), time.Now)
		if a.OK() || a.Status != 0 {
			t.Errorf("%s: delivered (status %d)", u, a.Status)
		}
		if strings.Contains(a.Error, "hook") || strings.Contains(a.Error, "loop.test") {
			t.Errorf("%s: error %q repeats the URL", u, a.Error)
		}
	}
	if n := canary.hits.Load(); n != 0 {
		t.Fatalf("the canary got %d requests", n)
	}

	// Every other forbidden range, checked by the same guard the dialer runs before it
	// connects (nothing is dialled: these addresses are not ours to touch).
	g := newGuard(ClientOptions{})
	for _, a := range []string{
		"10.1.2.3:443", "172.16.0.1:443", "192.168.1.1:443", "169.254.169.254:80", "100.64.0.1:443",
		"0.0.0.0:443", "224.0.0.1:443", "255.255.255.255:443", "[fe80::1]:443", "[fc00::1]:443",
		"[::]:443", "[ff02::1]:443", "[64:ff9b::7f00:1]:443", "[64:ff9b::a9fe:a9fe]:443",
		"[2002:7f00:1::]:443", "[::ffff:169.254.169.254]:80", "[::ffff:10.0.0.1]:443",
	} {
		network := "tcp4"
		if strings.HasPrefix(a, "[") {
			network = "tcp6"
		}
		if err := g.Safe(network, a, nil); err == nil {
			t.Errorf("%s allowed", a)
		}
	}
	for _, a := range []string{"93.184.215.14:443", "[2606:4700::6810:84e5]:8443"} {
		if err := g.Safe(map[bool]string{true: "tcp6", false: "tcp4"}[strings.HasPrefix(a, "[")], a, nil); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
	}
}

func TestAllowlistOpensExactlyWhatItLists(t *testing.T) {
	ca, _ := devnet.NewCA()
	in := startReceiver(t, ca, "127.0.0.2", ok)
	out := startReceiver(t, ca, "127.0.0.3", ok)
	c := NewClient(ClientOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, RootCAs: ca.Pool(), Timeout: 3 * time.Second})
	if a := Post(context.Background(), c, in.url, nil, []byte("{}"), time.Now); !a.OK() {
		t.Fatalf("listed address: %+v", a)
	}
	if a := Post(context.Background(), c, out.url, nil, []byte("{}"), time.Now); a.Status != 0 || !strings.Contains(a.Error, "refused to connect") {
		t.Fatalf("unlisted address: %+v", a)
	}
	if out.hits.Load() != 0 {
		t.Fatal("the unlisted receiver was reached")
	}
}

// A name whose second resolution flips to a forbidden address fails on that connection:
// the check is on the address dialled, not on the URL or an earlier lookup.
func TestRebindingIsRefused(t *testing.T) {
	ca, _ := devnet.NewCA()
	dns, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	good := startReceiver(t, ca, "127.0.0.2", ok)
	_, gport, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(good.url, "https://"), "/hook"))
	// The forbidden receiver listens on the same port number, so only the address
	// differs: a refusal cannot come from a closed port.
	bad := startReceiverOn(t, ca, "127.0.0.1", gport, ok)

	dns.AddA("rebind.test", net.ParseIP("127.0.0.2"))
	c := NewClient(ClientOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Resolver: dns.Resolver(), RootCAs: ca.Pool(), Timeout: 3 * time.Second})
	c.Transport.(*http.Transport).DisableKeepAlives = true
	u := "https://rebind.test:" + gport + "/hook"
	if a := Post(context.Background(), c, u, nil, []byte("{}"), time.Now); !a.OK() {
		t.Fatalf("first resolution: %+v", a)
	}
	dns.Remove("rebind.test")
	dns.AddA("rebind.test", net.ParseIP("127.0.0.1"))
	time.Sleep(10 * time.Millisecond)
	if a := Post(context.Background(), c, u, nil, []byte("{}"), time.Now); a.Status != 0 || !strings.Contains(a.Error, "refused to connect") {
		t.Fatalf("after rebinding: %+v", a)
	}
	if bad.hits.Load() != 0 {
		t.Fatal("the rebound address was reached")
	}
}

func TestAnswersAreClassified(t *testing.T) {
	ca, _ := devnet.NewCA()
	var status atomic.Int64
	hang := make(chan struct{})
	defer close(hang)
	r := startReceiver(t, ca, "127.0.0.1", func(w http.ResponseWriter, req *http.Request) {
		switch s := int(status.Load()); s {
		case 0:
			<-hang
		case 302:
			http.Redirect(w, req, "https://127.0.0.1/elsewhere", http.StatusFound)
		case 429:
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
		case 503:
			w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(503)
		default:
			w.WriteHeader(s)
		}
	})
	c := NewClient(ClientOptions{Loopback: true, RootCAs: ca.Pool(), Timeout: 500 * time.Millisecond})
	post := func(s int) Attempt {
		status.Store(int64(s))
		return Post(context.Background(), c, r.url, nil, []byte("{}"), time.Now)
	}
	if a := post(200); !a.OK() || a.Error != "" {
		t.Errorf("200: %+v", a)
	}
	if a := post(302); a.OK() || a.Status != 302 {
		t.Errorf("302 must be a failure, not followed: %+v", a)
	}
	if a := post(410); a.OK() || !a.Gone() {
		t.Errorf("410: %+v", a)
	}
	if a := post(500); a.OK() || a.Error != "answered 500" {
		t.Errorf("500: %+v", a)
	}
	if a := post(429); a.RetryAfter != 120*time.Second {
		t.Errorf("429 Retry-After: %+v", a)
	}
	if a := post(503); a.RetryAfter < 59*time.Minute || a.RetryAfter > time.Hour {
		t.Errorf("503 Retry-After date: %+v", a)
	}
	start := time.Now()
	if a := post(0); a.Status != 0 || a.Error != "timed out" || time.Since(start) > 3*time.Second {
		t.Errorf("silent receiver: %+v after %s", a, time.Since(start))
	}
}

func TestCheckURL(t *testing.T) {
	for raw, loop := range map[string]bool{
		"https://hooks.example.org/sealpost": false, "https://hooks.example.org:8443/x?t=1": false,
		"http://127.0.0.1:9000/hook": true, "http://localhost:9000/hook": true,
	} {
		if err := CheckURL(raw, loop); err != nil {
			t.Errorf("%s refused: %v", raw, err)
		}
	}
	for raw, loop := range map[string]bool{
		"http://hooks.example.org/": false, "http://127.0.0.1/hook": false, "http://hooks.example.org/x": true,
		"ftp://hooks.example.org/": false, "https://user:pw@hooks.example.org/": false, "/relative": false,
		"https://hooks.example.org/#frag": false, "https:opaque": false, "https://" + strings.Repeat("a", 2050): false,
	} {
		if err := CheckURL(raw, loop); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
}

func TestNextDelayFollowsTheSchedule(t *testing.T) {
	for i, want := range Schedule {
		for range 50 {
			d, ok := NextDelay(nil, i+1, 0)
			if !ok || d < want*9/10 || d > want*11/10 {
				t.Fatalf("attempt %d: %s, want %s ±10%%", i+1, d, want)
			}
		}
	}
	if _, ok := NextDelay(nil, len(Schedule)+1, 0); ok {
		t.Fatal("schedule never ends")
	}
	if d, _ := NextDelay(nil, 1, time.Minute); d != time.Minute {
		t.Fatalf("Retry-After ignored: %s", d)
	}
	if d, _ := NextDelay(nil, 1, 1000*time.Hour); d != MaxRetryAfter {
		t.Fatalf("Retry-After not capped: %s", d)
	}
}
