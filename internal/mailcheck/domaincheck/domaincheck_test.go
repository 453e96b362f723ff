package domaincheck

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
)

// loopback is where every test server listens.
func loopback() net.IP { return net.IPv4(127, 0, 0, 1) }

func TestGoodDomainPasses(t *testing.T) {
	e := newTestEnv(t, "mx.good.test")
	d := e.dns
	d.AddZoneMX("good.test", "mx.good.test", loopback())
	d.AddTXT("good.test", "v=spf1 include:_spf.good.test mx -all", "google-site-verification=abc")
	d.AddTXT("_spf.good.test", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all")
	rsaKey, rsaName := dkimKey(t, "rsa", "r1", "good.test")
	edKey, edName := dkimKey(t, "ed25519", "e1", "good.test")
	d.AddTXT(rsaName, rsaKey.DNSValue) // longer than 255 bytes: split into strings
	d.AddTXT(edName, edKey.DNSValue)
	d.AddTXT("_dmarc.good.test", "v=DMARC1; p=reject; rua=mailto:dmarc@good.test; adkim=s")
	d.AddTXT("_mta-sts.good.test", "v=STSv1; id=20250101")
	e.setPolicy("good.test", "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 604800\r\n")
	d.AddTXT("_smtp._tls.good.test", "v=TLSRPTv1; rua=mailto:tls@good.test")

	cfg := e.config()
	cfg.SendingIPs = []net.IP{net.ParseIP("192.0.2.10"), net.ParseIP("2001:db8::25"), loopback()}
	cfg.DKIM = []DKIMExpect{rsaKey, edKey}
	checks := Run(context.Background(), "good.test", cfg)
	for _, c := range byName(t, checks) {
		if c.Status != Pass || c.Fix != "" {
			t.Errorf("%s: %s %q fix %q details %q", c.Name, c.Status, c.Summary, c.Fix, c.Details)
		}
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, "good.test", checks); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"good.test", "CHECK", "starttls  PASS", "mta-sts   PASS", "aggregate reports (rua) to mailto:dmarc@good.test"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	t.Log("\n" + buf.String())
}

func TestBrokenDomain(t *testing.T) {
	e := newTestEnv(t, "mx.broken.test")
	d := e.dns
	d.AddZoneMX("broken.test", "mx.broken.test", loopback())
	// Eleven includes in a chain: one more DNS lookup than RFC 7208 allows.
	d.AddTXT("broken.test", "v=spf1 include:s1.broken.test -all")
	for i := 1; i < 11; i++ {
		d.AddTXT(fmt.Sprintf("s%d.broken.test", i), fmt.Sprintf("v=spf1 include:s%d.broken.test -all", i+1))
	}
	d.AddTXT("s11.broken.test", "v=spf1 ip4:192.0.2.10 -all")
	d.AddTXT("_dmarc.broken.test", "v=DMARC1; p=none; rua=mailto:dmarc@broken.test")
	d.AddTXT("_mta-sts.broken.test", "v=STSv1; id=1") // no policy file: the server answers 404
	want, _ := dkimKey(t, "ed25519", "sel", "broken.test")

	cfg := e.config()
	cfg.SendingIPs = []net.IP{net.ParseIP("192.0.2.10")}
	cfg.DKIM = []DKIMExpect{want}
	c := byName(t, Run(context.Background(), "broken.test", cfg))

	expect(t, c["mx"], Pass, "1 MX host", "")
	expect(t, c["spf"], Fail, "SPF needs 11 DNS lookups; the limit is 10 (RFC 7208 4.6.4)",
		"cut the SPF record at broken.test to 10 lookups or fewer: replace include: terms with the ip4:/ip6: ranges they publish")
	expect(t, c["dkim"], Fail, "no DKIM key at sel._domainkey.broken.test",
		`publish this TXT record at sel._domainkey.broken.test: "`+want.DNSValue+`"`)
	expect(t, c["dmarc"], Warn, "p=none",
		`publish this TXT record at _dmarc.broken.test: "v=DMARC1; p=quarantine; rua=mailto:dmarc@broken.test"`)
	expect(t, c["mta-sts"], Fail, "MTA-STS id without a policy file",
		`serve a policy at https://mta-sts.broken.test/.well-known/mta-sts.txt with the lines "version: STSv1", "mode: enforce", "mx: mx.broken.test", "max_age: 604800", or delete the TXT record at _mta-sts.broken.test`)
	if !strings.Contains(c["mta-sts"].Summary, "404") {
		t.Errorf("mta-sts summary does not name the HTTP status: %q", c["mta-sts"].Summary)
	}
	expect(t, c["tls-rpt"], Warn, "no TLS-RPT record",
		`publish this TXT record at _smtp._tls.broken.test: "v=TLSRPTv1; rua=mailto:tls-reports@broken.test"`)
	expect(t, c["starttls"], Pass, "1 MX host(s) offer STARTTLS", "")
	if !strings.Contains(strings.Join(c["dmarc"].Details, "\n"), "mailto:dmarc@broken.test") {
		t.Errorf("dmarc details lack the rua address: %q", c["dmarc"].Details)
	}
}

func TestSTARTTLSSelfSigned(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	cert, err := devnet.SelfSigned("mx.self.test")
	if err != nil {
		t.Fatal(err)
	}
	r := startReceiver(t, &cert)
	e.dns.AddZoneMX("self.test", "mx.self.test", loopback())
	cfg := e.config()
	cfg.Port = r.Port()
	c := checkSTARTTLS(context.Background(), lookupMX(context.Background(), cfg.Resolver, "self.test").hosts, cfg)
	expect(t, c, Fail, "the certificate of mx.self.test does not verify: x509: certificate signed by unknown authority",
		"install a certificate for mx.self.test issued by a public CA")
}

func TestSTARTTLSWrongName(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	e.dns.AddZoneMX("name.test", "mx.name.test", loopback())
	cfg := e.config()
	c := checkSTARTTLS(context.Background(), lookupMX(context.Background(), cfg.Resolver, "name.test").hosts, cfg)
	expect(t, c, Fail, "certificate is valid for mx.other.test, not mx.name.test", "install a certificate for mx.name.test")
}

func TestSTARTTLSNotOffered(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	r := startReceiver(t, nil)
	e.dns.AddZoneMX("plain.test", "mx.plain.test", loopback())
	cfg := e.config()
	cfg.Port = r.Port()
	c := checkSTARTTLS(context.Background(), lookupMX(context.Background(), cfg.Resolver, "plain.test").hosts, cfg)
	expect(t, c, Fail, "mx.plain.test does not offer STARTTLS", "enable STARTTLS on mx.plain.test with a certificate for mx.plain.test")
}

func TestSTARTTLSUnreachable(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens on port any more
	e.dns.AddZoneMX("down.test", "mx.down.test", loopback())
	cfg := e.config()
	cfg.Port = port
	c := checkSTARTTLS(context.Background(), lookupMX(context.Background(), cfg.Resolver, "down.test").hosts, cfg)
	expect(t, c, Fail, "cannot reach mx.down.test on port", fmt.Sprintf("allow inbound SMTP connections to mx.down.test on port %d", port))
}

func TestMX(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	e.dns.AddMX("null.test", ".", 0)
	e.dns.AddMX("noaddr.test", "mx.noaddr.test", 10)
	r := e.dns.Resolver()
	ctx := context.Background()
	expect(t, lookupMX(ctx, r, "null.test").check, Fail, "null MX", `replace the null MX record (".") with an MX record for null.test`)
	expect(t, lookupMX(ctx, r, "none.test").check, Fail, "none.test has no MX records", `"none.test. MX 10 mx.none.test."`)
	expect(t, lookupMX(ctx, r, "noaddr.test").check, Fail, "MX mx.noaddr.test has no A or AAAA record", "publish an A or AAAA record for mx.noaddr.test")
}

func TestSTARTTLSExpiringSoon(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	// devnet issues three-month certificates, so make a short-lived chain here.
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "short-lived root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mx.soon.test"},
		DNSNames: []string{"mx.soon.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5*24*time.Hour + time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	r := startReceiver(t, &tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey})
	e.dns.AddZoneMX("soon.test", "mx.soon.test", loopback())
	cfg := e.config()
	cfg.Port = r.Port()
	cfg.RootCAs = x509.NewCertPool()
	cfg.RootCAs.AddCert(caCert)
	c := checkSTARTTLS(context.Background(), lookupMX(context.Background(), cfg.Resolver, "soon.test").hosts, cfg)
	expect(t, c, Warn, "the certificate of mx.soon.test expires in 5 day(s)", "renew the certificate for mx.soon.test")
}
