// Package webhook pushes a tenant's events to the endpoints it registers: signed as the
// Standard Webhooks specification describes, retried on its schedule, and sent only to
// addresses an SSRF-safe dialer allows.
package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix marks a symmetric signing secret, as the specification's libraries expect.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh symmetric secret: 32 random bytes, base64, with the prefix.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret returns a secret's key bytes.
func ParseSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil || len(b) < 24 || len(b) > 64 {
		return nil, errors.New("a signing secret is whsec_ followed by 24 to 64 bytes in base64")
	}
	return b, nil
}

// Signer holds the keys one delivery is signed with: during a rotation's overlap the old
// and the new secret both sign, so receivers holding either verify.
type Signer struct {
	Secrets [][]byte             // v1: HMAC-SHA256
	Keys    []ed25519.PrivateKey // v1a: Ed25519
}

// content is what every signature covers: "id.timestamp.body", the body byte for byte.
func content(id string, ts time.Time, body []byte) []byte {
	t := strconv.FormatInt(ts.Unix(), 10)
	b := make([]byte, 0, len(id)+len(t)+len(body)+2)
	b = append(b, id...)
	b = append(b, '.')
	b = append(b, t...)
	b = append(b, '.')
	return append(b, body...)
}

// Sign returns the webhook-signature header value: space-separated "v1,<base64>" and
// "v1a,<base64>" entries, one per key.
func (s Signer) Sign(id string, ts time.Time, body []byte) string {
	c := content(id, ts, body)
	var parts []string
	for _, k := range s.Secrets {
		m := hmac.New(sha256.New, k)
		m.Write(c)
		parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	for _, k := range s.Keys {
		parts = append(parts, "v1a,"+base64.StdEncoding.EncodeToString(ed25519.Sign(k, c)))
	}
	return strings.Join(parts, " ")
}

// Headers returns the three headers a delivery carries.
func (s Signer) Headers(id string, ts time.Time, body []byte) map[string]string {
	return map[string]string{
		"webhook-id":        id,
		"webhook-timestamp": strconv.FormatInt(ts.Unix(), 10),
		"webhook-signature": s.Sign(id, ts, body),
	}
}

// Tolerance is how far a timestamp may be from the verifier's clock.
const Tolerance = 5 * time.Minute

// ErrSignature is returned by Verify when no signature matches.
var ErrSignature = errors.New("no matching signature")

// Verify checks a delivery as a receiver would: the timestamp is within Tolerance of now
// and at least one signature in header matches one of secrets (v1) or public keys (v1a).
// It serves `sealpost webhook test` and the tests; receivers use their own library.
func Verify(id, timestamp, header string, body []byte, now time.Time, secrets [][]byte, pubs []ed25519.PublicKey) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not a number", timestamp)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("webhook-timestamp is %s away from now", d.Round(time.Second))
	}
	c := content(id, ts, body)
	for _, part := range strings.Fields(header) {
		version, sig64, ok := strings.Cut(part, ",")
		if !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(sig64)
		if err != nil {
			continue
		}
		switch version {
		case "v1":
			for _, k := range secrets {
				m := hmac.New(sha256.New, k)
				m.Write(c)
				if subtle.ConstantTimeCompare(m.Sum(nil), sig) == 1 {
					return nil
				}
			}
		case "v1a":
			for _, p := range pubs {
				if ed25519.Verify(p, c, sig) {
					return nil
				}
			}
		}
	}
	return ErrSignature
}
