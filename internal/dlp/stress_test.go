package dlp

import (
	"cmp"
	"html"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzScan feeds arbitrary text, HTML and attachment bytes through every detector and
// reader. A scan must not panic, and its report must keep its shape.
func FuzzScan(f *testing.F) {
	f.Add("SSN 123-45-6789", "<p>DOB: 03/04/1975</p>", []byte("Name,SSN\nAna,123-45-6789\n"), "a.csv")
	f.Add("Dx: E11.9; I10", "<b>&#49;23</b>-45-6789<script>x</script>", zipFile(map[string][]byte{"n.txt": []byte("NPI 1234567893")}), "z.zip")
	f.Add("Card 4111 1111\n1111 1111 =\r\n", "<table><tr><td>MBI</td><td>1EG4-TE5-MK73", []byte{0xff, 0xfe, 'S', 0, 'S', 0}, "u.txt")
	f.Add("MRN: HX12345678 DEA AB1234563 routing 021000021 born March 3, 1975", "&", []byte("PK\x05\x06"), "")
	s, err := Compile(Rules{MRNPatterns: []string{`HX\d{8}`}, Keywords: []string{"HIV", "hepatitis C"}, Regexps: []string{`CLM-\d+`}},
		Limits{MaxScanBytes: 1 << 20, MaxZipTotal: 1 << 20, MaxZipEntries: 50})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, htmlPart string, data []byte, name string) {
		in := Input{Subject: text, Text: text, HTML: htmlPart, Attachments: []Attachment{{name, "", data}, {name, "text/csv", data}}}
		r := s.ScanReport(in)
		if !slices.IsSortedFunc(r.Findings, func(a, b Finding) int { return cmp.Compare(a.Category, b.Category) }) {
			t.Errorf("findings not sorted: %+v", r.Findings)
		}
		for _, fd := range r.Findings {
			if fd.Count < 1 || (fd.Confidence != Medium && fd.Confidence != High) {
				t.Errorf("bad finding %+v", fd)
			}
		}
	})
}

// A hostile message must cost time linear in its length: one 64 KiB chunk full of
// context terms, digit runs, dates or encoded runs must take about as long as sixteen 4 KiB messages
// of the same text. A detector that searches overlapping windows again and again would
// be some 16 times slower on the long one.
func TestHostileInputIsLinear(t *testing.T) {
	s := mustCompile(t, Rules{Keywords: []string{"hiv", "hepatitis c"}}, Limits{})
	units := []string{
		"born 1/2/3 ", "DOB 03/04/1975 ", "dx E11.9 ", "Dx: pending I10; ", "MRN 1234567 ",
		"1 2 3 4 5 6 7 8 9 0 ", "1-2-3-4-5-6-7-8-9-", "SSN 123-45-6789 ", "4111 1111 1111 1111 ",
		"1EG4 TE5 MK73 ", "hepatitis hepatitis c ", "the patient was seen today ",
		"data: U1NOIDUzNi0yMi0xMjM0 ", "=53=53=4E=20=35=33=36=2D=32=32=2D=31=32=33=34 ",
	}
	for _, u := range units {
		long := strings.Repeat(u, (64<<10)/len(u))
		short := long[:len(long)/16]
		start := time.Now()
		for range 16 {
			s.Scan(Input{Text: short, HTML: "<p>" + short})
		}
		shortTime := time.Since(start)
		start = time.Now()
		s.Scan(Input{Text: long, HTML: "<p>" + long})
		longTime := time.Since(start)
		t.Logf("%-24q 16x4 KiB %8v  64 KiB %8v", u, shortTime, longTime)
		if longTime > 4*shortTime+20*time.Millisecond {
			t.Errorf("%q: 64 KiB took %v, sixteen 4 KiB %v: not linear", u, longTime, shortTime)
		}
	}
}

// clinicalLetter is a referral letter of about 10 KiB: mostly prose with doses, vitals,
// phone numbers and visit dates, and a few identifiers as such letters carry.
func clinicalLetter() (text, htmlPart string) {
	paras := []string{
		"Dear Dr. Okafor,\n\nThank you for seeing Ms. Jane Doe (DOB: 03/04/1975, MRN: 00451237) in consultation for " +
			"poorly controlled type 2 diabetes with early chronic kidney disease.",
		"History of present illness: The patient is a 49-year-old woman with a 12-year history of type 2 diabetes, " +
			"hypertension and hyperlipidemia. Her HbA1c has risen from 7.4% in March to 9.1% on 10/02/2024 despite " +
			"adherence to metformin 1000 mg twice daily and glipizide 10 mg daily. She reports polyuria and nocturia " +
			"two to three times nightly, and a 4 kg weight loss over three months.",
		"Past medical history: hypertension since 2015; hyperlipidemia; obstructive sleep apnea on CPAP; " +
			"cholecystectomy in 2009. Diagnoses: E11.65, I10, E78.5, N18.3.",
		"Medications: metformin 1000 mg PO BID; glipizide 10 mg PO daily; lisinopril 20 mg PO daily; atorvastatin " +
			"40 mg PO nightly; aspirin 81 mg PO daily. No known drug allergies.",
		"Examination: BP 146/88 mmHg, HR 82, temp 36.8 C, SpO2 97% on room air, weight 88.4 kg, BMI 33.1. " +
			"Monofilament sensation reduced at both great toes; pedal pulses palpable. No retinopathy on the last " +
			"dilated exam in June.",
		"Laboratory results from 10/02/2024: sodium 139, potassium 4.6, creatinine 1.31 mg/dL, eGFR 52 mL/min/1.73m2, " +
			"urine albumin-to-creatinine ratio 142 mg/g, LDL 96 mg/dL, triglycerides 210 mg/dL, TSH 2.1.",
		"Assessment and plan: We would appreciate your advice on adding an SGLT2 inhibitor or a GLP-1 receptor " +
			"agonist given her albuminuria and eGFR. We have reduced glipizide to 5 mg daily to lower the risk of " +
			"hypoglycemia and arranged a dietitian visit on 11/14/2024 at 2:30 PM.",
		"Social history: She works as a school administrator, walks 20 minutes three times a week, does not smoke " +
			"and drinks alcohol rarely. She lives with her husband and two teenage children.",
		"Please contact our office at (555) 014-2368 or fax 555-014-2399 with your recommendations. The referral " +
			"was authorized under plan reference 4471-220-93; insurance details are on file with your front desk.",
		"Sincerely,\n\nPriya Nair, MD\nInternal Medicine, Riverside Family Medicine\n1450 Oak Street, Springfield, IL 62704-1234",
	}
	var t, h strings.Builder
	h.WriteString(`<html><head><style>p{font-family:Arial;color:#333333;margin:0 0 12px}</style></head><body>`)
	for t.Len() < 10<<10 {
		for _, p := range paras {
			t.WriteString(p)
			t.WriteString("\n\n")
			h.WriteString("<p>")
			h.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>"))
			h.WriteString("</p>\n")
		}
	}
	h.WriteString("</body></html>")
	return t.String(), h.String()
}

// BenchmarkScan10KiB is the per-message cost: a 10 KiB letter as text and as HTML.
func BenchmarkScan10KiB(b *testing.B) {
	s := mustCompile(b, Rules{MRNPatterns: []string{`HX\d{8}`}, Keywords: []string{"HIV", "hepatitis C", "methadone"}}, Limits{})
	text, htmlPart := clinicalLetter()
	in := Input{Subject: "Referral: endocrinology consult", Text: text, HTML: htmlPart}
	if fs := s.Scan(in); len(fs) != 3 {
		b.Fatalf("findings %+v, want dob, icd10 and mrn", fs)
	}
	b.SetBytes(int64(len(text) + len(htmlPart)))
	b.ReportAllocs()
	for b.Loop() {
		s.Scan(in)
	}
}
