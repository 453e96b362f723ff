package browsertest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPathOrder(t *testing.T) {
	dir := t.TempDir()
	fixed := filepath.Join(dir, "chromium")
	if err := os.WriteFile(fixed, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	onPath := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return "/opt/bin/" + name, nil
				}
			}
			return "", errors.New("not found")
		}
	}

	cases := []struct {
		name     string
		explicit string
		fixed    string
		look     func(string) (string, error)
		want     string
	}{
		{"explicit wins even if absent", "/nowhere/chrome", fixed, onPath("chromium"), "/nowhere/chrome"},
		{"debian location", "", fixed, onPath("chromium"), fixed},
		{"non-executable file skipped", "", notExec, onPath("chromium"), "/opt/bin/chromium"},
		{"chromium on PATH", "", missing, onPath("chromium", "chromium-browser"), "/opt/bin/chromium"},
		{"chromium-browser on PATH", "", missing, onPath("chromium-browser"), "/opt/bin/chromium-browser"},
		{"none", "", missing, onPath(), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := findPath(c.explicit, c.fixed, c.look); got != c.want {
				t.Errorf("findPath = %q, want %q", got, c.want)
			}
		})
	}
}

func TestPathHonoursEnvironment(t *testing.T) {
	t.Setenv(envChromium, "/custom/chromium")
	if got := Path(); got != "/custom/chromium" {
		t.Errorf("Path() = %q, want the $%s value", got, envChromium)
	}
}

// stopRecorder captures how haveBrowser stops a test without stopping the
// real one.
type stopRecorder struct {
	testing.TB
	skipped, fatal bool
	msg            string
}

func (s *stopRecorder) Skip(args ...any)  { s.skipped = true; s.msg = argString(args) }
func (s *stopRecorder) Fatal(args ...any) { s.fatal = true; s.msg = argString(args) }

func argString(args []any) string {
	if len(args) == 0 {
		return ""
	}
	s, _ := args[0].(string)
	return s
}

func TestHaveBrowserSkipOrFail(t *testing.T) {
	cases := []struct {
		name        string
		path        string
		require     string
		want        bool
		skip, fatal bool
	}{
		{"found", "/usr/bin/chromium", "1", true, false, false},
		{"missing skips", "", "", false, true, false},
		{"missing with other value skips", "", "0", false, true, false},
		{"missing but required fails", "", "1", false, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(envRequire, c.require)
			rec := &stopRecorder{TB: t}
			if got := haveBrowser(rec, c.path); got != c.want {
				t.Errorf("haveBrowser = %v, want %v", got, c.want)
			}
			if rec.skipped != c.skip || rec.fatal != c.fatal {
				t.Errorf("skipped=%v fatal=%v, want %v/%v", rec.skipped, rec.fatal, c.skip, c.fatal)
			}
			if c.fatal && !strings.Contains(rec.msg, "scripts/deps.sh") {
				t.Errorf("failure message %q does not say to run scripts/deps.sh", rec.msg)
			}
		})
	}
}
