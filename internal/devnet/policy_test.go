package devnet

import (
	"io"
	"net/http"
	"testing"
)

func TestPolicyServer(t *testing.T) {
	t.Parallel()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := StartPolicyServer(ca)
	defer p.Close()
	p.SetPolicy("A.test", "version: STSv1\n")
	c := p.Client()
	get := func(url string) (int, string, string) {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	if code, ctype, body := get("https://mta-sts.a.test/.well-known/mta-sts.txt"); code != 200 || ctype != "text/plain; charset=utf-8" || body != "version: STSv1\n" {
		t.Errorf("policy: %d %q %q", code, ctype, body)
	}
	if code, _, _ := get("https://mta-sts.b.test/.well-known/mta-sts.txt"); code != http.StatusNotFound {
		t.Errorf("unknown domain: %d", code)
	}
	p.RemovePolicy("a.test")
	if code, _, _ := get("https://mta-sts.a.test/.well-known/mta-sts.txt"); code != http.StatusNotFound {
		t.Errorf("removed policy: %d", code)
	}
	if p.Fetches("a.test") != 2 || p.Fetches("b.test") != 1 {
		t.Errorf("fetches %d, %d", p.Fetches("a.test"), p.Fetches("b.test"))
	}
	// The certificate is for the name asked for, so a client that checks
	// names (as MTA-STS requires) accepts it.
	resp, err := c.Get("https://mta-sts.c.test/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if names := resp.TLS.PeerCertificates[0].DNSNames; len(names) != 1 || names[0] != "mta-sts.c.test" {
		t.Errorf("certificate names %v", names)
	}
}
