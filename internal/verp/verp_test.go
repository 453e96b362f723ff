package verp

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	mac := func(id string) []byte { m := hmac.New(sha256.New, []byte("k")); m.Write([]byte(id)); return m.Sum(nil) }
	a := Address("bounce.example", "rcp_06h3abc", mac)
	id, tag, ok := Parse(a, "bounce.example")
	if !ok || id != "rcp_06h3abc" || !Valid(id, tag, mac) {
		t.Fatalf("%s: %q %q %v", a, id, tag, ok)
	}
	if _, _, ok := Parse(a, "other.example"); ok {
		t.Error("parsed for another domain")
	}
	if Valid("rcp_other", tag, mac) {
		t.Error("tag valid for another recipient")
	}
	if _, _, ok := Parse("postmaster@bounce.example", "bounce.example"); ok {
		t.Error("parsed a non-VERP address")
	}
}
