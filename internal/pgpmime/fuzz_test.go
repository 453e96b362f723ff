package pgpmime

import (
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// FuzzParseKey feeds ParseKey arbitrary bytes: it must never panic, and whatever it
// accepts must be describable, checkable and serialisable.
func FuzzParseKey(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	for _, cfg := range []*packet.Config{
		{Algorithm: packet.PubKeyAlgoEdDSA},
		{Algorithm: packet.PubKeyAlgoRSA, RSABits: 1024},
		{V6Keys: true, Algorithm: packet.PubKeyAlgoEd25519, AEADConfig: &packet.AEADConfig{}},
	} {
		cfg.Time = func() time.Time { return now }
		e, err := openpgp.NewEntity("Pat", "", "pat@patient.example", cfg)
		if err != nil {
			f.Fatal(err)
		}
		armored := armorEntity(f, e, false)
		f.Add(armored)
		k, err := ParseKey(armored)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(k.Bytes())
	}
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Add([]byte{0x99, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKey(data)
		if err != nil {
			return
		}
		if len(k.Fingerprint) < 40 || k.entity == nil {
			t.Fatalf("accepted key without a fingerprint: %+v", k)
		}
		_ = k.Check("pat@patient.example", now)
		if _, err := ParseKey(k.Bytes()); err != nil {
			t.Fatalf("serialised key does not parse back: %v", err)
		}
	})
}
