package archive

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Fields of the blind index. A term is a keyed hash of field and normalised word, so
// "lab" in a subject and "lab" in a body are different terms.
const (
	fieldFrom       = "from"       // words of the sender's name and address
	fieldFromAddr   = "from-addr"  // the sender's whole address
	fieldTo         = "to"         // words of each recipient's address (and names in To/Cc)
	fieldToAddr     = "to-addr"    // each recipient's whole address
	fieldAddr       = "addr"       // any participant's whole address: what holds name
	fieldSubject    = "subject"    // subject words
	fieldBody       = "body"       // words of the text (or HTML rendered as text)
	fieldAttachment = "attachment" // words of attachment names, and each whole name
	fieldDirection  = "direction"
	fieldTag        = "tag"
	fieldCampaign   = "campaign"
)

// TermSize is the stored length of a term: 128 bits of HMAC-SHA-256.
const TermSize = 16

// Bounds on what one entry adds to the index. Words past them are not indexed (a
// search for them misses that entry); the message itself is archived whole.
const (
	maxWordLen    = 64
	maxEntryTerms = 4096
)

// indexer computes terms under a tenant's index key, reusing one HMAC.
type indexer struct {
	mac  hash.Hash
	seen map[string]struct{}
	out  [][]byte
}

func newIndexer(keys *tenant.Keys) *indexer {
	// A key of its own, derived from the tenant's index key: archive terms cannot be
	// compared with the other keyed hashes the tenant's rows hold.
	return &indexer{mac: hmac.New(sha256.New, keys.Hash("archive/index-key", "v1")), seen: map[string]struct{}{}}
}

func (ix *indexer) term(field, word string) []byte {
	ix.mac.Reset()
	ix.mac.Write([]byte(field))
	ix.mac.Write([]byte{0})
	ix.mac.Write([]byte(word))
	return ix.mac.Sum(nil)[:TermSize]
}

// add indexes one normalised word once.
func (ix *indexer) add(field, word string) {
	if word == "" || len(ix.out) >= maxEntryTerms {
		return
	}
	k := field + "\x00" + word
	if _, ok := ix.seen[k]; ok {
		return
	}
	ix.seen[k] = struct{}{}
	ix.out = append(ix.out, ix.term(field, word))
}

func (ix *indexer) words(field, text string) {
	eachWord(text, func(w string) { ix.add(field, w) })
}

// entryTerms lists every term of one entry. The small, always-searched fields come
// first, so the cap can only cut body words.
func (ix *indexer) entryTerms(m *view.Message, rec *Record, to, attachments []string) [][]byte {
	ix.add(fieldDirection, rec.Direction)
	for _, t := range rec.Tags {
		ix.add(fieldTag, NormalizeLabel(t))
	}
	if rec.Campaign != "" {
		ix.add(fieldCampaign, NormalizeLabel(rec.Campaign))
	}
	ix.words(fieldFrom, m.From)
	for _, a := range addresses(m.From) {
		ix.add(fieldFromAddr, a)
		ix.add(fieldAddr, a)
	}
	ix.words(fieldTo, m.To+" "+m.Cc)
	for _, a := range to {
		ix.words(fieldTo, a)
		ix.add(fieldToAddr, NormalizeAddress(a))
		ix.add(fieldAddr, NormalizeAddress(a))
	}
	ix.words(fieldSubject, m.Subject)
	for _, a := range attachments {
		ix.add(fieldAttachment, NormalizeName(a))
		ix.words(fieldAttachment, a)
	}
	ix.words(fieldBody, m.Text)
	return ix.out
}

// Words splits text into normalised words: lower case, letters and digits only, at
// most maxWordLen bytes each. Search queries go through the same function.
func Words(text string) []string {
	var out []string
	eachWord(text, func(w string) { out = append(out, w) })
	return out
}

// eachWord calls fn with each of text's words, as Words defines them. Every body the
// index job reads passes through here, so it makes no list and copies only words that
// have upper-case letters to lower.
func eachWord(text string, fn func(string)) {
	start := -1 // the current word's first byte, or -1 between words
	for i := 0; i < len(text); {
		c := text[i]
		size, inWord := 1, false
		if c < utf8.RuneSelf {
			inWord = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(text[i:])
			inWord = unicode.IsLetter(r) || unicode.IsDigit(r) // an invalid byte is RuneError: not a letter
		}
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			emitWord(text[start:i], fn)
			start = -1
		}
		i += size
	}
	if start >= 0 {
		emitWord(text[start:], fn)
	}
}

func emitWord(w string, fn func(string)) {
	if len(w) > 4*maxWordLen {
		return // too long however it lowers (no rune lowers to under a third of its bytes); not copied
	}
	w = strings.ToLower(w) // the same string, not a copy, when nothing is upper case
	if len(w) > maxWordLen {
		return
	}
	fn(w)
}

// NormalizeAddress is how an address is indexed and looked up.
func NormalizeAddress(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// NormalizeName is how a whole attachment name is indexed and looked up.
func NormalizeName(n string) string { return strings.ToLower(strings.TrimSpace(n)) }

// NormalizeLabel is how a tag or campaign is indexed and looked up.
func NormalizeLabel(l string) string { return strings.TrimSpace(l) }

var addrPattern = regexp.MustCompile(`[^\s<>",;()]+@[^\s<>",;()]+`)

// addresses finds the addresses in a decoded address header.
func addresses(s string) []string {
	var out []string
	for _, a := range addrPattern.FindAllString(s, -1) {
		out = append(out, NormalizeAddress(a))
	}
	return out
}
