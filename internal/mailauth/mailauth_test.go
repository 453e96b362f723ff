package mailauth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// zone is an in-memory resolver: TXT records by name; everything else does not exist.
type zone map[string][]string

func (z zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := z[strings.TrimSuffix(strings.ToLower(name), ".")]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}
func (z zone) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}
func (z zone) LookupIPAddr(_ context.Context, name string) ([]net.IPAddr, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}
func (z zone) LookupAddr(_ context.Context, addr string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

func sign(t testing.TB, key ed25519.PrivateKey, domain, msg string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := dkim.Sign(&b, strings.NewReader(msg), &dkim.SignOptions{Domain: domain, Selector: "s", Signer: key}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// RFC 7489's alignment and policy rules, each as a case: relaxed alignment accepts a
// subdomain's signature, strict does not; a subdomain without its own record takes
// the organisational domain's sp; no record is none; SPF alone passes when aligned.
func TestCheck(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	dkimTXT := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	z := zone{
		"s._domainkey.lab.example": {dkimTXT}, "s._domainkey.mail.lab.example": {dkimTXT}, "s._domainkey.other.example": {dkimTXT},
		"lab.example": {"v=spf1 ip4:192.0.2.10 -all"}, "_dmarc.lab.example": {"v=DMARC1; p=reject; sp=quarantine"},
		"strict.example": {"v=spf1 ip4:192.0.2.10 -all"}, "_dmarc.strict.example": {"v=DMARC1; p=reject; adkim=s; aspf=s"},
		"s._domainkey.mail.strict.example": {dkimTXT},
	}
	msg := func(from string) string { return "From: " + from + "\r\nSubject: x\r\n\r\nbody\r\n" }
	ip, other := net.ParseIP("192.0.2.10"), net.ParseIP("198.51.100.7")
	for _, c := range []struct {
		name               string
		ip                 net.IP
		mailFrom, fromDom  string
		raw                []byte
		spf, dmarc, policy string
		enforce            bool
	}{
		{"spf aligned", ip, "a@lab.example", "lab.example", []byte(msg("a@lab.example")), "pass", "pass", "reject", false},
		{"forged", other, "a@lab.example", "lab.example", []byte(msg("a@lab.example")), "fail", "fail", "reject", true},
		{"relaxed dkim from a subdomain", other, "", "lab.example", sign(t, key, "mail.lab.example", msg("a@lab.example")), "none", "pass", "reject", false},
		{"unaligned dkim", other, "b@other.example", "lab.example", sign(t, key, "other.example", msg("a@lab.example")), "none", "fail", "reject", true},
		{"strict rejects a subdomain signature", other, "", "strict.example", sign(t, key, "mail.strict.example", msg("a@strict.example")), "none", "fail", "reject", true},
		{"subdomain takes sp", other, "a@news.lab.example", "news.lab.example", []byte(msg("a@news.lab.example")), "none", "fail", "quarantine", false},
		{"no record", other, "a@plain.example", "plain.example", []byte(msg("a@plain.example")), "none", "none", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := Check(context.Background(), z, Input{IP: c.ip, Helo: "mx.sender.example", MailFrom: c.mailFrom, FromDomain: c.fromDom, Raw: c.raw})
			if v.SPF != c.spf || v.DMARC != c.dmarc || v.Policy != c.policy || v.Enforce != c.enforce {
				t.Errorf("verdict %+v; want spf %s dmarc %s policy %q enforce %v", v, c.spf, c.dmarc, c.policy, c.enforce)
			}
		})
	}
}

// Our verdict replaces any that claims our name (in any case, with a trailing dot or
// unparsable), keeps other servers' fields and the rest of the message byte for byte.
func TestStamp(t *testing.T) {
	raw := "Authentication-Results: MX.Ours.Example.; dmarc=pass header.from=bank.example\r\n" +
		"Authentication-Results: other.example; spf=pass smtp.mailfrom=x.example\r\n" +
		"Authentication-Results: ;;; garbage\r\n" +
		"DKIM-Signature: v=1; a=ed25519-sha256; d=x.example;\r\n  b=abc\r\n" +
		"Subject: hi\r\n\r\nbody\r\n.. stays\r\n"
	v := &Verdict{SPF: "pass", SPFDomain: "x.example", DMARC: "pass", From: "x.example", DKIM: []DKIMSig{{Domain: "x.example", Result: "pass"}}}
	out, err := Stamp([]byte(raw), "mx.ours.example", v.Header("mx.ours.example"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.HasPrefix(s, "Authentication-Results: mx.ours.example; spf=pass smtp.mailfrom=x.example;") ||
		strings.Contains(s, "bank.example") || strings.Contains(s, "garbage") ||
		!strings.Contains(s, "Authentication-Results: other.example; spf=pass") ||
		!strings.HasSuffix(s, "DKIM-Signature: v=1; a=ed25519-sha256; d=x.example;\r\n  b=abc\r\nSubject: hi\r\n\r\nbody\r\n.. stays\r\n") {
		t.Errorf("stamped:\n%s", s)
	}
}

func FuzzStamp(f *testing.F) {
	f.Add([]byte("Authentication-Results: a.example; dkim=pass\r\nSubject: x\r\n\r\nb\r\n"))
	f.Add([]byte("no header at all"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := Stamp(raw, "a.example", "X-Test: 1\r\n")
		if err == nil && !bytes.HasPrefix(out, []byte("X-Test: 1\r\n")) {
			t.Fatal("field not prepended")
		}
	})
}
