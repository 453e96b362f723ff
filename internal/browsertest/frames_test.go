package browsertest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestFramesListsMainAndIframes(t *testing.T) {
	t.Parallel()
	b := Start(t)
	canary := StartCanary(t)
	// localhost is a different site from 127.0.0.1, so Chromium puts that
	// frame in a renderer of its own (an out-of-process iframe).
	crossSite := strings.Replace(canary.URL(), "127.0.0.1", "localhost", 1) + "/cross"
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /inner": htmlPage(`<p>inner</p>`),
		"GET /outer": htmlPage(`<iframe src="/inner"></iframe>` +
			`<iframe src="` + canary.URL() + `/other-origin"></iframe>` +
			`<iframe src="` + crossSite + `"></iframe>`),
	})

	b.Navigate(srv.URL + "/outer")
	frames := b.Frames()
	want := []string{srv.URL + "/outer", srv.URL + "/inner", canary.URL() + "/other-origin", crossSite}
	if len(frames) == 0 || frames[0] != want[0] {
		t.Errorf("Frames()[0] = %q, want the main document first", frames)
	}
	for _, w := range want {
		if !slices.Contains(frames, w) {
			t.Errorf("Frames() = %q, missing %q", frames, w)
		}
	}
	if len(frames) != len(want) {
		t.Errorf("Frames() has %d entries, want %d: %q", len(frames), len(want), frames)
	}
}
