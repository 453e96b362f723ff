package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

const (
	// envChromium names an explicit browser binary; it wins over every
	// other location so a developer can point tests at a specific build.
	envChromium = "SEALPOST_CHROMIUM"
	// envRequire turns a missing browser from a skip into a failure, for CI
	// runs where silently skipping the portal tests would hide regressions.
	envRequire = "SEALPOST_REQUIRE_BROWSER"
	// debianChromium is where scripts/deps.sh installs the browser.
	debianChromium = "/usr/bin/chromium"
)

// Path finds the browser: $SEALPOST_CHROMIUM, else /usr/bin/chromium, else
// chromium/chromium-browser on PATH. "" if none.
//
// An explicit $SEALPOST_CHROMIUM is returned as given even when it does not
// exist, so a wrong setting fails loudly at launch instead of quietly testing
// a different browser.
func Path() string {
	return findPath(os.Getenv(envChromium), debianChromium, exec.LookPath)
}

// findPath is Path with its inputs made explicit so the lookup order can be
// tested without touching the machine's real browser.
func findPath(explicit, fixed string, lookPath func(string) (string, error)) string {
	if explicit != "" {
		return explicit
	}
	if isExecutable(fixed) {
		return fixed
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := lookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// isExecutable reports whether path is a regular file with an execute bit.
func isExecutable(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	return st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// haveBrowser reports whether path names a browser to start. When it does
// not, it stops t: a skip normally, a failure when the environment demands
// that browser tests run (CI, where a silent skip would hide regressions).
func haveBrowser(t testing.TB, path string) bool {
	t.Helper()
	if path != "" {
		return true
	}
	if os.Getenv(envRequire) == "1" {
		t.Fatal("browsertest: no Chromium found and " + envRequire + "=1; run scripts/deps.sh to install it")
		return false
	}
	t.Skip("browsertest: no Chromium found (run scripts/deps.sh, or set " + envChromium + ")")
	return false
}

// launchFlags returns the Chromium switches every test browser gets. Headless
// with the background services off: the test machine has no network beyond
// loopback, and those services only add noise and start-up delay.
func launchFlags() []string {
	return []string{
		"headless=new",
		"no-sandbox",
		"disable-gpu",
		"disable-quic",
		"no-first-run",
		"disable-background-networking",
		"disable-component-update",
		"disable-sync",
		"disable-default-apps",
		"disable-extensions",
		"no-default-browser-check",
		// Small /dev/shm in containers makes Chromium crash under load.
		"disable-dev-shm-usage",
		"hide-scrollbars",
		"mute-audio",
	}
}
