package domaincheck

import (
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/tlssec"
)

func TestParseSPF(t *testing.T) {
	for _, tc := range []struct {
		rec string
		err string // "" means valid
	}{
		{"v=spf1 -all", ""},
		{"V=SPF1 +a mx/24 a:host.example.com/24//64 ip4:192.0.2.0/24 ip6:2001:db8::/32 ?exists:%{ir}.%{v}._spf.%{d} ~include:_spf.example.com -all", ""},
		{"v=spf1 ptr:example.com redirect=_spf.example.com exp=explain._spf.%{d} custom-mod=anything", ""},
		{"v=spf1 a//64 mx:example.com//128 -all", ""},
		{"v=spf10 -all", `does not start with "v=spf1"`},
		{"spf1 -all", `does not start with "v=spf1"`},
		{"v=spf1\t-all", "not allowed"},
		{"v=spf1 all:example.com", "takes no argument"},
		{"v=spf1 include", "needs a domain"},
		{"v=spf1 include:example", "not a fully qualified domain"},
		{"v=spf1 include:example.123", "valid top-level label"},
		{"v=spf1 ip4:2001:db8::1", "not an IPv4 address"},
		{"v=spf1 ip6:192.0.2.1", "not an IPv6 address"},
		{"v=spf1 ip4:192.0.2.0/33", "bad prefix length"},
		{"v=spf1 ip4:192.0.2.0/024", "bad prefix length"},
		{"v=spf1 a/33", "bad prefix length"},
		{"v=spf1 mx//129", "bad prefix length"},
		{"v=spf1 foo:example.com", `unknown mechanism "foo"`},
		{"v=spf1 redirect=a.example.com redirect=b.example.com", "more than once"},
		{"v=spf1 exists:%{x}.example.com", "unknown macro letter"},
		{"v=spf1 exists:%{d0}.example.com", "zero labels"},
		{"v=spf1 exists:%{d.example.com", `without closing "}"`},
		{"v=spf1 exists:50%.example.com", "is not a macro"},
	} {
		_, err := parseSPF(tc.rec)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("parseSPF(%q) = %v, want error containing %q", tc.rec, err, tc.err)
		}
	}
}

func TestExpandMacros(t *testing.T) {
	env := macroEnv{sender: "strong-bad@email.example.com", domain: "email.example.com", ip: net.ParseIP("192.0.2.3"), helo: "mx.example.org"}
	v6 := env
	v6.ip = net.ParseIP("2001:db8::cb01")
	// Examples from RFC 7208 7.4.
	for _, tc := range []struct {
		env      macroEnv
		in, want string
	}{
		{env, "%{s}", "strong-bad@email.example.com"},
		{env, "%{o}", "email.example.com"},
		{env, "%{d4}", "email.example.com"},
		{env, "%{d2}", "example.com"},
		{env, "%{d1}", "com"},
		{env, "%{dr}", "com.example.email"},
		{env, "%{d2r}", "example.email"},
		{env, "%{l}", "strong-bad"},
		{env, "%{l-}", "strong.bad"},
		{env, "%{lr-}", "bad.strong"},
		{env, "%{l1r-}", "strong"},
		{env, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
		{env, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
		{env, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
		{v6, "%{ir}.%{v}._spf.%{d2}", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
		{env, "%%%_%-", "% %20"},
	} {
		got, err := expandMacros(tc.in, tc.env)
		if err != nil || got != tc.want {
			t.Errorf("expandMacros(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseDMARC(t *testing.T) {
	rec, err := parseDMARC("v=DMARC1;p=Quarantine; sp = reject ; adkim=s; pct=20; rua=mailto:a@example.com!10m, mailto:b@example.net; ruf=mailto:f@example.com; fo=1:d; ri=3600; future=x;")
	want := &dmarcRecord{p: "quarantine", sp: "reject", adkim: "s", aspf: "r", pct: 20,
		rua: []string{"mailto:a@example.com", "mailto:b@example.net"}, ruf: []string{"mailto:f@example.com"}}
	if err != nil || !reflect.DeepEqual(rec, want) {
		t.Errorf("parseDMARC = %+v, %v; want %+v", rec, err, want)
	}
	for _, tc := range []struct{ rec, err string }{
		{"v=DMARC1", `no "p" tag`},
		{"v=dmarc1; p=none", `must start with "v=DMARC1"`},
		{"p=none; v=DMARC1", `must start with "v=DMARC1"`},
		{"v=DMARC1; p=none; p=reject", "more than once"},
		{"v=DMARC1; p=none; adkim=x", "want r or s"},
		{"v=DMARC1; p=none; pct=101", "from 0 to 100"},
		{"v=DMARC1; p=none; pct=ten", "from 0 to 100"},
		{"v=DMARC1; p=none; rua=dmarc@example.com", "not a URI"},
		{"v=DMARC1; p=none; rua=mailto:example.com", "has no address"},
		{"v=DMARC1; p=none; rua=mailto:a@example.com!10x", "bad size limit"},
		{"v=DMARC1; p=none; fo=2", "want options"},
		{"v=DMARC1; p=none; ri=-1", "number of seconds"},
		{"v=DMARC1; p=none; junk", "not a tag=value pair"},
	} {
		if _, err := parseDMARC(tc.rec); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("parseDMARC(%q) = %v, want error containing %q", tc.rec, err, tc.err)
		}
	}
}

func TestSTSMatch(t *testing.T) {
	patterns := []string{"mx.example.com", "*.backup.example.com"}
	for host, want := range map[string]bool{
		"mx.example.com": true, "a.backup.example.com": true, "backup.example.com": false,
		"a.b.backup.example.com": false, "mx2.example.com": false, "xbackup.example.com": false,
	} {
		if got := (&tlssec.STSPolicy{MX: patterns}).Matches(host); got != want {
			t.Errorf("stsMatch(%q) = %v, want %v", host, got, want)
		}
	}
}

func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all", "v=spf1 a mx/24//64 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.com ~all",
		"v=spf1 exists:%{ir}.%{l1r-}.%{d2}._spf.example.com redirect=_spf.example.com exp=%{d}",
		"v=spf1 ptr:%{d}. ?all", "v=spf1 a:%%%_%-.example.com//0",
	} {
		f.Add(s)
	}
	env := macroEnv{sender: "a.b@example.com", domain: "example.com", ip: net.ParseIP("2001:db8::1"), helo: "h.example.com"}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := parseSPF(s)
		if err != nil {
			return
		}
		for _, term := range rec.terms {
			if !strings.Contains("+-~?", string(term.qual)) || term.qual == 0 {
				t.Fatalf("%q: bad qualifier %q", s, term.qual)
			}
			if (term.name == "ip4" || term.name == "ip6") != (term.ipnet != nil) {
				t.Fatalf("%q: %s with ipnet %v", s, term.name, term.ipnet)
			}
			if _, err := expandMacros(term.arg, env); err != nil && term.ipnet == nil {
				t.Fatalf("%q: accepted %q but cannot expand it: %v", s, term.arg, err)
			}
		}
		again, err := parseSPF(strings.Join(strings.Fields(s), " "))
		if err != nil || len(again.terms) != len(rec.terms) || again.redirect != rec.redirect {
			t.Fatalf("%q: reparse differs: %v", s, err)
		}
	})
}

func FuzzParseDMARC(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=none", "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; pct=50; rua=mailto:a@example.com!10m,mailto:b@example.net; ruf=mailto:f@example.com; fo=0:1:d:s; ri=86400",
		"v=DMARC1;p=quarantine;", "v = DMARC1 ; p = reject ; x=y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := parseDMARC(s)
		if err != nil {
			return
		}
		if rec.pct < 0 || rec.pct > 100 || !strings.Contains("r s", rec.adkim) || !strings.Contains("r s", rec.aspf) ||
			!strings.Contains(" none quarantine reject ", " "+rec.p+" ") {
			t.Fatalf("%q: out-of-range record %+v", s, rec)
		}
		// Printing the record in normal form and parsing it again must give
		// the same record.
		out := fmt.Sprintf("v=DMARC1; p=%s; adkim=%s; aspf=%s; pct=%d", rec.p, rec.adkim, rec.aspf, rec.pct)
		if rec.sp != "" {
			out += "; sp=" + rec.sp
		}
		if rec.rua != nil {
			out += "; rua=" + strings.Join(rec.rua, ",")
		}
		if rec.ruf != nil {
			out += "; ruf=" + strings.Join(rec.ruf, ",")
		}
		again, err := parseDMARC(out)
		if err != nil || !reflect.DeepEqual(again, rec) {
			t.Fatalf("%q: normal form %q parses to %+v, %v; want %+v", s, out, again, err, rec)
		}
	})
}
