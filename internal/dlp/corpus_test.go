package dlp

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The corpus test measures the detectors on a labelled synthetic corpus: per category,
// positives and hard negatives, each rendered as plain text, wrapped or split text, HTML
// with character references, a CSV attachment, a zip, a zip inside a zip, and base64 or
// quoted-printable inside a text body.

var variants = []string{"plain", "wrap", "html", "csv", "zip", "nested", "base64", "qp"}

const perCategory = 120 // positives and as many negatives, 15 per variant

type sample struct {
	cat      Category
	positive bool
	variant  string
	in       Input
}

func corpus(r *rand.Rand) []sample {
	var out []sample
	for _, g := range gens() {
		for i := range 2 * perCategory {
			positive := i < perCategory
			it := g.neg(r)
			if positive {
				it = g.pos(r)
			}
			v := variants[i%len(variants)]
			out = append(out, sample{g.cat, positive, v, render(r, it, v, g.pos(r))})
		}
	}
	return out
}

// render writes a statement into a message in one of the variants. decoy is a positive
// statement hidden where no reader sees it (HTML script, style and comments).
func render(r *rand.Rand, it item, variant string, decoy item) Input {
	paras := func(sentence string) string {
		ps := []string{sentence}
		for range 1 + r.IntN(3) {
			ps = append(ps, pick(r, fillers...))
		}
		r.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		return strings.Join(ps, "\n\n")
	}
	subject := pick(r, "Follow-up", "Records request", "Referral", "Re: billing question", "Lab results")
	switch variant {
	case "wrap":
		it.value = splitValue(r, it.value)
		return Input{Subject: subject, Text: paras(wrapLines(it.sentence(), 60))}
	case "html":
		v := it.value
		enc := fmt.Sprintf("&#%d;<b>%s</b>%s", v[0], html.EscapeString(v[1:len(v)/2]), html.EscapeString(v[len(v)/2:]))
		body := strings.ReplaceAll(html.EscapeString(it.tmpl), "{v}", enc)
		doc := fmt.Sprintf(`<html><head><style>.n{color:#336699} /* %s */</style><script>var id = %q;</script></head>`+
			`<body><!-- %s --><div class="n"><p>%s</p></div><p>%s</p></body></html>`,
			decoy.value, decoy.sentence(), html.EscapeString(decoy.sentence()), html.EscapeString(pick(r, fillers...)), body)
		return Input{Subject: subject, HTML: doc}
	case "base64":
		blob := b64(it.sentence())
		if r.IntN(2) == 0 {
			blob = wrap76(b64(paras(it.sentence())))
		}
		return Input{Subject: subject, Text: paras("Encoded note:\n" + blob)}
	case "qp":
		return Input{Subject: subject, Text: paras(qpAll(it.sentence()))}
	case "csv":
		return Input{Subject: subject, Text: "Export attached.", Attachments: []Attachment{{"export.csv", "text/csv", csvFile(r, it)}}}
	case "zip", "nested":
		name, data := "export.csv", csvFile(r, it)
		if r.IntN(2) == 0 {
			name, data = "notes.txt", []byte(paras(it.sentence()))
		}
		z := zipFile(map[string][]byte{name: data})
		if variant == "nested" {
			z = zipFile(map[string][]byte{"inner.zip": z, "readme.txt": []byte("Records for the referral.")})
		}
		return Input{Subject: subject, Text: "Archive attached.", Attachments: []Attachment{{"records.zip", "application/zip", z}}}
	}
	return Input{Subject: subject, Text: paras(it.sentence())}
}

// splitValue breaks a value the way mailers do: at one of its separators a line break,
// or, without separators, a quoted-printable soft line break in the middle.
func splitValue(r *rand.Rand, v string) string {
	var seps []int
	for i := 1; i < len(v)-1; i++ {
		if v[i] == ' ' || v[i] == '-' {
			seps = append(seps, i)
		}
	}
	if len(seps) == 0 {
		i := 1 + r.IntN(len(v)-1)
		return v[:i] + "=\r\n" + v[i:]
	}
	i := pick(r, seps...)
	if v[i] == ' ' {
		return v[:i] + "\n" + v[i+1:]
	}
	return v[:i+1] + "\n" + v[i+1:]
}

// wrapLines breaks text at spaces so no line is longer than width.
func wrapLines(text string, width int) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Split(text, " ") {
		if i > 0 {
			if col+1+len(w) > width {
				b.WriteByte('\n')
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w) - strings.LastIndex(w, "\n") - 1
	}
	return b.String()
}

func csvFile(r *rand.Rand, it item) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	rows := [][]string{{"Patient", it.label, "Notes"}}
	for range 2 {
		rows = append(rows, []string{pick(r, names...), "", "no change"})
	}
	rows = slices.Insert(rows, 1+r.IntN(3), []string{pick(r, names...), it.value, pick(r, "reviewed", "see chart", "")})
	_ = w.WriteAll(rows)
	return b.Bytes()
}

func zipFile(files map[string][]byte) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		f, _ := w.Create(n)
		_, _ = f.Write(files[n])
	}
	_ = w.Close()
	return b.Bytes()
}

var names = []string{"Ana Ruiz", "J. Okafor", "Mei Chen", "Tom Becker", "Priya Nair", "Luis Ortega", "Sara Novak", "D. Kowalski"}

// fillers are clinical and business sentences with numbers of every harmless kind:
// phone numbers, visit dates, doses, prices, times. Each is its own paragraph.
var fillers = []string{
	"Please review the attached summary before the case conference on Thursday.",
	"The patient tolerated the procedure well and was discharged home in stable condition.",
	"Metformin 500 mg twice daily; lisinopril 10 mg once daily; recheck in 3 months.",
	"Call the front desk at (555) 014-2368 or fax 555-014-2399 with any questions.",
	"Follow-up visit scheduled for 04/15/2025 at 10:30 AM in Suite 210.",
	"Total due: $1,245.60, invoice 88231 dated 2024-11-02. Thank you.",
	"Lab results: HbA1c 7.2%, LDL 130 mg/dL, eGFR 58 mL/min/1.73m2.",
	"Our office at 1450 Oak Street, Springfield, IL 62704-1234 is closed on Monday.",
	"Vitals: BP 128/82, HR 76, temp 98.6 F, weight 172 lb.",
	"Shipment tracking 1Z999AA10123456784 left the warehouse on 3/2/2025.",
	"Kind regards,\nThe Care Coordination Team\nRiverside Family Medicine",
	"Order 4471-220-93 includes 12 boxes of nitrile gloves (size M).",
}

type tally struct{ pos, tp, neg, fp int }

func TestCorpus(t *testing.T) {
	t.Parallel()
	s, err := Compile(corpusRules, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	samples := corpus(rand.New(rand.NewPCG(20240917, 7)))
	byCat := map[Category]*tally{}
	byVariant := map[string]*tally{}
	var all tally
	// A stray is a finding of another category than the sample is about: every sample
	// is a negative for the categories it is not labelled with.
	stray := map[Category]int{}
	for _, smp := range samples {
		fs := s.Scan(smp.in)
		found := false
		for _, f := range fs {
			if f.Category == smp.cat {
				found = true
			} else {
				stray[f.Category]++
			}
		}
		for _, tl := range []*tally{get(byCat, smp.cat), get(byVariant, smp.variant), &all} {
			switch {
			case smp.positive:
				tl.pos++
				tl.tp += b2i(found)
			default:
				tl.neg++
				tl.fp += b2i(found)
			}
		}
		if found != smp.positive {
			t.Logf("wrong: %s positive=%v variant=%s", smp.cat, smp.positive, smp.variant)
		}
	}
	t.Logf("%-8s %5s %5s %7s %5s %5s %7s %6s %7s", "category", "pos", "tp", "recall", "neg", "fp", "fpr", "stray", "stray%")
	for _, c := range Categories() {
		tl := byCat[c]
		recall, fpr := float64(tl.tp)/float64(tl.pos), float64(tl.fp)/float64(tl.neg)
		others := len(samples) - tl.pos - tl.neg
		strayRate := float64(stray[c]) / float64(others)
		t.Logf("%-8s %5d %5d %7.3f %5d %5d %7.3f %6d %7.3f", c, tl.pos, tl.tp, recall, tl.neg, tl.fp, fpr, stray[c], strayRate)
		if recall < 0.95 {
			t.Errorf("%s: recall %.3f below 0.95", c, recall)
		}
		if fpr > 0.02 || strayRate > 0.02 {
			t.Errorf("%s: false-positive rate %.3f (stray %.3f) above 0.02", c, fpr, strayRate)
		}
	}
	for _, v := range variants {
		tl := byVariant[v]
		t.Logf("variant %-7s recall %.3f fpr %.3f", v, float64(tl.tp)/float64(tl.pos), float64(tl.fp)/float64(tl.neg))
	}
	t.Logf("all      %5d %5d %7.3f %5d %5d %7.3f", all.pos, all.tp, float64(all.tp)/float64(all.pos), all.neg, all.fp, float64(all.fp)/float64(all.neg))
	if all.pos < 500 || all.neg < 500 {
		t.Errorf("corpus too small: %d positives, %d negatives", all.pos, all.neg)
	}
}

func get[K comparable](m map[K]*tally, k K) *tally {
	if m[k] == nil {
		m[k] = &tally{}
	}
	return m[k]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
