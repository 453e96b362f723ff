package duration

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "1d12h": 36 * time.Hour, "72h": 72 * time.Hour, "15m": 15 * time.Minute,
		"30s": 30 * time.Second, " 2d ": 48 * time.Hour, "0d": 0, "1h30m": 90 * time.Minute,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "1.5d", "soon", "3 days", "1d-2h", "999999999d"} {
		if d, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, d)
		}
	}
	if _, err := ParsePositive("0s"); err == nil {
		t.Error("ParsePositive accepted 0s")
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		2160 * time.Hour: "90d", 36 * time.Hour: "36h", 90 * time.Minute: "90m", 30 * time.Second: "30s",
		1500 * time.Millisecond: "1.5s", 0: "0s",
	} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if d > 0 {
			if back, err := Parse(Format(d)); err != nil || back != d {
				t.Errorf("round trip %v: %v %v", d, back, err)
			}
		}
	}
}
