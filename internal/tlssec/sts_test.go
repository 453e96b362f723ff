package tlssec_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/tlssec"
)

const enforcePolicy = "version: STSv1\nmode: enforce\nmx: mx.a.test\nmx: *.pool.a.test\nmax_age: 86400\n"

func TestSTSPolicyCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.publish("a.test", "one", enforcePolicy)
	s := e.sts()
	ctx := ctxFor(t)
	policy := func() *tlssec.STSPolicy {
		t.Helper()
		p, err := s.Policy(ctx, "A.test.")
		if err != nil || p == nil {
			t.Fatalf("Policy = %+v, %v", p, err)
		}
		return p
	}

	if p := policy(); p.Mode != "enforce" || p.ID != "one" || p.MaxAge != 24*time.Hour || !p.Matches("mx1.pool.a.test") {
		t.Errorf("policy %+v", p)
	}
	policy()
	if n := e.policy.Fetches("a.test"); n != 1 {
		t.Errorf("%d fetches for an unchanged id, want 1", n)
	}

	// RFC 8461 3.3: a new id means a new policy.
	e.publish("a.test", "two", strings.Replace(enforcePolicy, "enforce", "testing", 1))
	if p := policy(); p.Mode != "testing" || p.ID != "two" || e.policy.Fetches("a.test") != 2 {
		t.Errorf("after id change: %+v, %d fetches", p, e.policy.Fetches("a.test"))
	}

	// RFC 8461 5.1: a failed fetch keeps the cached policy in force, as
	// does a TXT record that disappears or cannot be looked up.
	e.dns.Remove("_mta-sts.a.test")
	e.dns.AddTXT("_mta-sts.a.test", "v=STSv1; id=three")
	e.policy.SetHandler("a.test", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	if p := policy(); p.ID != "two" || p.Mode != "testing" {
		t.Errorf("fetch failure: %+v", p)
	}
	e.dns.Remove("_mta-sts.a.test")
	if p := policy(); p.ID != "two" {
		t.Errorf("TXT removed: %+v", p)
	}
	e.dns.SetRcode("_mta-sts.a.test", dns.RcodeServerFailure)
	if p := policy(); p.ID != "two" {
		t.Errorf("TXT SERVFAIL: %+v", p)
	}

	// Once max_age has passed the cached policy is gone.
	e.advance(24*time.Hour + time.Second)
	if p, err := s.Policy(ctx, "a.test"); p != nil || err == nil {
		t.Errorf("after max_age with SERVFAIL: %+v, %v", p, err)
	}
	e.dns.SetRcode("_mta-sts.a.test", dns.RcodeSuccess)
	if p, err := s.Policy(ctx, "a.test"); p != nil || err != nil {
		t.Errorf("after max_age without TXT: %+v, %v", p, err)
	}
}

// TestSTSRecordTTL: with RecordTTL, a TXT answer (an id, or none) is reused until it
// runs out; a new id or a new record is seen on the first call after that.
func TestSTSRecordTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sts()
	s.RecordTTL = time.Minute
	ctx := t.Context()
	if p, err := s.Policy(ctx, "b.test"); p != nil || err != nil {
		t.Fatalf("no record: %v %v", p, err)
	}
	e.publish("b.test", "one", enforcePolicy)
	if p, err := s.Policy(ctx, "b.test"); p != nil || err != nil {
		t.Fatalf("within the TTL the absence is reused: %v %v", p, err)
	}
	e.advance(61 * time.Second)
	p, err := s.Policy(ctx, "b.test")
	if err != nil || p == nil || p.ID != "one" || p.Mode != "enforce" {
		t.Fatalf("after the TTL: %+v %v", p, err)
	}
	e.publish("b.test", "two", strings.Replace(enforcePolicy, "enforce", "testing", 1))
	if p, _ := s.Policy(ctx, "b.test"); p.ID != "one" || e.policy.Fetches("b.test") != 1 {
		t.Fatalf("within the TTL the id is reused: %+v, %d fetches", p, e.policy.Fetches("b.test"))
	}
	e.advance(61 * time.Second)
	if p, _ := s.Policy(ctx, "b.test"); p.ID != "two" || p.Mode != "testing" || e.policy.Fetches("b.test") != 2 {
		t.Fatalf("a new id after the TTL: %+v, %d fetches", p, e.policy.Fetches("b.test"))
	}
	// A failing lookup is not reused: the cached policy stays in force meanwhile.
	e.dns.Remove("_mta-sts.b.test")
	e.advance(61 * time.Second)
	if p, err := s.Policy(ctx, "b.test"); err != nil || p == nil || p.ID != "two" {
		t.Fatalf("record gone, cached policy in force: %+v %v", p, err)
	}
}

func TestSTSPolicyFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sts()
	ctx := ctxFor(t)
	handler := func(status int, ctype, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status == http.StatusFound {
				http.Redirect(w, r, "https://mta-sts.elsewhere.test/.well-known/mta-sts.txt", status)
				return
			}
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		})
	}
	e.policy.SetPolicy("elsewhere.test", enforcePolicy)
	for _, tc := range []struct {
		name string
		txt  []string
		h    http.Handler
		want string
	}{
		{"redirect", []string{"v=STSv1; id=1"}, handler(http.StatusFound, "", ""), "302"},
		{"not found", []string{"v=STSv1; id=1"}, nil, "404"},
		{"html", []string{"v=STSv1; id=1"}, handler(200, "text/html", enforcePolicy), "content type"},
		{"too big", []string{"v=STSv1; id=1"}, handler(200, "text/plain", enforcePolicy+strings.Repeat("x: y\n", 14000)), "exceeds"},
		{"malformed", []string{"v=STSv1; id=1"}, handler(200, "text/plain", "version: STSv1\n"), "mode"},
		{"two records", []string{"v=STSv1; id=1", "v=STSv1; id=2"}, nil, "2 MTA-STS records"},
		{"bad id", []string{"v=STSv1; id=a-b"}, nil, "id"},
	} {
		domain := strings.ReplaceAll(tc.name, " ", "") + ".test"
		e.dns.AddTXT("_mta-sts."+domain, tc.txt...)
		if tc.h != nil {
			e.policy.SetHandler(domain, tc.h)
		}
		p, err := s.Policy(ctx, domain)
		if p != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %+v, %v; want error containing %q", tc.name, p, err, tc.want)
		}
	}
	if e.policy.Fetches("elsewhere.test") != 0 {
		t.Error("redirect was followed")
	}
	// Unrelated TXT records are not an MTA-STS record.
	e.dns.AddTXT("_mta-sts.other.test", "v=spf1 -all")
	if p, err := s.Policy(ctx, "other.test"); p != nil || err != nil {
		t.Errorf("unrelated TXT: %+v, %v", p, err)
	}
}

// TestSTSConcurrentFetch checks that a burst of lookups for a new domain
// fetches its policy once.
func TestSTSConcurrentFetch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	release := make(chan struct{})
	e.dns.AddTXT("_mta-sts.burst.test", "v=STSv1; id=1")
	e.policy.SetHandler("burst.test", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-release
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(enforcePolicy))
	}))
	s := e.sts()
	ctx := ctxFor(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if p, err := s.Policy(ctx, "burst.test"); err != nil || p.Mode != "enforce" {
				t.Errorf("Policy = %+v, %v", p, err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // let them all queue behind the first fetch
	close(release)
	wg.Wait()
	if n := e.policy.Fetches("burst.test"); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func TestMemoryCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := tlssec.NewMemoryCache(e.clock)
	ctx := ctxFor(t)
	val := []byte(`{"a":1}`)
	c.Put(ctx, "k", val, e.clock().Add(time.Minute))
	val[0] = 'x' // the cache keeps its own copy
	if got, ok := c.Get(ctx, "k"); !ok || string(got) != `{"a":1}` {
		t.Errorf("Get = %q, %v", got, ok)
	}
	e.advance(time.Minute)
	if _, ok := c.Get(ctx, "k"); ok {
		t.Error("expired entry returned")
	}
	for i := range 200 {
		c.Put(ctx, string(rune('a'+i)), val, e.clock()) // expired on arrival
	}
	if c.Len() >= 200 {
		t.Errorf("%d entries: expired ones are never swept", c.Len())
	}
}

// BenchmarkSTSPolicyCached measures what MTA-STS adds to each message once
// the policy is cached: one TXT lookup (here on loopback) and a cache hit.
func BenchmarkSTSPolicyCached(b *testing.B) {
	d, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ca, _ := devnet.NewCA()
	web := devnet.StartPolicyServer(ca)
	defer web.Close()
	d.AddTXT("_mta-sts.bench.test", "v=STSv1; id=1")
	web.SetPolicy("bench.test", enforcePolicy)
	s := &tlssec.STS{Resolver: d.Resolver(), Client: web.Client()}
	ctx := b.Context()
	for b.Loop() {
		if p, err := s.Policy(ctx, "bench.test"); err != nil || p == nil {
			b.Fatal(p, err)
		}
	}
	if web.Fetches("bench.test") != 1 {
		b.Errorf("%d fetches", web.Fetches("bench.test"))
	}
}
