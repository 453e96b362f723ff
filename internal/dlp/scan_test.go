package dlp

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"
)

func mustCompile(t testing.TB, r Rules, l Limits) *Scanner {
	t.Helper()
	s, err := Compile(r, l)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// found returns the findings as "category/confidence/count" for compact assertions.
func found(s *Scanner, in Input) []string {
	var out []string
	for _, f := range s.Scan(in) {
		out = append(out, string(f.Category)+"/"+string(f.Confidence)+"/"+strings.Repeat("I", f.Count))
	}
	return out
}

// A finding says what and how much, never the value: the JSON of a report over a
// message full of PHI holds none of its digits.
func TestFindingJSONHasNoValues(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{MRNPatterns: []string{`HX\d{8}`}, Keywords: []string{"HIV"}, Regexps: []string{`CLM-\d{6}`}}, Limits{})
	in := Input{
		Subject: "SSN 219-45-6781",
		Text: "SSN: 123-45-6789\nNPI 1234567893\nDEA AB1234563\nMBI 1EG4-TE5-MK73\nCard 4111 1111 1111 1111\n" +
			"Routing 021000021\nMRN HX12345678\nDOB: 03/04/1975\nDx: E11.9\nHIV\nCLM-654321",
		HTML: "<p>SSN &#51;21-54-9876</p>",
	}
	r := s.ScanReport(in)
	if len(r.Findings) != len(Categories()) {
		t.Fatalf("found %d categories, want all %d: %+v", len(r.Findings), len(Categories()), r.Findings)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`\d{2,}`).Match(bytes.ReplaceAll(b, []byte(`"icd10"`), nil)) {
		t.Errorf("report JSON has a run of digits: %s", b)
	}
	for _, v := range []string{"E11", "1EG4", "AB12", "HX1", "CLM", "HIV", "1975", "6789"} {
		if strings.Contains(strings.ToUpper(string(b)), v) {
			t.Errorf("report JSON contains %q: %s", v, b)
		}
	}
	var generic []map[string]any
	fb, _ := json.Marshal(r.Findings)
	_ = json.Unmarshal(fb, &generic)
	for _, f := range generic {
		for k := range f {
			if k != "category" && k != "count" && k != "confidence" {
				t.Errorf("finding has field %q", k)
			}
		}
	}
	if got := found(s, Input{Subject: "SSN 219-45-6781", Text: in.Text, HTML: in.HTML}); got[len(got)-1] != "ssn/high/III" {
		t.Errorf("ssn count: %v", got)
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	test := func(r Rules, l Limits, prefix string) {
		t.Helper()
		_, err := Compile(r, l)
		switch {
		case prefix == "" && err != nil:
			t.Errorf("unexpected error: %v", err)
		case prefix != "" && (err == nil || !strings.HasPrefix(err.Error(), prefix)):
			t.Errorf("error %v, want prefix %q", err, prefix)
		}
	}
	test(Rules{}, Limits{}, "")
	test(Rules{Regexps: []string{`a`, `b`, `(`}}, Limits{}, "regexps[2]: ")
	test(Rules{MRNPatterns: []string{`MRN\d+`, `[`}}, Limits{}, "mrn_patterns[1]: ")
	test(Rules{Regexps: []string{`x*`}}, Limits{}, "regexps[0]: matches the empty string")
	test(Rules{Regexps: []string{`(a)\1`}}, Limits{}, "regexps[0]: ") // not RE2
	test(Rules{Keywords: []string{"ok", "  "}}, Limits{}, "keywords[1]: empty")
	test(Rules{Keywords: []string{strings.Repeat("a", 201)}}, Limits{}, "keywords[0]: ")
	test(Rules{Regexps: make([]string, 101)}, Limits{}, "regexps: at most")
	test(Rules{}, Limits{MaxZipDepth: -1}, "limits: ")
	test(Rules{Keywords: []string{"a.b", "C++", "(x)"}}, Limits{}, "") // quoted, not patterns
}

func TestCategories(t *testing.T) {
	t.Parallel()
	cs := Categories()
	if !slices.IsSorted(cs) || len(slices.Compact(slices.Clone(cs))) != len(cs) || len(cs) != int(nKinds) {
		t.Fatalf("Categories() = %v: want %d sorted, unique", cs, nKinds)
	}
	for k := range nKinds {
		if k.category() != cs[k] {
			t.Errorf("kind %d is %q, want %q", k, k.category(), cs[k])
		}
	}
	s := mustCompile(t, Rules{}, Limits{})
	if fs := s.Scan(Input{Text: "Nothing to see: meeting at 10:30, room 4."}); fs == nil || len(fs) != 0 {
		t.Errorf("clean message: %#v, want empty non-nil", fs)
	}
}

// What a reader of the HTML sees is scanned; what they do not see is not.
func TestHTML(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{}, Limits{})
	test := func(doc string, want ...string) {
		t.Helper()
		if got := found(s, Input{HTML: doc}); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", doc, got, want)
		}
	}
	test(`<p>SSN &#49;23-45-6789</p>`, "ssn/high/I")
	test(`<p>SSN <b>123</b>-<i>45</i>-6789</p>`, "ssn/high/I")
	test(`<p>SSN&nbsp;&#x31;23&#8209;45&ndash;6789</p>`, "ssn/high/I")
	test(`<table><tr><th>SSN</th><th>DOB</th></tr><tr><td>123-45-6789</td><td>03/04/1975</td></tr></table>`, "dob/high/I", "ssn/high/I")
	test(`<img alt="SSN 123-45-6789">`, "ssn/high/I")
	test(`<script>var ssn = "123-45-6789";</script><style>/* 123-45-6789 */</style><!-- SSN 123-45-6789 --><p>hi</p>`)
	test(`<a href="https://x.example/?id=4111111111111111">pay</a>`)
	test(`<p>SSN 123-45-</p><p>6789</p>`, "ssn/high/I") // a block break is a line break
	test("<p>SSN 123-45-6789", "ssn/high/I")            // unterminated markup
}

// Encodings that hide a number from a plain reading.
func TestEncodings(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{}, Limits{})
	test := func(in Input, want ...string) {
		t.Helper()
		if got := found(s, in); !slices.Equal(got, want) {
			t.Errorf("%+v: %v, want %v", in, got, want)
		}
	}
	test(Input{Text: "SSN 123-45-67=\r\n89"}, "ssn/high/I")        // quoted-printable soft break
	test(Input{Text: "SSN=3D123-45-6789 pad=3D=\n"}, "ssn/high/I") // =3D
	test(Input{Text: "SSN 123-45-67= \r\n89"}, "ssn/high/I")       // transport padding
	test(Input{Text: "SSN １２３-４５-６７８９"}, "ssn/high/I")             // full-width
	test(Input{Text: "SSN 123\u200b-45-67\u00ad89"}, "ssn/high/I") // invisible characters
	test(Input{Text: "SSN 123\u00a045\u00a06789"}, "ssn/high/I")   // no-break spaces
	test(Input{Text: "SSN 123\u201245\u20136789"}, "ssn/high/I")   // typographic dashes
	test(Input{Text: "SSN &#49;23-45-6789"}, "ssn/high/I")         // a reference in text
	test(Input{Text: "Patient SSN is 123-45-\n6789 per intake."}, "ssn/high/I")
	test(Input{Text: "> SSN 123-45-\n> 6789"}, "ssn/high/I") // quoted reply
	test(Input{Text: "Card 4111 1111\n1111 1111"}, "card/high/I")
	test(Input{Text: "Claim CLM-\n123456"})
	utf16le := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune("SSN,DOB\r\n123-45-6789,03/04/1975\r\n")) {
		utf16le = append(utf16le, byte(u), byte(u>>8))
	}
	test(Input{Attachments: []Attachment{{"export.csv", "application/octet-stream", utf16le}}}, "dob/high/I", "ssn/high/I")
}

// Attachments: by type or extension, tables labelled by their header.
func TestAttachments(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{}, Limits{})
	test := func(a Attachment, want ...string) {
		t.Helper()
		if got := found(s, Input{Attachments: []Attachment{a}}); !slices.Equal(got, want) {
			t.Errorf("%s (%s): %v, want %v", a.Filename, a.ContentType, got, want)
		}
	}
	csvData := []byte("Name,Date of birth,Visit,Notes\nAna,03/04/1975,04/05/2024,ok\nTom,1980-12-31,2024-01-02,\n")
	test(Attachment{"patients.csv", "text/csv", csvData}, "dob/high/II")
	test(Attachment{"patients.tsv", "", []byte("Name\tSSN\nAna\t123456789\n")}, "ssn/high/I")
	test(Attachment{"noheader.csv", "", []byte("Ana,123-45-6789\nTom,234-56-7890\n")}, "ssn/medium/II")
	test(Attachment{"a.json", "application/json", []byte(`{"ssn":"123-45-6789","birthDate":"1975-03-04"}`)}, "dob/high/I", "ssn/high/I")
	test(Attachment{"a.xml", "", []byte(`<patient><ssn>123-45-6789</ssn></patient>`)}, "ssn/high/I")
	test(Attachment{"page.htm", "", []byte(`<p>SSN &#49;23-45-6789</p>`)}, "ssn/high/I")
	test(Attachment{"ADT.hl7", "", []byte("PID|1||HX1^^^MRN||DOE^JANE||19750304|F|||||||||||123-45-6789\r")}, "ssn/medium/I")
	test(Attachment{"noext", "", []byte("SSN 123-45-6789")}, "ssn/high/I") // sniffed as text
	test(Attachment{"scan.png", "image/png", []byte("SSN 123-45-6789")})   // not read
	test(Attachment{"bin", "", []byte("SSN 123-45-6789\x00\x01\x02")})     // binary
}

// Count is distinct values: the same number in the text and HTML alternatives is one.
func TestCounting(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{}, Limits{})
	in := Input{Text: "SSN 123-45-6789 and 234-56-7890", HTML: "<p>SSN 123-45-6789 and 234&#45;56-7890</p>"}
	if got := found(s, in); !slices.Equal(got, []string{"ssn/high/II"}) {
		t.Errorf("%v", got)
	}
}

// The scan budget bounds work; what lies past it is not inspected and says so.
func TestBudget(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{}, Limits{MaxScanBytes: 1000})
	in := Input{Text: strings.Repeat("filler text ", 100) + "SSN 123-45-6789"}
	r := s.ScanReport(in)
	if len(r.Findings) != 0 || !r.Incomplete {
		t.Errorf("past the budget: %+v", r)
	}
	r = s.ScanReport(Input{Text: "SSN 123-45-6789"})
	if len(r.Findings) != 1 || r.Incomplete {
		t.Errorf("within the budget: %+v", r)
	}
}

// Long parts are scanned in chunks; a value on a chunk boundary is still found once.
func TestChunks(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{}, Limits{})
	for _, line := range []string{
		"Routine note without identifiers, nothing to report here today.\n",
		"One long paragraph without a single line break in it, ", // chunks end at a space
	} {
		for _, at := range []int{chunkSize - 40, chunkSize - 8, chunkSize, chunkSize + 30} {
			pre := strings.Repeat(line, at/len(line)+1)[:at]
			text := pre + " SSN 123-45-6789 and again SSN 123-45-6789 " + strings.Repeat(line, 2000)
			if got := found(s, Input{Text: text}); !slices.Equal(got, []string{"ssn/high/I"}) {
				t.Errorf("value at %d: %v", at, got)
			}
			card := pre + " 4111 1111 1111 1111 " + strings.Repeat(line, 2000)
			if got := found(s, Input{Text: card}); !slices.Equal(got, []string{"card/medium/I"}) {
				t.Errorf("card at %d: %v", at, got)
			}
		}
	}
}

// One Scanner serves concurrent scans (run with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{Keywords: []string{"HIV"}}, Limits{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got := found(s, Input{Text: "SSN 123-45-6789, HIV"}); len(got) != 2 {
					t.Errorf("%v", got)
				}
			}
		})
	}
	wg.Wait()
}
