// Package dlp finds protected health information in an outgoing message and reports
// only what kind was found, how often and how surely — never the matched text.
//
// # Confidence
//
// Every candidate must first pass its detector's validity rules (check digit, allowed
// number ranges, position rules, a real calendar date, a known card prefix); a candidate
// that fails them is not a finding at any confidence. A valid candidate is then rated:
//
//   - High: valid AND a context term of its category is near it ("SSN", "NPI", "DOB",
//     "diagnosis", "routing" ...). A context term binds to the nearest candidate: it
//     looks back at most 48 bytes across at most one line break, or forward at most 24
//     bytes on the same line, never into another sentence ("SSN: none. Order 123456789")
//     and never past another candidate of the same category.
//   - Medium: valid and written in its canonical form (an SSN as AAA-GG-SSSS, a card in
//     groups of four, an NPI or routing number as one block of digits, an MBI or DEA
//     number as one upper-case token) but with no context term. Words that say it is
//     something else ("phone", "order", "invoice", "tracking" ...), another
//     identifier's label right next to it ("SSN: 666263346" is a wrong SSN, not a
//     routing number) or being inside a link lower this to low. An MRN found only by
//     the tenant's pattern, or only by context, is medium.
//   - Low: valid but neither in canonical form nor near context, e.g. nine bare digits
//     that happen to be a possible SSN. Low candidates are not reported.
//
// Dates of birth and ICD-10-CM codes are only candidates next to their context terms, so
// they are high or absent. Tenant keywords and regular expressions are the tenant's own
// definition of PHI and are reported high.
//
// # What is scanned
//
// The subject and other short fields, the text part, the visible text of the HTML part, and text-like
// attachments (text, CSV and TSV with each cell labelled by its column header, HTML,
// JSON, XML, HL7 ...), also inside zip archives (and documents that are zip archives)
// within Limits. Quoted-printable left in the text, HTML character references,
// look-alike Unicode digits, spaces and dashes, invisible characters and line breaks
// inside numbers are undone first. Base64 and quoted-printable runs inside any of that
// text are decoded and scanned as well when they decode to readable text, two
// encodings deep at most and within Limits.MaxDecodedBytes; what such a run inside a
// link decodes to counts only at high confidence.
//
// # Counting
//
// Count is the number of distinct values of a category across all parts of the message:
// the same SSN in the text and in the HTML alternative counts once. Values are compared
// by a keyed hash that lives only for the duration of one scan.
package dlp

// Category names a kind of PHI.
type Category string

// The categories a scan can report.
const (
	ABA     Category = "aba"     // ABA bank routing number
	Card    Category = "card"    // payment card number
	DEA     Category = "dea"     // DEA registration number
	DOB     Category = "dob"     // date of birth
	ICD10   Category = "icd10"   // ICD-10-CM diagnosis code
	Keyword Category = "keyword" // a tenant keyword
	MBI     Category = "mbi"     // Medicare Beneficiary Identifier
	MRN     Category = "mrn"     // medical record number
	NPI     Category = "npi"     // National Provider Identifier
	Regex   Category = "regex"   // a tenant regular expression
	SSN     Category = "ssn"     // US Social Security number
)

// Categories lists every category a scan can report, sorted, for validating
// configuration that names them.
func Categories() []Category {
	return []Category{ABA, Card, DEA, DOB, ICD10, Keyword, MBI, MRN, NPI, Regex, SSN}
}

// Confidence says how sure a finding is; see the package documentation.
type Confidence string

// Confidence levels, weakest first.
const (
	Low    Confidence = "low"
	Medium Confidence = "medium"
	High   Confidence = "high"
)

// Finding is what a scan says about one category: never the matched text.
type Finding struct {
	Category   Category   `json:"category"`
	Count      int        `json:"count"`
	Confidence Confidence `json:"confidence"` // the highest among the values counted
}

// Report is a scan's full answer.
type Report struct {
	Findings []Finding `json:"findings"` // sorted by category; empty when clean
	// Incomplete is set when part of the message was not inspected because a limit was
	// reached (scan budget, archive depth, entries, size or ratio) or an archive was
	// encrypted or corrupt. A careful policy treats such a message as if it had findings.
	Incomplete bool `json:"incomplete,omitempty"`
}

// Attachment is one decoded attachment: Data is the content after transfer decoding.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Input is the content of one message after MIME decoding. Text may still carry
// quoted-printable soft line breaks; they are undone before scanning.
type Input struct {
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
	// Fields are other short values a caller wrote (tags, a campaign name, header
	// values, file names, display names), each scanned on its own like the subject.
	Fields []string
}

// level is the internal, ordered form of Confidence.
type level uint8

const (
	lvlLow level = iota
	lvlMedium
	lvlHigh
)

func (l level) confidence() Confidence {
	switch l {
	case lvlHigh:
		return High
	case lvlMedium:
		return Medium
	}
	return Low
}

// kind indexes the categories inside the scanner; ctxAnti is the extra slot for terms
// that argue against a number being PHI.
type kind uint8

const (
	kABA kind = iota
	kCard
	kDEA
	kDOB
	kICD
	kKeyword
	kMBI
	kMRN
	kNPI
	kRegex
	kSSN
	nKinds
	ctxAnti = nKinds
)

func (k kind) category() Category {
	return Categories()[k]
}
