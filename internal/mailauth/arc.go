package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ARC (RFC 8617) lets a forwarder that changed a message vouch for the checks it saw
// before the change. We validate chains; we never seal. No maintained Go library does
// this, so the chain rules live here, on the same canonicalisation and key records as
// DKIM (RFC 6376), which are small enough to state directly.

// maxARCSets is the highest instance RFC 8617 4.2.1 allows.
const maxARCSets = 50

// arcSet is one instance's three fields, raw (folded, CRLF-terminated).
type arcSet struct {
	aar, ams, as []byte
}

// ARCChain validates the message's ARC chain. It returns "none" without ARC fields,
// "pass" or "fail", and for a pass the oldest instance whose message signature still
// verifies when that is not the first (RFC 8617 5.2 step 6), else 0.
func ARCChain(ctx context.Context, r Resolver, raw []byte) (result string, oldestPass int) {
	raw = crlf(raw)
	fields, body := splitMessage(raw)
	sets, ok := collectARC(fields)
	if sets == nil && ok {
		return "none", 0
	}
	if !ok {
		return "fail", 0
	}
	n := len(sets)
	k := &keyCache{ctx: ctx, r: r, keys: map[string]any{}}
	// Structure: the newest seal must not already say fail; the first says none and
	// every later one pass (RFC 8617 5.1.1, 5.2 steps 2-4).
	for i, s := range sets {
		tags, err := parseTags(fieldValue(s.as))
		if err != nil {
			return "fail", 0
		}
		if _, has := tags["h"]; has {
			return "fail", 0 // a seal never lists fields (RFC 8617 4.1.3)
		}
		cv := strings.ToLower(tags["cv"])
		if (i == 0 && cv != "none") || (i > 0 && cv != "pass") {
			return "fail", 0
		}
	}
	if verifyAMS(k, fields, body, sets[n-1].ams) != nil {
		return "fail", 0
	}
	// Every seal, newest first, over the sets up to its own instance.
	for i := n; i >= 1; i-- {
		if verifyAS(k, sets[:i]) != nil {
			return "fail", 0
		}
	}
	oldest := n
	for i := n - 1; i >= 1; i-- {
		if verifyAMS(k, fields, body, sets[i-1].ams) != nil {
			break
		}
		oldest = i
	}
	if oldest == 1 {
		oldest = 0
	}
	return "pass", oldest
}

// collectARC groups the ARC fields by instance. ok is false for a chain that is not
// well formed: a field without a readable instance, an instance out of 1..50, a
// duplicate, or an instance with a field missing or a gap in the numbering.
func collectARC(fields [][]byte) (sets []arcSet, ok bool) {
	byInst := map[int]*arcSet{}
	maxInst := 0
	for _, f := range fields {
		name := strings.ToLower(fieldName(f))
		var slot func(*arcSet) *[]byte
		switch name {
		case "arc-authentication-results":
			slot = func(s *arcSet) *[]byte { return &s.aar }
		case "arc-message-signature":
			slot = func(s *arcSet) *[]byte { return &s.ams }
		case "arc-seal":
			slot = func(s *arcSet) *[]byte { return &s.as }
		default:
			continue
		}
		inst, err := instanceOf(name, fieldValue(f))
		if err != nil || inst < 1 || inst > maxARCSets {
			return nil, false
		}
		s := byInst[inst]
		if s == nil {
			s = &arcSet{}
			byInst[inst] = s
		}
		p := slot(s)
		if *p != nil {
			return nil, false
		}
		*p = f
		maxInst = max(maxInst, inst)
	}
	if len(byInst) == 0 {
		return nil, true
	}
	if len(byInst) != maxInst {
		return nil, false
	}
	sets = make([]arcSet, maxInst)
	for i := 1; i <= maxInst; i++ {
		s := byInst[i]
		if s.aar == nil || s.ams == nil || s.as == nil {
			return nil, false
		}
		sets[i-1] = *s
	}
	return sets, true
}

// instanceOf reads i=: a tag of the signatures, the leading "i=N;" of the
// ARC-Authentication-Results value (RFC 8617 4.1.1).
func instanceOf(name, value string) (int, error) {
	if name == "arc-authentication-results" {
		head, _, _ := strings.Cut(value, ";")
		k, v, found := strings.Cut(head, "=")
		if !found || strings.TrimSpace(k) != "i" {
			return 0, errors.New("no instance")
		}
		return strconv.Atoi(strings.TrimSpace(v))
	}
	tags, err := parseTags(value)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(tags["i"])
}

// verifyAMS checks one ARC-Message-Signature: a DKIM signature whose i= is the
// instance, not an identity (RFC 8617 4.1.2).
func verifyAMS(k *keyCache, fields [][]byte, body, ams []byte) error {
	return verifySignature(k, fields, body, ams)
}

// verifySignature verifies a DKIM-style signature field sig over the message's
// header fields and body (RFC 6376 3.7). It serves DKIM-Signature and
// ARC-Message-Signature alike.
func verifySignature(k *keyCache, fields [][]byte, body, sig []byte) error {
	tags, err := parseTags(fieldValue(sig))
	if err != nil {
		return err
	}
	hc, bc := "simple", "simple"
	if c := tags["c"]; c != "" {
		hc, bc, _ = strings.Cut(strings.ToLower(c), "/")
		if bc == "" {
			bc = "simple"
		}
	}
	if (hc != "simple" && hc != "relaxed") || (bc != "simple" && bc != "relaxed") {
		return errors.New("unknown canonicalisation")
	}
	cb := canonBody(body, bc == "relaxed")
	if l := tags["l"]; l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || n > len(cb) {
			return errors.New("bad body length")
		}
		cb = cb[:n]
	}
	bh, err := base64.StdEncoding.DecodeString(stripWS(tags["bh"]))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(cb)
	if subtle.ConstantTimeCompare(sum[:], bh) != 1 {
		return errors.New("body hash mismatch")
	}
	if tags["h"] == "" {
		return errors.New("no signed fields")
	}
	h := sha256.New()
	used := map[string]int{} // fields of each name already taken, from the bottom
	for _, name := range strings.Split(tags["h"], ":") {
		name = strings.ToLower(strings.TrimSpace(name))
		skip := used[name]
		used[name]++
		for j := len(fields) - 1; j >= 0; j-- {
			if !strings.EqualFold(fieldName(fields[j]), name) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			h.Write(canonHeader(fields[j], hc == "relaxed"))
			break
		}
	}
	h.Write(bytes.TrimSuffix(canonHeader(emptyB(sig), hc == "relaxed"), []byte("\r\n")))
	return k.verify(tags, h.Sum(nil))
}

// verifyAS checks the seal of the last set over the sets 1..i in order, each as
// AAR, AMS, AS, relaxed, with the seal's own b= emptied (RFC 8617 5.1.1).
func verifyAS(k *keyCache, sets []arcSet) error {
	last := sets[len(sets)-1].as
	tags, err := parseTags(fieldValue(last))
	if err != nil {
		return err
	}
	h := sha256.New()
	for i, s := range sets {
		h.Write(canonHeader(s.aar, true))
		h.Write(canonHeader(s.ams, true))
		if i < len(sets)-1 {
			h.Write(canonHeader(s.as, true))
		}
	}
	h.Write(bytes.TrimSuffix(canonHeader(emptyB(last), true), []byte("\r\n")))
	return k.verify(tags, h.Sum(nil))
}

// keyCache fetches each selector's key once per message: a 50-set chain names the
// same few keys many times.
type keyCache struct {
	ctx  context.Context
	r    Resolver
	keys map[string]any // crypto.PublicKey or error
}

// verify checks the signature b= over digest with the key at s._domainkey.d, for
// a=rsa-sha256 or a=ed25519-sha256 (RFC 8463).
func (k *keyCache) verify(tags map[string]string, digest []byte) error {
	sig, err := base64.StdEncoding.DecodeString(stripWS(tags["b"]))
	if err != nil || len(sig) == 0 {
		return errors.New("bad signature encoding")
	}
	d, s := strings.ToLower(tags["d"]), strings.ToLower(tags["s"])
	if d == "" || s == "" {
		return errors.New("no key name")
	}
	name := s + "._domainkey." + d
	key, seen := k.keys[name]
	if !seen {
		key = k.lookup(name)
		k.keys[name] = key
	}
	if err, bad := key.(error); bad {
		return err
	}
	switch a := strings.ToLower(tags["a"]); {
	case a == "rsa-sha256":
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return errors.New("key type mismatch")
		}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig)
	case a == "ed25519-sha256":
		pub, ok := key.(ed25519.PublicKey)
		if !ok || !ed25519.Verify(pub, digest, sig) {
			return errors.New("ed25519 verification failed")
		}
		return nil
	default:
		return errors.New("unsupported algorithm")
	}
}

// lookup reads a DKIM key record (RFC 6376 3.6.1): k=rsa (the default) with a
// SubjectPublicKeyInfo of at least 1024 bits, or k=ed25519 with the raw key.
func (k *keyCache) lookup(name string) any {
	c, cancel := context.WithTimeout(k.ctx, 10*time.Second)
	defer cancel()
	txts, err := k.r.LookupTXT(c, name)
	if err != nil || len(txts) == 0 {
		return errors.New("no key record")
	}
	tags, err := parseTags(strings.Join(txts, ""))
	if err != nil {
		return err
	}
	if v, ok := tags["v"]; ok && v != "DKIM1" {
		return errors.New("bad key record version")
	}
	p, err := base64.StdEncoding.DecodeString(stripWS(tags["p"]))
	if err != nil || len(p) == 0 {
		return errors.New("key revoked or unreadable")
	}
	switch strings.ToLower(tags["k"]) {
	case "", "rsa":
		pub, err := x509.ParsePKIXPublicKey(p)
		if err != nil {
			if pub, err = x509.ParsePKCS1PublicKey(p); err != nil {
				return err
			}
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok || rk.N.BitLen() < 1024 {
			return errors.New("unusable rsa key")
		}
		return rk
	case "ed25519":
		if len(p) != ed25519.PublicKeySize {
			return errors.New("bad ed25519 key")
		}
		return ed25519.PublicKey(p)
	default:
		return errors.New("unknown key type")
	}
}
