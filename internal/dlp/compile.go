package dlp

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Rules are a tenant's own detectors, added to the built-in ones.
type Rules struct {
	// MRNPatterns are RE2 expressions for the tenant's medical record numbers. A match
	// counts only when it is not part of a longer word or number.
	MRNPatterns []string `json:"mrn_patterns,omitempty"`
	// Keywords match case-insensitively as whole words; spaces inside a keyword match any
	// run of white space, so a keyword wrapped across lines still matches.
	Keywords []string `json:"keywords,omitempty"`
	// Regexps are RE2 expressions reported as category "regex".
	Regexps []string `json:"regexps,omitempty"`
}

// Bounds on tenant rules, so a policy document cannot make every scan slow.
const (
	maxPatterns   = 100
	maxPatternLen = 1000
	maxKeywords   = 1000
	maxKeywordLen = 200
)

// Limits bound the work of one scan. Zero fields take the defaults shown.
type Limits struct {
	MaxScanBytes  int64 // text scanned per message, all parts together (16 MiB)
	MaxZipDepth   int   // archive nesting opened: 1 opens a zip but no zip inside it (3)
	MaxZipEntries int   // archive entries per message, all archives together (1000)
	MaxZipRatio   int   // uncompressed/compressed size of one entry (100)
	MaxZipTotal   int64 // uncompressed bytes per message, all archives together (64 MiB)
	// MaxDecodedBytes bounds the text decoded from base64 and quoted-printable runs
	// inside text, per message (1 MiB).
	MaxDecodedBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxScanBytes == 0 {
		l.MaxScanBytes = 16 << 20
	}
	if l.MaxZipDepth == 0 {
		l.MaxZipDepth = 3
	}
	if l.MaxZipEntries == 0 {
		l.MaxZipEntries = 1000
	}
	if l.MaxZipRatio == 0 {
		l.MaxZipRatio = 100
	}
	if l.MaxZipTotal == 0 {
		l.MaxZipTotal = 64 << 20
	}
	if l.MaxDecodedBytes == 0 {
		l.MaxDecodedBytes = 1 << 20
	}
	return l
}

// Scanner holds compiled rules. It is immutable and safe for concurrent use.
type Scanner struct {
	limits   Limits
	mrn      []*regexp.Regexp
	words    termTable      // keywords made of ASCII letters and digits, matched on tokens
	keywords *regexp.Regexp // the other keywords; nil without any
	regexps  []*regexp.Regexp
	terms    termTable
}

// Compile validates a tenant's rules and limits and builds a Scanner. An error names the
// offending entry, e.g. "regexps[2]: ...".
func Compile(r Rules, l Limits) (*Scanner, error) {
	if l.MaxScanBytes < 0 || l.MaxZipDepth < 0 || l.MaxZipEntries < 0 || l.MaxZipRatio < 0 || l.MaxZipTotal < 0 || l.MaxDecodedBytes < 0 {
		return nil, errors.New("limits: must not be negative")
	}
	s := &Scanner{limits: l.withDefaults(), terms: newTermTable()}
	var err error
	if s.mrn, err = compileAll("mrn_patterns", r.MRNPatterns); err != nil {
		return nil, err
	}
	if s.regexps, err = compileAll("regexps", r.Regexps); err != nil {
		return nil, err
	}
	if s.words, s.keywords, err = compileKeywords(r.Keywords); err != nil {
		return nil, err
	}
	return s, nil
}

func compileAll(field string, patterns []string) ([]*regexp.Regexp, error) {
	if len(patterns) > maxPatterns {
		return nil, fmt.Errorf("%s: at most %d patterns", field, maxPatterns)
	}
	out := make([]*regexp.Regexp, 0, len(patterns))
	for i, p := range patterns {
		if len(p) > maxPatternLen {
			return nil, fmt.Errorf("%s[%d]: longer than %d characters", field, i, maxPatternLen)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		// A pattern that matches nothing at all would match between every two characters.
		if re.MatchString("") {
			return nil, fmt.Errorf("%s[%d]: matches the empty string", field, i)
		}
		out = append(out, re)
	}
	return out, nil
}

// compileKeywords splits keywords in two: those of plain words, matched on the
// scanner's tokens (fast), and the rest (punctuation, non-ASCII letters), compiled into
// one case-insensitive alternation, longest first so that "hepatitis c" wins over
// "hepatitis" at the same position.
func compileKeywords(keywords []string) (termTable, *regexp.Regexp, error) {
	if len(keywords) > maxKeywords {
		return nil, nil, fmt.Errorf("keywords: at most %d keywords", maxKeywords)
	}
	words := termTable{}
	seen := map[string]bool{}
	var alts []string
	for i, k := range keywords {
		fields := strings.Fields(strings.ToLower(k))
		if len(fields) == 0 {
			return nil, nil, fmt.Errorf("keywords[%d]: empty", i)
		}
		if len(k) > maxKeywordLen {
			return nil, nil, fmt.Errorf("keywords[%d]: longer than %d characters", i, maxKeywordLen)
		}
		key := strings.Join(fields, " ")
		if seen[key] {
			continue
		}
		seen[key] = true
		if plainWords(fields) {
			words[fields[0]] = append(words[fields[0]], phrase{rest: fields[1:]})
			continue
		}
		for j, w := range fields {
			fields[j] = regexp.QuoteMeta(w)
		}
		alts = append(alts, strings.Join(fields, `\s+`))
	}
	if len(alts) == 0 {
		return words, nil, nil
	}
	slices.SortStableFunc(alts, func(a, b string) int { return len(b) - len(a) })
	re, err := regexp.Compile(`(?i)(?:` + strings.Join(alts, "|") + `)`)
	return words, re, err
}

func plainWords(words []string) bool {
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			if !isAlnum(w[i]) {
				return false
			}
		}
	}
	return true
}

// termTable maps the first word of each context term to the terms starting with it.
type termTable map[string][]phrase

// phrase is a context term after its first word.
type phrase struct {
	rest  []string
	kinds uint16 // bit k set: a context term for kind k (or ctxAnti)
}

// contextTerms lists, per kind, the words people write next to such a value. Terms are
// lower case; words are matched whole, so "born" does not match "firstborn".
func contextTerms() map[kind][]string {
	return map[kind][]string{
		kSSN: {"ssn", "ssns", "s s n", "social security", "soc sec", "social sec"},
		kMBI: {"mbi", "medicare", "beneficiary", "hicn"},
		kNPI: {"npi", "national provider"},
		kDEA: {"dea", "drug enforcement", "prescriber"},
		kMRN: {"mrn", "medical record", "med rec", "medrec", "chart number", "chart no",
			"chart id", "patient id", "pt id", "patient number", "patient no", "hospital number"},
		kDOB: {"dob", "d o b", "date of birth", "birth date", "birthdate", "born", "birthday"},
		kICD: {"diagnosis", "diagnoses", "diagnosed", "dx", "ddx", "icd", "icd10", "icd 10",
			"condition", "conditions", "problem list", "assessment"},
		kCard: {"card", "cards", "credit", "debit", "visa", "mastercard", "amex",
			"american express", "cardholder", "cc", "cvv"},
		kABA: {"routing", "aba", "rtn", "ach", "transit"},
		// Words that say a number is something else; they only lower a number's
		// confidence when no context term of its own category is near.
		ctxAnti: {"phone", "tel", "telephone", "fax", "cell", "mobile", "call", "order",
			"invoice", "tracking", "confirmation", "ticket", "ref", "reference", "po", "sku",
			"serial", "part", "isbn", "zip", "postal", "ext", "extension", "room", "suite"},
	}
}

func newTermTable() termTable {
	t := termTable{}
	for k, terms := range contextTerms() {
		for _, term := range terms {
			words := strings.FieldsFunc(term, func(r rune) bool { return r > 0x7f || !isAlnum(byte(r)) }) // #nosec G115 -- byte(r) only once r <= 0x7f
			first, rest := words[0], words[1:]
			i := -1
			for j, p := range t[first] {
				if strings.Join(p.rest, " ") == strings.Join(rest, " ") {
					i = j
				}
			}
			if i < 0 {
				t[first] = append(t[first], phrase{rest: rest})
				i = len(t[first]) - 1
			}
			t[first][i].kinds |= 1 << k
		}
	}
	return t
}
