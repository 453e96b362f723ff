package message

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message"
)

// WriteOptions adjusts WriteWithOptions.
type WriteOptions struct {
	// BoundarySeed, when non-nil, derives the multipart boundaries from the
	// seed rather than from random bytes, so that a Draft with Date and
	// MessageID set always produces the same bytes.
	BoundarySeed []byte
}

type field struct{ name, value string }

// node is one entity of the MIME tree: a leaf with a body, or a multipart
// with children.
type node struct {
	fields   []field // leaf header
	body     []byte
	subtype  string // multipart subtype; "" for a leaf
	children []*node
}

// Write validates d and streams it as an RFC 5322 message with CRLF line
// endings. Size limits are the caller's business (use Validate); the rules
// that keep the output well-formed are always enforced, and a draft breaking
// them yields an *InvalidDraftError.
func Write(w io.Writer, d *Draft) error {
	return WriteWithOptions(w, d, WriteOptions{})
}

// WriteWithOptions is Write with options.
func WriteWithOptions(w io.Writer, d *Draft, o WriteOptions) error {
	if errs := d.Validate(noSizeLimits()); len(errs) > 0 {
		return &InvalidDraftError{Errors: errs}
	}
	root, err := d.tree()
	if err != nil {
		return err
	}
	seed := o.BoundarySeed
	if seed == nil {
		seed = make([]byte, 32)
		if _, err := rand.Read(seed); err != nil {
			return err
		}
	}
	b := &boundaries{seed: seed}
	fields := d.originFields()
	fields = append(fields, b.contentFields(root)...)
	fields = append(fields, d.customFields()...)
	mw, err := message.CreateWriter(w, headerOf(fields))
	if err != nil {
		return err
	}
	if err := b.writeBody(mw, root); err != nil {
		return err
	}
	return mw.Close()
}

// headerOf builds a header whose fields are written in the order given;
// go-message writes the most recently added field first.
func headerOf(fields []field) message.Header {
	var h message.Header
	for i := len(fields) - 1; i >= 0; i-- {
		h.Add(fields[i].name, fields[i].value)
	}
	return h
}

// originFields returns the fields of RFC 5322 §3.6 that Write owns. Bcc is
// deliberately absent: RFC 5322 §3.6.3 lets it be omitted, and writing it
// would disclose blind recipients to everyone.
func (d *Draft) originFields() []field {
	date := d.Date
	if date.IsZero() {
		date = time.Now()
	}
	fields := []field{
		{"Date", date.Format(time.RFC1123Z)}, // RFC 5322 §3.3 date-time
		{"From", d.From.String()},
	}
	for _, list := range []struct {
		name  string
		addrs []Address
	}{{"Reply-To", d.ReplyTo}, {"To", d.To}, {"Cc", d.Cc}} {
		if len(list.addrs) == 0 {
			continue
		}
		parts := make([]string, len(list.addrs))
		for i, a := range list.addrs {
			parts[i] = a.String()
		}
		fields = append(fields, field{list.name, strings.Join(parts, ", ")}) // RFC 5322 §3.4 address-list
	}
	if d.Subject != "" {
		subject, _ := canonicalText(d.Subject)
		fields = append(fields, field{"Subject", encodeText(subject)})
	}
	id := d.MessageID
	if id == "" {
		// RFC 5322 §3.6.4: unique left part, the sender's domain on the
		// right.
		id = strings.ToLower(rand.Text()) + "@" + d.From.normalizedDomain()
	}
	fields = append(fields, field{"Message-Id", "<" + id + ">"})
	return append(fields, field{"MIME-Version", "1.0"}) // RFC 2045 §4
}

func (a Address) normalizedDomain() string {
	addr, _ := normalizeAddrSpec(a.Addr)
	return Address{Addr: addr}.Domain()
}

// customFields renders the caller's headers. ASCII values go out as given,
// because the field may be structured (List-Unsubscribe, References) and
// encoded-words are only valid in unstructured text (RFC 2047 §5); anything
// else is encoded.
func (d *Draft) customFields() []field {
	fields := make([]field, 0, len(d.Headers))
	for _, h := range d.Headers {
		value, _ := canonicalText(h.Value)
		value = strings.Trim(value, " \t") // readers drop surrounding whitespace
		if !isASCII(value) {
			value = encodeWords(value)
		}
		fields = append(fields, field{h.Name, value})
	}
	return fields
}

// tree lays out the MIME structure: multipart/alternative for text plus
// HTML (RFC 2046 §5.1.4), multipart/related for HTML with the inline parts
// it references (RFC 2387), multipart/mixed around that for attachments
// (RFC 2046 §5.1.3).
func (d *Draft) tree() (*node, error) {
	var related, mixed []*node
	for _, a := range d.Attachments {
		fields, err := attachmentFields(a)
		if err != nil {
			return nil, err
		}
		n := &node{fields: fields, body: a.Content}
		if d.HTML != "" && a.Inline && a.ContentID != "" {
			related = append(related, n)
		} else {
			mixed = append(mixed, n)
		}
	}
	var text, html *node
	if d.Text != "" {
		text = &node{fields: textFields("text/plain"), body: crlf(d.Text)}
	}
	if d.HTML != "" {
		html = &node{fields: textFields("text/html"), body: crlf(d.HTML)}
		if len(related) > 0 {
			html = &node{subtype: "related", children: append([]*node{html}, related...)}
		}
	}
	var body *node
	switch {
	case text != nil && html != nil:
		// RFC 2046 §5.1.4: richest last.
		body = &node{subtype: "alternative", children: []*node{text, html}}
	case text != nil:
		body = text
	default:
		body = html
	}
	if len(mixed) == 0 {
		return body, nil
	}
	if body != nil {
		mixed = append([]*node{body}, mixed...)
	}
	return &node{subtype: "mixed", children: mixed}, nil
}

// crlf normalises line endings: RFC 5322 §2.3 and RFC 2045 §2.10 allow CR
// and LF only together, and bodies from the API may use either alone.
func crlf(s string) []byte {
	b := make([]byte, 0, len(s)+len(s)/16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b = append(b, '\r', '\n')
		case '\n':
			b = append(b, '\r', '\n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// boundaries hands out multipart boundaries in tree order.
type boundaries struct {
	seed []byte
	n    uint64
}

// next returns a boundary starting with "=_". Neither quoted-printable
// (which encodes every "=", RFC 2045 §6.7) nor base64 (no "_") can produce
// that, so no body line can match a delimiter (RFC 2046 §5.1.1) even when
// the seed is known.
func (b *boundaries) next() string {
	h := sha256.New()
	h.Write(b.seed)
	h.Write(binary.BigEndian.AppendUint64(nil, b.n))
	b.n++
	return "=_" + hex.EncodeToString(h.Sum(nil)[:20])
}

func (b *boundaries) contentFields(n *node) []field {
	if n.subtype == "" {
		return n.fields
	}
	params := map[string]string{"boundary": b.next()}
	if n.subtype == "related" {
		params["type"] = "text/html" // RFC 2387 §3.1: type is required
	}
	return []field{{"Content-Type", mime.FormatMediaType("multipart/"+n.subtype, params)}}
}

func (b *boundaries) writeBody(w *message.Writer, n *node) error {
	if n.subtype == "" {
		_, err := w.Write(n.body)
		return err
	}
	for _, c := range n.children {
		pw, err := w.CreatePart(headerOf(b.contentFields(c)))
		if err != nil {
			return err
		}
		if err := b.writeBody(pw, c); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	return nil
}
