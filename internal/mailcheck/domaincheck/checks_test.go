package domaincheck

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestSPFCases(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	d := e.dns
	zone := map[string]string{
		"plusall.test":                "v=spf1 ip4:192.0.2.10 +all",
		"bareall.test":                "v=spf1 ip4:192.0.2.10 all",
		"neutral.test":                "v=spf1 ip4:192.0.2.10 ?all",
		"noall.test":                  "v=spf1 ip4:192.0.2.10",
		"notours.test":                "v=spf1 ip4:198.51.100.0/24 ~all",
		"void.test":                   "v=spf1 a:n1.void.test a:n2.void.test mx:n3.void.test ip4:192.0.2.10 -all",
		"syntax.test":                 "v=spf1 ip4:192.0.2.300 -all",
		"loop.test":                   "v=spf1 include:loop2.test -all",
		"loop2.test":                  "v=spf1 include:loop.test -all",
		"redirect.test":               "v=spf1 redirect=_spf.redirect.test",
		"_spf.redirect.test":          "v=spf1 a:host.redirect.test/24 -all",
		"ptr.test":                    "v=spf1 ptr ip4:192.0.2.10 -all",
		"macro.test":                  "v=spf1 exists:%{ir}.allow.macro.test -all",
		"10.2.0.192.allow.macro.test": "",
	}
	for name, rec := range zone {
		if strings.Contains(name, "allow") {
			d.AddA(name, net.ParseIP("127.0.0.2"))
			continue
		}
		d.AddTXT(name, rec)
	}
	d.AddTXT("two.test", "v=spf1 -all", "v=spf1 ip4:192.0.2.10 -all")
	d.AddA("host.redirect.test", net.ParseIP("192.0.2.1"))
	cfg := e.config()
	cfg.SendingIPs = []net.IP{net.ParseIP("192.0.2.10")}
	ctx := context.Background()
	for _, tc := range []struct {
		domain       string
		status       Status
		summary, fix string
	}{
		{"plusall.test", Fail, `"+all" authorises every host`, `replace "+all" with "-all" in the SPF record at plusall.test`},
		{"bareall.test", Fail, `"all" authorises every host`, `replace "all" with "-all"`},
		{"neutral.test", Warn, `"?all" gives other hosts a neutral result`, `replace "?all" with "-all" (or "~all") in the SPF record at neutral.test`},
		{"noall.test", Warn, "no all term", `end the SPF record at noall.test with "-all"`},
		{"notours.test", Fail, "sending address 192.0.2.10 is not authorised (SPF result softfail)", `add "ip4:192.0.2.10" to the SPF record at notours.test, before the all term`},
		{"void.test", Warn, "3 void DNS lookups", "remove SPF terms that name domains without records"},
		{"syntax.test", Fail, `"192.0.2.300" is not an IPv4 address`, "correct the SPF record at syntax.test"},
		{"loop.test", Fail, "include/redirect loop: loop.test -> loop2.test -> loop.test", "correct the SPF records"},
		{"redirect.test", Pass, "2 DNS lookups", ""},
		{"ptr.test", Warn, `uses "ptr"`, "replace ptr"},
		{"macro.test", Pass, "1 DNS lookups", ""},
		{"missing.test", Fail, "no SPF record", `publish this TXT record at missing.test: "v=spf1 ip4:192.0.2.10 -all"`},
		{"two.test", Fail, "2 SPF records", "merge the TXT records starting with v=spf1 at two.test into one"},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			expect(t, checkSPF(ctx, tc.domain, cfg), tc.status, tc.summary, tc.fix)
		})
	}
}

func TestDKIMCases(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	ours, name := dkimKey(t, "ed25519", "s1", "unit.test")
	theirs, _ := dkimKey(t, "ed25519", "s1", "unit.test")
	e.dns.AddTXT(name, theirs.DNSValue)
	e.dns.AddTXT("s2._domainkey.unit.test", "v=DKIM1; p=")
	v := ours.DNSValue
	i := strings.Index(v, "p=") + 2
	e.dns.AddTXT("s3._domainkey.unit.test", v[:i]+" "+v[i:i+10]+" \t "+v[i+10:]) // folded, RFC 6376 3.2
	cfg := e.config()
	ctx := context.Background()
	cfg.DKIM = []DKIMExpect{ours}
	expect(t, checkDKIM(ctx, "unit.test", cfg), Fail, "the key at s1._domainkey.unit.test is not ours",
		`replace the TXT record at s1._domainkey.unit.test with: "`+ours.DNSValue+`"`)
	cfg.DKIM = []DKIMExpect{{Selector: "s2", DNSValue: ours.DNSValue}}
	expect(t, checkDKIM(ctx, "unit.test", cfg), Fail, "empty or revoked", "replace the TXT record at s2._domainkey.unit.test")
	cfg.DKIM = []DKIMExpect{{Selector: "s3", DNSValue: ours.DNSValue}}
	expect(t, checkDKIM(ctx, "unit.test", cfg), Pass, "1 selector(s) publish our key", "")
	cfg.DKIM = nil
	expect(t, checkDKIM(ctx, "unit.test", cfg), Warn, "no DKIM selectors configured", "configure a DKIM key for unit.test")
}

func TestDMARCCases(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	d := e.dns
	d.AddTXT("_dmarc.bad.test", "v=DMARC1; p=bogus")
	d.AddTXT("_dmarc.order.test", "p=reject; v=DMARC1")
	d.AddTXT("_dmarc.pct.test", "v=DMARC1; p=reject; pct=50; sp=none; aspf=s")
	d.AddTXT("_dmarc.ext.test", "v=DMARC1; p=reject; rua=mailto:agg@reports.test,mailto:agg@ok.test!10m")
	d.AddTXT("ext.test._report._dmarc.ok.test", "v=DMARC1")
	d.AddTXT("_dmarc.two.test", "v=DMARC1; p=reject", "v=DMARC1; p=none")
	cfg := e.config()
	ctx := context.Background()
	for _, tc := range []struct {
		domain       string
		status       Status
		summary, fix string
	}{
		{"bad.test", Fail, "p=bogus: want none, quarantine or reject", `publish this TXT record at _dmarc.bad.test: "v=DMARC1; p=quarantine; rua=mailto:dmarc@bad.test"`},
		{"order.test", Fail, `must start with "v=DMARC1"`, "publish this TXT record at _dmarc.order.test"},
		{"pct.test", Warn, "pct=50: the policy applies to only 50% of failing mail", "remove pct= from the DMARC record at _dmarc.pct.test"},
		{"ext.test", Warn, "reports.test has not agreed to receive reports for ext.test",
			`ask the owner of reports.test to publish this TXT record at ext.test._report._dmarc.reports.test: "v=DMARC1"`},
		{"missing.test", Fail, "no DMARC record", `publish this TXT record at _dmarc.missing.test: "v=DMARC1; p=quarantine; rua=mailto:dmarc@missing.test"`},
		{"two.test", Fail, "2 DMARC records", "keep one"},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			c := checkDMARC(ctx, tc.domain, cfg)
			expect(t, c, tc.status, tc.summary, tc.fix)
			if tc.domain == "pct.test" {
				details := strings.Join(c.Details, "\n")
				for _, want := range []string{"sp=none", "adkim=r, aspf=s"} {
					if !strings.Contains(details, want) {
						t.Errorf("details lack %q: %s", want, details)
					}
				}
			}
		})
	}
}

func TestMTASTSAndTLSRPTCases(t *testing.T) {
	e := newTestEnv(t, "mx.other.test")
	d := e.dns
	d.AddTXT("_mta-sts.unit.test", "v=STSv1; id=abc123")
	d.AddTXT("_mta-sts.badid.test", "v=STSv1; id=not-alnum!")
	d.AddTXT("_smtp._tls.unit.test", "v=TLSRPTv1; rua=ftp://reports.test")
	d.AddTXT("_smtp._tls.nonrua.test", "v=TLSRPTv1;")
	d.AddTXT("_smtp._tls.https.test", "v=TLSRPTv1; rua=https://reports.test/tlsrpt, mailto:a@b.test")
	cfg := e.config()
	ctx := context.Background()
	hosts := []mxHost{{name: "mx1.unit.test"}, {name: "mx2.unit.test"}}

	e.setPolicy("unit.test", "version: STSv1\nmode: testing\nmx: *.unit.test\nmax_age: 86400\n")
	expect(t, checkMTASTS(ctx, "unit.test", hosts, cfg), Warn, "mode is testing",
		`change "mode: testing" to "mode: enforce" in https://mta-sts.unit.test/.well-known/mta-sts.txt and change the id in the TXT record at _mta-sts.unit.test`)
	e.setPolicy("unit.test", "version: STSv1\nmode: enforce\nmx: mx1.unit.test\nmax_age: 86400\n")
	expect(t, checkMTASTS(ctx, "unit.test", hosts, cfg), Fail, "MX mx2.unit.test is not matched by the policy's mx patterns",
		`add the line "mx: mx2.unit.test" to https://mta-sts.unit.test/.well-known/mta-sts.txt`)
	e.setPolicy("unit.test", "version: STSv1\nmode: enforce\nmx: mx1.unit.test\n")
	expect(t, checkMTASTS(ctx, "unit.test", hosts, cfg), Fail, "malformed MTA-STS policy: no max_age line", "serve a policy at")
	expect(t, checkMTASTS(ctx, "badid.test", hosts, cfg), Fail, "malformed MTA-STS record", "publish this TXT record at _mta-sts.badid.test instead")
	expect(t, checkMTASTS(ctx, "none.test", hosts, cfg), Warn, "no MTA-STS record (optional", `publish this TXT record at _mta-sts.none.test: "v=STSv1; id=`)

	expect(t, checkTLSRPT(ctx, "unit.test", cfg), Fail, `rua "ftp://reports.test" is neither`, `publish this TXT record at _smtp._tls.unit.test: "v=TLSRPTv1; rua=mailto:tls-reports@unit.test"`)
	expect(t, checkTLSRPT(ctx, "nonrua.test", cfg), Fail, "no rua field", "replace it")
	expect(t, checkTLSRPT(ctx, "https.test", cfg), Pass, "reports go to", "")
}
