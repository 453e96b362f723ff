// Package httpsig verifies HTTP Message Signatures (RFC 9421) on requests and the
// Content-Digest field (RFC 9530) they cover. It knows nothing of tenants or storage:
// the caller finds the key by its id and decides what must be covered.
package httpsig

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

// Size caps, checked before the fields are parsed.
const (
	MaxFieldBytes  = 4 << 10
	maxComponents  = 32
	maxNonceBytes  = 128
	maxKeyIDBytes  = 128
	maxLabelsCount = 4
)

// Error is a refusal with a reason safe to show to the signer.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func fail(format string, a ...any) error { return &Error{fmt.Sprintf(format, a...)} }

// Signature is one parsed signature of a request.
type Signature struct {
	Label      string
	Components []string // component identifiers, e.g. "@method", "content-digest"
	Created    time.Time
	Expires    time.Time // zero: none
	Nonce      string
	KeyID      string
	Alg        string
	Tag        string
	Value      []byte
	params     string // the serialized inner list: the @signature-params value
}

// Covers reports whether the signature covers a component.
func (s *Signature) Covers(c string) bool {
	for _, x := range s.Components {
		if x == c {
			return true
		}
	}
	return false
}

// Parse reads the request's Signature-Input and Signature fields (RFC 9421 4.1, 4.2)
// and returns the signature labelled label, or the only one when label is "".
func Parse(h http.Header, label string) (*Signature, error) {
	in, sig := h.Values("Signature-Input"), h.Values("Signature")
	if len(in) == 0 || len(sig) == 0 {
		return nil, fail("the request carries no Signature-Input and Signature fields")
	}
	if size(in) > MaxFieldBytes || size(sig) > MaxFieldBytes {
		return nil, fail("the signature fields are too long")
	}
	inputs, err := httpsfv.UnmarshalDictionary(in)
	if err != nil {
		return nil, fail("Signature-Input is not a structured-field dictionary")
	}
	values, err := httpsfv.UnmarshalDictionary(sig)
	if err != nil {
		return nil, fail("Signature is not a structured-field dictionary")
	}
	names := inputs.Names()
	if len(names) > maxLabelsCount {
		return nil, fail("too many signatures")
	}
	if label == "" {
		if len(names) != 1 {
			return nil, fail("send exactly one signature")
		}
		label = names[0]
	}
	m, ok := inputs.Get(label)
	if !ok {
		return nil, fail("no signature labelled %q", label)
	}
	il, ok := m.(httpsfv.InnerList)
	if !ok {
		return nil, fail("Signature-Input %s is not an inner list", label)
	}
	vm, ok := values.Get(label)
	if !ok {
		return nil, fail("Signature has no value for %s", label)
	}
	vi, ok := vm.(httpsfv.Item)
	if !ok {
		return nil, fail("Signature %s is not a byte sequence", label)
	}
	val, ok := vi.Value.([]byte)
	if !ok {
		return nil, fail("Signature %s is not a byte sequence", label)
	}
	s := &Signature{Label: label, Value: val}
	if len(il.Items) > maxComponents {
		return nil, fail("too many covered components")
	}
	for _, it := range il.Items {
		name, ok := it.Value.(string)
		if !ok || name == "" || name != strings.ToLower(name) {
			return nil, fail("covered components must be lower-case strings")
		}
		if len(it.Params.Names()) > 0 {
			return nil, fail("component parameters (%s;…) are not supported", name)
		}
		if s.Covers(name) {
			return nil, fail("component %s is covered twice", name)
		}
		s.Components = append(s.Components, name)
	}
	for _, p := range il.Params.Names() {
		v, _ := il.Params.Get(p)
		switch p {
		case "created", "expires":
			n, ok := v.(int64)
			if !ok {
				return nil, fail("%s must be an integer", p)
			}
			if p == "created" {
				s.Created = time.Unix(n, 0)
			} else {
				s.Expires = time.Unix(n, 0)
			}
		case "nonce", "keyid", "alg", "tag":
			str, ok := v.(string)
			if !ok {
				return nil, fail("%s must be a string", p)
			}
			switch p {
			case "nonce":
				s.Nonce = str
			case "keyid":
				s.KeyID = str
			case "alg":
				s.Alg = str
			case "tag":
				s.Tag = str
			}
		}
	}
	if len(s.Nonce) > maxNonceBytes || len(s.KeyID) > maxKeyIDBytes {
		return nil, fail("nonce or keyid too long")
	}
	if s.params, err = httpsfv.Marshal(il); err != nil {
		return nil, fail("Signature-Input %s cannot be serialized", label)
	}
	return s, nil
}

func size(v []string) int {
	n := 0
	for _, s := range v {
		n += len(s)
	}
	return n
}

// Base is the signature base (RFC 9421 2.5) of a request for a signature. targetURI is
// the request's absolute URI as the client addressed it.
func Base(r *http.Request, targetURI string, s *Signature) ([]byte, error) {
	var b strings.Builder
	for _, c := range s.Components {
		v, err := component(r, targetURI, c)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fail("component %s has a line break", c)
		}
		fmt.Fprintf(&b, "%q: %s\n", c, v)
	}
	fmt.Fprintf(&b, "\"@signature-params\": %s", s.params)
	return []byte(b.String()), nil
}

// component derives one component's value (RFC 9421 2.1, 2.2).
func component(r *http.Request, targetURI, c string) (string, error) {
	switch c {
	case "@method":
		return r.Method, nil
	case "@target-uri":
		return targetURI, nil
	case "@authority":
		return strings.ToLower(r.Host), nil
	case "@scheme":
		scheme, _, _ := strings.Cut(targetURI, "://")
		return strings.ToLower(scheme), nil
	case "@path":
		p := r.URL.EscapedPath()
		if p == "" {
			p = "/"
		}
		return p, nil
	case "@query":
		return "?" + r.URL.RawQuery, nil
	case "@request-target":
		return r.URL.RequestURI(), nil
	}
	if strings.HasPrefix(c, "@") {
		return "", fail("derived component %s is not supported", c)
	}
	vs := r.Header.Values(c)
	if len(vs) == 0 {
		return "", fail("covered field %s is not in the request", c)
	}
	// RFC 9421 2.1: values trimmed and joined with ", ".
	for i := range vs {
		vs[i] = strings.Trim(vs[i], " \t")
	}
	return strings.Join(vs, ", "), nil
}

// Key verifies a signature over a base.
type Key interface {
	Alg() string
	Verify(base, sig []byte) bool
}

// Ed25519Key is an "ed25519" key (RFC 9421 3.3.6).
type Ed25519Key ed25519.PublicKey

// Alg implements Key.
func (Ed25519Key) Alg() string { return "ed25519" }

// Verify implements Key.
func (k Ed25519Key) Verify(base, sig []byte) bool {
	return len(k) == ed25519.PublicKeySize && ed25519.Verify(ed25519.PublicKey(k), base, sig)
}

// HMACKey is an "hmac-sha256" shared secret (RFC 9421 3.3.3).
type HMACKey []byte

// Alg implements Key.
func (HMACKey) Alg() string { return "hmac-sha256" }

// Verify implements Key, in constant time.
func (k HMACKey) Verify(base, sig []byte) bool {
	m := hmac.New(sha256.New, k)
	m.Write(base)
	return hmac.Equal(m.Sum(nil), sig)
}

// Verify checks a signature with key: the alg parameter, when present, must name the
// key's algorithm (RFC 9421 3.2 step 6).
func Verify(r *http.Request, targetURI string, s *Signature, key Key) error {
	if s.Alg != "" && s.Alg != key.Alg() {
		return fail("alg %q does not match the key", s.Alg)
	}
	base, err := Base(r, targetURI, s)
	if err != nil {
		return err
	}
	if !key.Verify(base, s.Value) {
		return fail("the signature does not verify")
	}
	return nil
}

// CheckDigest verifies a Content-Digest field (RFC 9530 2) against the body: every
// sha-256 and sha-512 member present must match, and at least one must be present.
func CheckDigest(h http.Header, body []byte) error {
	v := h.Values("Content-Digest")
	if len(v) == 0 {
		return fail("the request has a body but no Content-Digest")
	}
	if size(v) > MaxFieldBytes {
		return fail("Content-Digest is too long")
	}
	d, err := httpsfv.UnmarshalDictionary(v)
	if err != nil {
		return fail("Content-Digest is not a structured-field dictionary")
	}
	checked := 0
	for _, alg := range d.Names() {
		m, _ := d.Get(alg)
		it, ok := m.(httpsfv.Item)
		if !ok {
			return fail("Content-Digest %s is not a byte sequence", alg)
		}
		got, ok := it.Value.([]byte)
		if !ok {
			return fail("Content-Digest %s is not a byte sequence", alg)
		}
		var want []byte
		switch alg {
		case "sha-256":
			s := sha256.Sum256(body)
			want = s[:]
		case "sha-512":
			s := sha512.Sum512(body)
			want = s[:]
		default:
			continue // RFC 9530 allows others; we ignore what we do not check
		}
		if !hmac.Equal(got, want) {
			return fail("Content-Digest %s does not match the body", alg)
		}
		checked++
	}
	if checked == 0 {
		return fail("Content-Digest needs a sha-256 or sha-512 member")
	}
	return nil
}

// ErrNoSignature means the request is not signed.
var ErrNoSignature = errors.New("not signed")

// Signed reports whether a request carries a signature.
func Signed(h http.Header) bool { return h.Get("Signature-Input") != "" || h.Get("Signature") != "" }
