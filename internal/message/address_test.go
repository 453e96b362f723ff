package message

import (
	"strings"
	"testing"
)

func TestParseAddressAccepts(t *testing.T) {
	tests := []struct {
		in         string
		name, addr string
	}{
		{"a@b.example", "", "a@b.example"},
		{"  a@b.example\t", "", "a@b.example"},
		{"<a@b.example>", "", "a@b.example"},
		{"Jane Doe <jane.doe@Clinic.EXAMPLE>", "Jane Doe", "jane.doe@clinic.example"},
		{`"Doe, Jane" <jane@clinic.example>`, "Doe, Jane", "jane@clinic.example"},
		{`"A \"quoted\" \\ name" <a@b.example>`, `A "quoted" \ name`, "a@b.example"},
		{`"<not@this.example>" <a@b.example>`, "<not@this.example>", "a@b.example"},
		{"Dr. Jones <dr.jones@b.example>", "Dr. Jones", "dr.jones@b.example"},
		{"=?utf-8?q?J=C3=B6rg?= <j@b.example>", "Jörg", "j@b.example"},
		{"Jörg <j@b.example>", "Jörg", "j@b.example"},
		{"user+tag@bücher.example", "", "user+tag@xn--bcher-kva.example"},
		{"x@XN--BCHER-KVA.example", "", "x@xn--bcher-kva.example"},
		{"o'brien!#$%&*/=?^_`{|}~-@b.example", "", "o'brien!#$%&*/=?^_`{|}~-@b.example"},
		{strings.Repeat("l", 64) + "@b.example", "", strings.Repeat("l", 64) + "@b.example"},
		{"a@" + strings.Repeat("d", 63) + ".example", "", "a@" + strings.Repeat("d", 63) + ".example"},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if got.Name != tt.name || got.Addr != tt.addr {
			t.Errorf("ParseAddress(%q) = %+v, want name %q addr %q", tt.in, got, tt.name, tt.addr)
		}
	}
}

func TestParseAddressRejects(t *testing.T) {
	long := strings.Repeat("d", 60)
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"spaces", "   "},
		{"crlf injection", "a@b.example\r\nBcc: x@y.example"},
		{"crlf in name", "a\r\nBcc: x@y <a@b.example>"},
		{"bare lf", "Name\n <a@b.example>"},
		{"bare cr", "a@b.example\r"},
		{"nul", "a\x00b@c.example"},
		{"encoded crlf in name", "=?utf-8?q?a=0D=0ABcc:_x@y.example?= <a@b.example>"},
		{"nested encoded word", "=?utf-8?q?=3D=3Futf-8=3Fq=3Fx=3F=3D?= <a@b.example>"},
		{"unknown charset", "=?x-unknown?q?abc?= <a@b.example>"},
		{"control char", "a\x01 <a@b.example>"},
		{"invalid utf-8", "\xff <a@b.example>"},
		{"no at", "ab.example"},
		{"no domain", "a@"},
		{"no local", "@b.example"},
		{"empty angle", "<>"},
		{"unmatched angle", "a@b.example>"},
		{"unclosed angle", "Name <a@b.example"},
		{"single label", "a@localhost"},
		{"trailing dot", "a@b.example."},
		{"empty label", "a@b..example"},
		{"numeric tld", "a@1.2.3.4"},
		{"literal", "a@[192.0.2.1]"},
		{"label too long", "a@" + strings.Repeat("d", 64) + ".example"},
		{"hyphen label", "a@-b.example"},
		{"underscore domain", "a@b_c.example"},
		{"bad idn", "a@xn--zz.example"},
		{"local too long", strings.Repeat("l", 65) + "@b.example"},
		{"total too long", strings.Repeat("l", 20) + "@" + strings.Join([]string{long, long, long, long}, ".") + ".example"},
		{"quoted local", `"john doe"@b.example`},
		{"leading dot", ".a@b.example"},
		{"double dot", "a..b@b.example"},
		{"space in local", "a b@b.example"},
		{"non-ascii local", "jörg@b.example"},
		{"comment", "a@b.example (comment)"},
		{"unquoted special", "Doe, Jane <a@b.example>"},
		{"text after quote", `"Jane" Doe <a@b.example>`},
		{"unterminated quote", `"Jane <a@b.example>`},
		{"group", "group: a@b.example;"},
		{"two addresses", "a@b.example, c@d.example"},
		{"name too long", strings.Repeat("n", 257) + " <a@b.example>"},
		{"input too long", strings.Repeat("n", 990) + " <a@b.example>"},
	}
	for _, tt := range tests {
		_, err := ParseAddress(tt.in)
		if err == nil {
			t.Errorf("%s: ParseAddress accepted %q", tt.name, tt.in)
			continue
		}
		// Addresses may be PHI: the message must describe, not repeat.
		if tt.in != "" && strings.TrimSpace(tt.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
			t.Errorf("%s: error %q repeats the input", tt.name, err)
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%s: error contains a line break", tt.name)
		}
	}
}

func TestAddressString(t *testing.T) {
	tests := []struct {
		a    Address
		want string
	}{
		{Address{Addr: "a@b.example"}, "a@b.example"},
		{Address{Name: "Jane Doe", Addr: "a@b.example"}, "Jane Doe <a@b.example>"},
		{Address{Name: "Doe, Jane", Addr: "a@b.example"}, `"Doe, Jane" <a@b.example>`},
		{Address{Name: `say "hi" \o/`, Addr: "a@b.example"}, `"say \"hi\" \\o/" <a@b.example>`},
		{Address{Name: "Jörg", Addr: "a@B.example"}, "=?utf-8?b?SsO2cmc=?= <a@b.example>"},
		{Address{Name: "  padded", Addr: "a@b.example"}, "=?utf-8?b?ICBwYWRkZWQ=?= <a@b.example>"},
		{Address{Name: "x\r\nBcc: y@z", Addr: "a@b.example"}, "a@b.example"},
		{Address{Addr: "a@b.example\r\nBcc: y@z.example"}, ""},
		{Address{Addr: "not an address"}, ""},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestAddressStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"Jane Doe <a@b.example>",
		`"Doe, Jane (MD)" <a@b.example>`,
		"Zoë Ångström <z@b.example>",
		"=?utf-8?b?5bGx55Sw?= <y@b.example>",
		"plain@b.example",
	} {
		a, err := ParseAddress(in)
		if err != nil {
			t.Fatalf("ParseAddress(%q): %v", in, err)
		}
		b, err := ParseAddress(a.String())
		if err != nil {
			t.Fatalf("ParseAddress(String(%q)): %v", in, err)
		}
		if a != b {
			t.Errorf("round trip of %q: %+v became %+v", in, a, b)
		}
	}
}

func TestAddressDomain(t *testing.T) {
	a, err := ParseAddress("x@Sub.Bücher.example")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Domain(), "sub.xn--bcher-kva.example"; got != want {
		t.Errorf("Domain() = %q, want %q", got, want)
	}
}
