package dlp

import "testing"

func TestLowerASCIIKeepsOffsets(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"already lower 123":  "already lower 123",
		"MRN: AB-12 Straße":  "mrn: ab-12 straße",
		"ÄÖÜ stay, X lowers": "ÄÖÜ stay, x lowers", // only A-Z: byte offsets must not move
		"Z":                  "z",
	} {
		got := lowerASCII(in)
		if got != want || len(got) != len(in) {
			t.Errorf("lowerASCII(%q) = %q, want %q", in, got, want)
		}
	}
}
