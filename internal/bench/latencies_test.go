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

// The steady-state percentiles leave out the requests sent during the warm-up, however
// slow, and only those.
func TestSteadyLeavesOutTheWarmup(t *testing.T) {
	var ss []sample
	for i := range 200 {
		took := time.Millisecond
		if i < 10 {
			took = 50 * time.Millisecond // the warm-up's slow start
		}
		if i == 150 {
			took = 30 * time.Millisecond
		}
		ss = append(ss, sample{at: time.Duration(i) * 10 * time.Millisecond, took: took})
	}
	steady := after(ss, 100*time.Millisecond)
	if len(steady) != 190 {
		t.Fatalf("%d requests after the warm-up, want 190", len(steady))
	}
	if p := pct(steady, 99); p != 1 {
		t.Errorf("steady p99 %v ms, want 1", p)
	}
	if max := steady[len(steady)-1]; max != 30*time.Millisecond {
		t.Errorf("a slow request after the warm-up was left out: max %v", max)
	}
}
