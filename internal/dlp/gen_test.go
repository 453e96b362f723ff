package dlp

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Generators of valid and deliberately invalid identifiers for the tests. Check digits
// are computed here from the published algorithms, independently of the scanner.

func randDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// luhnDigit returns the check digit that makes payload+digit Luhn-valid.
func luhnDigit(payload string) byte {
	sum := 0
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if (len(payload)-1-i)%2 == 0 { // doubled: the check digit will be to its right
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// wrongDigit returns a digit different from c.
func wrongDigit(r *rand.Rand, c byte) byte {
	return byte('0' + (int(c-'0')+1+r.IntN(9))%10)
}

func genSSN(r *rand.Rand) string {
	for {
		area := 1 + r.IntN(899)
		if area == 666 {
			continue
		}
		s := fmt.Sprintf("%03d%02d%04d", area, 1+r.IntN(99), 1+r.IntN(9999))
		if s != "078051120" && s != "219099999" {
			return s
		}
	}
}

func genBadSSN(r *rand.Rand) string {
	s := []byte(genSSN(r))
	switch r.IntN(6) {
	case 0:
		copy(s, "000")
	case 1:
		copy(s, "666")
	case 2:
		copy(s, fmt.Sprintf("9%02d", r.IntN(100)))
	case 3:
		copy(s[3:], "00")
	case 4:
		copy(s[5:], "0000")
	default:
		return []string{"078051120", "219099999"}[r.IntN(2)]
	}
	return string(s)
}

func genNPI(r *rand.Rand) string {
	p := string(rune('1'+r.IntN(2))) + randDigits(r, 8)
	return p + string(luhnDigit("80840"+p))
}

func genBadNPI(r *rand.Rand) string {
	n := []byte(genNPI(r))
	n[9] = wrongDigit(r, n[9])
	return string(n)
}

func abaDigit(p string) byte {
	w := [3]int{3, 7, 1}
	sum := 0
	for i := range 8 {
		sum += w[i%3] * int(p[i]-'0')
	}
	return byte('0' + (10-sum%10)%10)
}

func genABA(r *rand.Rand) string {
	prefixes := []int{r.IntN(13), 21 + r.IntN(12), 61 + r.IntN(12), 80}
	p := fmt.Sprintf("%02d", prefixes[r.IntN(4)]) + randDigits(r, 6)
	return p + string(abaDigit(p))
}

func genBadABA(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		a := []byte(genABA(r))
		a[8] = wrongDigit(r, a[8])
		return string(a)
	}
	// A good checksum behind a routing symbol the Federal Reserve does not use.
	bad := []int{13 + r.IntN(8), 33 + r.IntN(28), 73 + r.IntN(7), 81 + r.IntN(19)}
	p := fmt.Sprintf("%02d", bad[r.IntN(4)]) + randDigits(r, 6)
	return p + string(abaDigit(p))
}

const deaFirst = "ABCDEFGHJKLMPRSTUX"

func deaDigit(d string) byte {
	n := func(i int) int { return int(d[i] - '0') }
	return byte('0' + (n(0)+n(2)+n(4)+2*(n(1)+n(3)+n(5)))%10)
}

func genDEA(r *rand.Rand) string {
	d := randDigits(r, 6)
	return string(deaFirst[r.IntN(len(deaFirst))]) + string(rune('A'+r.IntN(26))) + d + string(deaDigit(d))
}

func genBadDEA(r *rand.Rand) string {
	v := []byte(genDEA(r))
	if r.IntN(2) == 0 {
		v[8] = wrongDigit(r, v[8])
	} else {
		v[0] = "INOQVWYZ"[r.IntN(8)]
	}
	return string(v)
}

const mbiLetters = "ACDEFGHJKMNPQRTUVWXY"

func genMBI(r *rand.Rand) string {
	l := func() byte { return mbiLetters[r.IntN(len(mbiLetters))] }
	d := func() byte { return byte('0' + r.IntN(10)) }
	an := func() byte {
		if r.IntN(2) == 0 {
			return d()
		}
		return l()
	}
	return string([]byte{byte('1' + r.IntN(9)), l(), an(), d(), l(), an(), d(), l(), l(), d(), d()})
}

// genBadMBI breaks one position rule of a valid MBI.
func genBadMBI(r *rand.Rand) string {
	v := []byte(genMBI(r))
	switch r.IntN(4) {
	case 0:
		v[0] = '0'
	case 1:
		v[[]int{1, 4, 7, 8}[r.IntN(4)]] = "SLOIBZ"[r.IntN(6)]
	case 2:
		v[[]int{3, 6, 9, 10}[r.IntN(4)]] = mbiLetters[r.IntN(len(mbiLetters))]
	default:
		v[[]int{1, 4, 7, 8}[r.IntN(4)]] = byte('0' + r.IntN(10))
	}
	return string(v)
}

// genCard returns a Luhn-valid number of a known network with its printed grouping.
func genCard(r *rand.Rand) (digits string, groups []int) {
	type brand struct {
		prefix string
		n      int
		groups []int
	}
	brands := []brand{
		{"4", 16, []int{4, 4, 4, 4}}, {"5" + string(rune('1'+r.IntN(5))), 16, []int{4, 4, 4, 4}},
		{fmt.Sprint(2221 + r.IntN(500)), 16, []int{4, 4, 4, 4}}, {"3" + string("47"[r.IntN(2)]), 15, []int{4, 6, 5}},
		{"6011", 16, []int{4, 4, 4, 4}}, {"65", 16, []int{4, 4, 4, 4}}, {fmt.Sprint(3528 + r.IntN(62)), 16, []int{4, 4, 4, 4}},
		{"36", 14, []int{4, 6, 4}}, {"4", 13, []int{4, 4, 4, 1}},
	}
	b := brands[r.IntN(len(brands))]
	p := b.prefix + randDigits(r, b.n-1-len(b.prefix))
	return p + string(luhnDigit(p)), b.groups
}

func genBadCard(r *rand.Rand) (string, []int) {
	d, g := genCard(r)
	v := []byte(d)
	if r.IntN(2) == 0 {
		v[len(v)-1] = wrongDigit(r, v[len(v)-1])
		return string(v), g
	}
	// Luhn-valid, but no card network issues numbers starting 1, 7, 8 or 9.
	p := string("1789"[r.IntN(4)]) + randDigits(r, 14)
	return p + string(luhnDigit(p)), []int{4, 4, 4, 4}
}

// group joins digits in groups of the given sizes with sep.
func group(d string, sizes []int, sep string) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, d[:n])
		d = d[n:]
	}
	return strings.Join(parts, sep)
}

// icdCodes are real ICD-10-CM codes from several chapters.
var icdCodes = []string{"E11.9", "I10", "Z79.4", "J45.909", "F32.A", "M54.5", "K21.9", "N18.3",
	"C50.911", "S72.001A", "T36.0X1A", "O9A.111", "Z3A.20", "U07.1", "G43.909", "R51.9",
	"E78.5", "F41.1", "J18.9", "L40.0", "H40.11X0", "A41.9", "D64.9", "Q90.9", "P07.30", "M1A.0710"}

// badICD are ICD-shaped codes that are not ICD-10-CM: the unused U chapter, categories
// past a chapter's end, a letter where the CM has none, ICD-9 numbers.
var badICD = []string{"U12.3", "U07.5", "E95.1", "K99.0", "T99", "H97.2", "P98", "A4B.1", "250.00", "401.9", "U99"}

// neutral puts a value in a sentence with no context term of any kind: look-alikes
// here are flagged whenever their check digit happens to pass.
func neutral(r *rand.Rand, v, label string) item {
	return item{pick(r, "Item {v} ships Monday.", "Use code {v} at the front desk.", "Batch {v} was approved."), v, label}
}

// TestLookalikes measures how often random strings of an identifier's shape, in a
// sentence with no context at all, are reported: the rate at which a check digit
// passes by chance. It cannot be zero for a structure-only detector; the bounds catch a
// validation that has gone loose.
func TestLookalikes(t *testing.T) {
	t.Parallel()
	s, err := Compile(Rules{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	upper := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + r.IntN(26))
		}
		return string(b)
	}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	cases := []struct {
		cat      Category
		shape    string
		gen      func() string
		expected float64 // chance that the structure holds
	}{
		{SSN, "9 digits", func() string { return randDigits(r, 9) }, 0},
		{NPI, "10 digits from 1 or 2", func() string { return string(rune('1'+r.IntN(2))) + randDigits(r, 9) }, 0.10},
		{ABA, "9 digits", func() string { return randDigits(r, 9) }, 0.038},
		{Card, "16 digits from 4", func() string { return "4" + randDigits(r, 15) }, 0.10},
		{DEA, "2 letters 7 digits", func() string { return upper(2) + randDigits(r, 7) }, 0.069},
		{MBI, "11 upper-case alnum", func() string {
			b := make([]byte, 11)
			for i := range b {
				b[i] = alnum[r.IntN(len(alnum))]
			}
			return string(b)
		}, 0.002},
	}
	const n = 3000
	for _, c := range cases {
		hits := 0
		for range n {
			in := Input{Text: neutral(r, c.gen(), "").sentence()}
			if slices.ContainsFunc(s.Scan(in), func(f Finding) bool { return f.Category == c.cat }) {
				hits++
			}
		}
		rate := float64(hits) / n
		t.Logf("look-alike %-5s %-22s reported %.3f (structure holds by chance %.3f)", c.cat, c.shape, rate, c.expected)
		if rate > c.expected*1.5+0.002 {
			t.Errorf("%s: %.3f of random look-alikes reported, expected about %.3f", c.cat, rate, c.expected)
		}
	}
}
