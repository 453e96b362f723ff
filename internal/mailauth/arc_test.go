package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// sealer is one forwarding hop that adds an ARC set, as a forwarder would.
type sealer struct {
	domain string
	key    crypto.Signer
}

func (s sealer) alg() string {
	if _, ok := s.key.(ed25519.PrivateKey); ok {
		return "ed25519-sha256"
	}
	return "rsa-sha256"
}

func (s sealer) sign(t testing.TB, digest []byte) string {
	t.Helper()
	var opts crypto.SignerOpts = crypto.SHA256
	if _, ok := s.key.(ed25519.PrivateKey); ok {
		opts = crypto.Hash(0)
	}
	sig, err := s.key.Sign(rand.Reader, digest, opts)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// seal adds instance i (the next one) with chain validation status cv: an AAR, an
// AMS over From, To and Subject and the body (relaxed/relaxed), and a seal over all
// sets so far (RFC 8617 5.1).
func (s sealer) seal(t testing.TB, raw []byte, cv string) []byte {
	t.Helper()
	fields, body := splitMessage(crlf(raw))
	prev, ok := collectARC(fields)
	if !ok {
		t.Fatal("sealing a broken chain")
	}
	i := len(prev) + 1
	aar := []byte(fmt.Sprintf("ARC-Authentication-Results: i=%d; mx.%s; spf=pass smtp.mailfrom=%s\r\n", i, s.domain, s.domain))

	bh := sha256.Sum256(canonBody(body, true))
	ams := []byte(fmt.Sprintf("ARC-Message-Signature: i=%d; a=%s; c=relaxed/relaxed; d=%s;\r\n s=arc; t=1700000000; h=from:to:subject;\r\n bh=%s; b=\r\n",
		i, s.alg(), s.domain, base64.StdEncoding.EncodeToString(bh[:])))
	h := sha256.New()
	for _, name := range []string{"from", "to", "subject"} {
		for j := len(fields) - 1; j >= 0; j-- {
			if strings.EqualFold(fieldName(fields[j]), name) {
				h.Write(canonHeader(fields[j], true))
				break
			}
		}
	}
	h.Write(bytes.TrimSuffix(canonHeader(ams, true), []byte("\r\n")))
	ams = append(bytes.TrimSuffix(ams, []byte("\r\n")), []byte(s.sign(t, h.Sum(nil))+"\r\n")...)

	as := []byte(fmt.Sprintf("ARC-Seal: i=%d; a=%s; cv=%s; d=%s; s=arc;\r\n t=1700000000; b=\r\n", i, s.alg(), cv, s.domain))
	h = sha256.New()
	for _, p := range prev {
		h.Write(canonHeader(p.aar, true))
		h.Write(canonHeader(p.ams, true))
		h.Write(canonHeader(p.as, true))
	}
	h.Write(canonHeader(aar, true))
	h.Write(canonHeader(ams, true))
	h.Write(bytes.TrimSuffix(canonHeader(as, true), []byte("\r\n")))
	as = append(bytes.TrimSuffix(as, []byte("\r\n")), []byte(s.sign(t, h.Sum(nil))+"\r\n")...)

	out := append(append(append([]byte{}, as...), ams...), aar...)
	return append(out, crlf(raw)...)
}

func rsaKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return k, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
}

// A chain passes only when it is whole and every signature still holds: each case
// is a message as a receiver could get it after one or two forwarding hops.
func TestARCChain(t *testing.T) {
	k1, txt1 := rsaKey(t)
	pub2, k2, _ := ed25519.GenerateKey(rand.Reader)
	k3, _ := rsaKey(t) // published nowhere
	z := zone{
		"arc._domainkey.list.example":  {txt1},
		"arc._domainkey.relay.example": {"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub2)},
		"arc._domainkey.gone.example":  {"v=DKIM1; k=rsa; p="},
	}
	hop1, hop2 := sealer{"list.example", k1}, sealer{"relay.example", k2}
	orig := "From: a@clinic.example\r\nTo: b@list.example\r\nSubject: results\r\n\r\nLine one  \r\n\r\nLine two\r\n\r\n"
	once := hop1.seal(t, []byte(orig), "none")
	twice := hop2.seal(t, once, "pass")
	// The second hop, a list, changes the subject and adds a footer before sealing:
	// the first hop's message signature no longer holds, its seal still does.
	changed := strings.Replace(string(once), "Subject: results", "Subject: [list] results", 1) + "-- \r\nlist footer\r\n"
	listed := hop2.seal(t, []byte(changed), "pass")

	tamperedAS := bytes.Replace(twice, []byte("cv=none; d=list.example; s=arc;\r\n t=1700000000"), []byte("cv=none; d=list.example; s=arc;\r\n t=1700000001"), 1)
	tamperedAAR := bytes.Replace(twice, []byte("i=1; mx.list.example; spf=pass"), []byte("i=1; mx.list.example; spf=fail"), 1)
	var dropped []byte // the first set removed entirely
	for _, f := range func() [][]byte { f, _ := splitMessage(twice); return f }() {
		if n, _ := instanceOf(strings.ToLower(fieldName(f)), fieldValue(f)); n == 1 && strings.HasPrefix(strings.ToLower(fieldName(f)), "arc-") {
			continue
		}
		dropped = append(dropped, f...)
	}
	_, body := splitMessage(twice)
	dropped = append(append(dropped, '\r', '\n'), body...)
	dup := append([]byte(strings.SplitAfterN(string(twice), "\r\n", 2)[0]), twice...) // the newest seal twice
	for _, c := range []struct {
		name   string
		raw    []byte
		want   string
		oldest int
	}{
		{"no arc fields", []byte(orig), "none", 0},
		{"one hop", once, "pass", 0},
		{"two hops, rsa then ed25519", twice, "pass", 0},
		{"two hops, list changed the message", listed, "pass", 2},
		{"lf line ends", bytes.ReplaceAll(twice, []byte("\r\n"), []byte("\n")), "pass", 0},
		{"body changed after the last signature", append(append([]byte{}, twice...), "added\r\n"...), "fail", 0},
		{"tampered seal", tamperedAS, "fail", 0},
		{"tampered earlier results", tamperedAAR, "fail", 0},
		{"missing instance", dropped, "fail", 0},
		{"duplicate instance", dup, "fail", 0},
		{"cv=none after the first", hop2.seal(t, once, "none"), "fail", 0},
		{"cv=pass on the first", hop1.seal(t, []byte(orig), "pass"), "fail", 0},
		{"newest seal says fail", hop2.seal(t, once, "fail"), "fail", 0},
		{"instance above 50", append([]byte("ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=x.example; s=arc; b=AAAA\r\n"), twice...), "fail", 0},
		{"unknown key", sealer{"nokey.example", k3}.seal(t, []byte(orig), "none"), "fail", 0},
		{"revoked key", sealer{"gone.example", k3}.seal(t, []byte(orig), "none"), "fail", 0},
		{"seal by a key not published for that domain", sealer{"list.example", k3}.seal(t, []byte(orig), "none"), "fail", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, oldest := ARCChain(context.Background(), z, c.raw)
			if got != c.want || oldest != c.oldest {
				t.Errorf("arc=%s oldest-pass=%d; want %s %d", got, oldest, c.want, c.oldest)
			}
		})
	}

	// The gateway's Authentication-Results carries the chain's result, and DMARC
	// stays what it was: here fail, since the list's changes broke the author's
	// alignment and ARC is only information.
	z["_dmarc.clinic.example"] = []string{"v=DMARC1; p=reject"}
	v := Check(context.Background(), z, Input{IP: net.ParseIP("198.51.100.7"), Helo: "mx.relay.example", MailFrom: "bounce@relay.example", FromDomain: "clinic.example", Raw: listed})
	hdr := v.Header("mx.ours.example")
	if v.ARC != "pass" || v.DMARC != "fail" || !strings.Contains(hdr, "arc=pass header.oldest-pass=2 smtp.remote-ip=198.51.100.7") {
		t.Errorf("verdict %+v, header %q", v, hdr)
	}
}

// The signature code checks itself against go-msgauth's DKIM signer: a DKIM-Signature
// is the same construction as an ARC-Message-Signature, so our canonicalisation and
// hashing must accept what an independent implementation signed, in both forms.
func TestSignatureMatchesDKIM(t *testing.T) {
	rk, txt := rsaKey(t)
	pub, ek, _ := ed25519.GenerateKey(rand.Reader)
	z := zone{"r._domainkey.x.example": {txt}, "e._domainkey.x.example": {"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}}
	msg := "From:  A  <a@x.example>\r\nSubject: spaced \t out \r\n folded\r\nTo: b@y.example\r\n\r\n  lead  and trail \t\r\n\r\nend\r\n\r\n\r\n"
	for _, c := range []struct {
		sel    string
		key    crypto.Signer
		hc, bc dkim.Canonicalization
	}{
		{"r", rk, dkim.CanonicalizationRelaxed, dkim.CanonicalizationRelaxed},
		{"r", rk, dkim.CanonicalizationSimple, dkim.CanonicalizationSimple},
		{"e", ek, dkim.CanonicalizationRelaxed, dkim.CanonicalizationSimple},
		{"e", ek, dkim.CanonicalizationSimple, dkim.CanonicalizationRelaxed},
	} {
		for _, body := range []string{msg, "From: a@x.example\r\n\r\n"} {
			var b bytes.Buffer
			err := dkim.Sign(&b, strings.NewReader(body), &dkim.SignOptions{Domain: "x.example", Selector: c.sel, Signer: c.key,
				HeaderCanonicalization: c.hc, BodyCanonicalization: c.bc})
			if err != nil {
				t.Fatal(err)
			}
			fields, bdy := splitMessage(b.Bytes())
			k := &keyCache{ctx: context.Background(), r: z, keys: map[string]any{}}
			if err := verifySignature(k, fields, bdy, fields[0]); err != nil {
				t.Errorf("%s %s/%s: %v\n%s", c.sel, c.hc, c.bc, err, b.Bytes())
			}
		}
	}
}

// dkimpy (python3-dkim) is an ARC implementation independent of ours. arcpy runs it:
// "sign" seals the message as the ADMD srvID, taking the chain status from that
// ADMD's Authentication-Results; "verify" prints the chain's cv. Keys come from z.
const arcpy = `
import sys, json, dkim
op, z = sys.argv[1], json.loads(sys.argv[2])
msg = sys.stdin.buffer.read()
if op == "sign":
    sel, dom, key, srv = sys.argv[3:7]
    out = dkim.arc_sign(msg, sel.encode(), dom.encode(), key.encode(), srv.encode(), timestamp=1700000000)
    sys.stdout.buffer.write(b"".join(out) + msg)
else:
    dns = lambda name, timeout=5: "".join(z.get(name.decode().rstrip("."), [])).encode() or None
    cv, _, why = dkim.arc_verify(msg, dnsfunc=dns)
    sys.stdout.write(cv.decode())
`

func dkimpy(t *testing.T, z zone, stdin []byte, args ...string) []byte {
	t.Helper()
	zj, _ := json.Marshal(z)
	cmd := exec.Command("/usr/bin/python3", append([]string{"-c", arcpy, args[0], string(zj)}, args[1:]...)...) // #nosec G204 -- fixed interpreter and script, test arguments
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dkimpy %s: %v %s", args[0], err, stderr.Bytes())
	}
	return out
}

// Chains sealed by dkimpy validate here, chains sealed here validate in dkimpy, and
// the two agree on each broken chain. The second dkimpy hop takes its cv from the
// Authentication-Results field our gateway stamps, as a forwarder behind us would.
func TestARCAgainstDkimpy(t *testing.T) {
	k1, txt1 := rsaKey(t)
	k2, txt2 := rsaKey(t)
	z := zone{"arc._domainkey.list.example": {txt1}, "arc._domainkey.relay.example": {txt2}}
	pem1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k1)}))
	pem2 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k2)}))
	orig := "Authentication-Results: mx.list.example; spf=pass smtp.mailfrom=clinic.example; arc=none\r\n" +
		"From: a@clinic.example\r\nTo: b@list.example\r\nSubject: results\r\n\r\nLine one  \r\n\r\nLine two\r\n"

	once := dkimpy(t, z, []byte(orig), "sign", "arc", "list.example", pem1, "mx.list.example")
	v := Check(context.Background(), z, Input{IP: net.ParseIP("198.51.100.7"), Helo: "mx.list.example", MailFrom: "a@clinic.example", FromDomain: "clinic.example", Raw: once})
	if v.ARC != "pass" {
		t.Fatalf("dkimpy's first seal: arc=%s\n%s", v.ARC, once)
	}
	stamped, err := Stamp(once, "mx.relay.example", v.Header("mx.relay.example"))
	if err != nil {
		t.Fatal(err)
	}
	twice := dkimpy(t, z, stamped, "sign", "arc", "relay.example", pem2, "mx.relay.example")
	ours := sealer{"relay.example", k2}.seal(t, once, "pass")
	for _, c := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"dkimpy, one hop", once, "pass"},
		{"dkimpy, two hops, cv from our verdict", twice, "pass"},
		{"dkimpy then ours", ours, "pass"},
		{"dkimpy chain, body changed", append(append([]byte{}, twice...), "added\r\n"...), "fail"},
		{"ours, body changed", append(append([]byte{}, ours...), "added\r\n"...), "fail"},
		{"dkimpy chain, earlier results tampered", bytes.Replace(twice, []byte("smtp.mailfrom=clinic.example"), []byte("smtp.mailfrom=evil.example"), 1), "fail"},
		{"no arc fields", []byte(orig), "none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := ARCChain(context.Background(), z, c.raw)
			theirs := string(dkimpy(t, z, c.raw, "verify"))
			if got != c.want || theirs != c.want {
				t.Errorf("ours arc=%s, dkimpy cv=%s; want %s\n%s", got, theirs, c.want, c.raw)
			}
		})
	}
}

// Whatever a sender puts in ARC fields, validation answers without panicking.
func FuzzARCChain(f *testing.F) {
	f.Add([]byte("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=s; b=AAAA\r\nARC-Message-Signature: i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=; l=9; b=\r\nARC-Authentication-Results: i=1; x.example; spf=pass\r\nFrom: a@x.example\r\n\r\nbody\r\n"))
	f.Add([]byte("ARC-Seal: i=1; b\r\n\r\n"))
	f.Add([]byte("ARC-Authentication-Results: i=x\n\n"))
	z := zone{"s._domainkey.x.example": {"v=DKIM1; p=AAAA"}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if res, _ := ARCChain(context.Background(), z, raw); res != "none" && res != "pass" && res != "fail" {
			t.Fatalf("result %q", res)
		}
	})
}
