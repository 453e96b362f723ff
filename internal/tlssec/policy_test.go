package tlssec_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/tlssec"
)

func TestParseRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ txt, id, err string }{
		{"v=STSv1; id=20160831085700Z;", "20160831085700Z", ""}, // RFC 8461 3.1
		{"v=STSv1;id=abc", "abc", ""},
		{"v=STSv1; id=abc; ext=x.y-z", "abc", ""},
		{"v=STSv1; id=first; id=second", "first", ""},
		{"id=abc; v=STSv1", "", `start with "v=STSv1"`},
		{"v=STSv2; id=abc", "", `start with "v=STSv1"`},
		{"v=STSv1", "", "must be 1 to 32"},
		{"v=STSv1; id=not-alnum", "", "must be 1 to 32"},
		{"v=STSv1; id=" + strings.Repeat("a", 33), "", "must be 1 to 32"},
		{"v=STSv1; junk", "", "is not a field"},
	} {
		id, err := tlssec.ParseRecord(tc.txt)
		if id != tc.id || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseRecord(%q) = %q, %v; want %q, %q", tc.txt, id, err, tc.id, tc.err)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	// The example of RFC 8461 3.2, with CRLF line ends.
	body := "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n"
	p, err := tlssec.ParsePolicy(body)
	want := &tlssec.STSPolicy{Mode: "enforce", MX: []string{"mail.example.com", "*.example.net", "backupmx.example.com"}, MaxAge: 7 * 24 * time.Hour}
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("ParsePolicy = %+v, %v", p, err)
	}
	if again, err := tlssec.ParsePolicy(p.String()); err != nil || !reflect.DeepEqual(again, p) {
		t.Errorf("String does not round-trip: %q", p.String())
	}
	for host, match := range map[string]bool{
		"mail.example.com": true, "MAIL.Example.com.": true, "backupmx.example.com": true,
		"mx1.example.net": true, "example.net": false, "a.b.example.net": false,
		"mail.example.org": false, "xexample.net": false, "": false,
	} {
		if p.Matches(host) != match {
			t.Errorf("Matches(%q) = %v", host, !match)
		}
	}

	for _, tc := range []struct{ body, err string }{
		{"version: STSv1\nmode: none\nmax_age: 0\n", ""}, // withdrawing needs no mx
		{"version: STSv1\nmode: testing\nmx: MX.Example.COM.\nmax_age: 31557600\nfuture: x\n", ""},
		{"mode: enforce\nversion:STSv1\nmax_age:\t86400\nmx:mx.example.com\nmode: none\nmax_age: 1\n", ""},
		{"version: STSv1\nmode: enforce\nmx: mx.example.com\n", "no max_age line"},
		{"mode: enforce\nmx: mx.example.com\nmax_age: 1\n", `no "version: STSv1" line`},
		{"version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 1\n", `no "version: STSv1" line`},
		{"version: STSv1\nmode: strict\nmx: mx.example.com\nmax_age: 1\n", `mode "strict"`},
		{"version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx lines"},
		{"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557601\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: -1\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: +5\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 00000000001\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: mx.*.example.com\nmax_age: 1\n", "not a host name"},
		{"version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", "not a host name"},
		{"version: STSv1\nmode: enforce\nmx: mx example.com\nmax_age: 1\n", "not a host name"},
		{"version: STSv1\njust words\n", "is not"},
	} {
		_, err := tlssec.ParsePolicy(tc.body)
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParsePolicy(%q) = %v, want %q", tc.body, err, tc.err)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
		"version: STSv1\nmode: none\nmax_age: 0\n",
		"version:STSv1\nmode:testing\nmx:a.b\nmax_age:31557600\nx: y\n",
		"version: STSv1\nmode: enforce\nmx: *.\nmax_age: 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := tlssec.ParsePolicy(body)
		if err != nil {
			return
		}
		if p.Mode != tlssec.ModeEnforce && p.Mode != tlssec.ModeTesting && p.Mode != tlssec.ModeNone {
			t.Fatalf("%q: mode %q", body, p.Mode)
		}
		if p.MaxAge < 0 || p.MaxAge > 31557600*time.Second {
			t.Fatalf("%q: max_age %v", body, p.MaxAge)
		}
		for _, mx := range p.MX {
			if mx != strings.ToLower(mx) || strings.ContainsAny(mx, " \t\r\n") {
				t.Fatalf("%q: mx pattern %q", body, mx)
			}
			host := strings.Replace(mx, "*", "mx", 1)
			if !p.Matches(host) {
				t.Fatalf("%q: pattern %q does not match %q", body, mx, host)
			}
		}
		again, err := tlssec.ParsePolicy(p.String())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("%q: re-parse of %q gives %+v, %v", body, p.String(), again, err)
		}
	})
}

func BenchmarkParsePolicy(b *testing.B) {
	body := "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n"
	for b.Loop() {
		if _, err := tlssec.ParsePolicy(body); err != nil {
			b.Fatal(err)
		}
	}
}
