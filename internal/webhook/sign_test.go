package webhook

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

// The specification's own example: secret, id, timestamp and body, and the v1 signature
// every conforming library computes for them.
func TestSignSpecificationVector(t *testing.T) {
	key, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Signer{Secrets: [][]byte{key}}.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
}

func TestVerifyRotationAndTampering(t *testing.T) {
	oldKey, _ := ParseSecret(NewSecret())
	newKey, _ := ParseSecret(NewSecret())
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	body := []byte(`{"type":"message.delivered"}`)
	h := Signer{Secrets: [][]byte{oldKey, newKey}, Keys: []ed25519.PrivateKey{priv}}.Sign("evt_1", now, body)
	if n := len(strings.Fields(h)); n != 3 {
		t.Fatalf("%d signatures in %q, want 3", n, h)
	}
	stamp := Signer{}.Headers("evt_1", now, body)["webhook-timestamp"]
	for name, c := range map[string]struct {
		secrets [][]byte
		pubs    []ed25519.PublicKey
		body    []byte
		stamp   string
		ok      bool
	}{
		"old secret":      {secrets: [][]byte{oldKey}, body: body, stamp: stamp, ok: true},
		"new secret":      {secrets: [][]byte{newKey}, body: body, stamp: stamp, ok: true},
		"ed25519":         {pubs: []ed25519.PublicKey{pub}, body: body, stamp: stamp, ok: true},
		"other secret":    {secrets: [][]byte{[]byte("0123456789abcdef01234567")}, body: body, stamp: stamp},
		"body changed":    {secrets: [][]byte{newKey}, pubs: []ed25519.PublicKey{pub}, body: []byte(`{"type":"message.bounced"}`), stamp: stamp},
		"timestamp moved": {secrets: [][]byte{newKey}, body: body, stamp: Signer{}.Headers("x", now.Add(time.Second), nil)["webhook-timestamp"]},
		"timestamp stale": {secrets: [][]byte{newKey}, body: body, stamp: "1614265330"},
		"not a timestamp": {secrets: [][]byte{newKey}, body: body, stamp: "soon"},
	} {
		err := Verify("evt_1", c.stamp, h, c.body, now, c.secrets, c.pubs)
		if (err == nil) != c.ok {
			t.Errorf("%s: Verify = %v, want ok=%v", name, err, c.ok)
		}
	}
}

func TestParseSecretRefusesMalformed(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_!!!", "whsec_c2hvcnQ=", NewSecret() + "A"} {
		if _, err := ParseSecret(s); err == nil {
			t.Errorf("ParseSecret(%q) accepted", s)
		}
	}
}
