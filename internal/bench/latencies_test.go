package bench

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// --latencies writes the accepted requests in the order they were sent (they finish,
// and are collected, in another), each with its start and latency in milliseconds.
func TestWriteLatencies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lat.csv")
	ss := []sample{
		{at: 5 * time.Millisecond, took: 1500 * time.Microsecond},
		{at: 0, took: 42 * time.Millisecond},
		{at: 2500 * time.Microsecond, took: 250 * time.Microsecond},
	}
	if err := writeLatencies(path, ss); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "start_ms,latency_ms\n0.000,42.000\n2.500,0.250\n5.000,1.500\n"
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
}
