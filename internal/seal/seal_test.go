package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k, err := NewDataKey(NewDataKeyBytes())
	if err != nil {
		t.Fatal(err)
	}
	ct := k.Seal([]byte("SSN 123-45-6789"), "message/1/body")
	if bytes.Contains(ct, []byte("123-45")) {
		t.Fatal("ciphertext contains plaintext")
	}
	pt, err := k.Open(ct, "message/1/body")
	if err != nil || string(pt) != "SSN 123-45-6789" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := k.Open(ct, "message/2/body"); !errors.Is(err, ErrOpen) {
		t.Fatalf("moved value opened: %v", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := k.Open(ct, "message/1/body"); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered value opened: %v", err)
	}
	other, _ := NewDataKey(NewDataKeyBytes())
	if _, err := other.Open(k.Seal([]byte("x"), "b"), "b"); !errors.Is(err, ErrOpen) {
		t.Fatalf("wrong key opened: %v", err)
	}
}

func TestKeyringRotation(t *testing.T) {
	t.Parallel()
	kr, _ := NewKeyring(GenerateMasterKey())
	dk := NewDataKeyBytes()
	id, wrapped := kr.Wrap(dk, "t1")
	if _, err := kr.Unwrap(id, wrapped, "t2"); err == nil {
		t.Fatal("key wrapped for t1 unwrapped for t2")
	}
	rotated := kr.WithNewPrimary()
	if rotated.PrimaryID() == id {
		t.Fatal("rotation kept the primary")
	}
	got, err := rotated.Unwrap(id, wrapped, "t1")
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("old wrap unreadable after rotation: %v", err)
	}
	id2, w2 := rotated.Wrap(got, "t1")
	final := rotated.OnlyPrimary()
	if _, err := final.Unwrap(id, wrapped, "t1"); err == nil {
		t.Fatal("retired key still unwraps")
	}
	if got, err := final.Unwrap(id2, w2, "t1"); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("rewrapped key: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.key")
	kr, _ := NewKeyring(GenerateMasterKey(), GenerateMasterKey())
	if err := WriteKeyFile(path, kr); err != nil {
		t.Fatal(err)
	}
	back, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.PrimaryID() != kr.PrimaryID() || len(back.IDs()) != 2 {
		t.Fatalf("keyring changed in the file: %v vs %v", back.IDs(), kr.IDs())
	}
	os.Chmod(path, 0o644)
	if _, err := LoadKeyring(path); err == nil {
		t.Fatal("world-readable key file accepted")
	}
	if _, err := ParseKeyring([]byte("not base64\n")); err == nil {
		t.Fatal("bad key accepted")
	}
}

// TestSealInPlace: a value sealed in its own storage is in Seal's format, keeps its
// binding and really reuses the buffer; OpenAppend opens pieces into one buffer.
func TestSealInPlace(t *testing.T) {
	k, err := NewDataKey(NewDataKeyBytes())
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("large message "), 1000)
	buf := make([]byte, InPlacePrefix, InPlacePrefix+len(plain)+InPlaceSuffix)
	buf = append(buf, plain...)
	sealed := k.SealInPlace(buf, "message/1/content")
	if &sealed[0] != &buf[0] {
		t.Error("SealInPlace allocated a new buffer")
	}
	if bytes.Contains(sealed, []byte("large message")) {
		t.Fatal("plaintext left in the sealed value")
	}
	got, err := k.Open(sealed, "message/1/content")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open of an in-place seal: %v", err)
	}
	if _, err := k.OpenAppend(nil, sealed, "message/2/content"); err != ErrOpen {
		t.Errorf("wrong binding opened: %v", err)
	}
	// Pieces open one after another into one buffer.
	a, b := k.Seal(plain[:100], "piece/0"), k.Seal(plain[100:], "piece/1")
	out := make([]byte, 0, len(plain))
	if out, err = k.OpenAppend(out, a, "piece/0"); err != nil {
		t.Fatal(err)
	}
	if out, err = k.OpenAppend(out, b, "piece/1"); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("OpenAppend of two pieces: %v", err)
	}
}
