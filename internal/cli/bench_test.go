package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The comparison's arguments are checked before anything starts.
func TestBenchCompareArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--compare", "exim"}, `only postfix is known, not "exim"`},
		{[]string{"bench", "--compare", "postfix", "--rate", "50"}, "drop --rate"},
		{[]string{"bench", "--c", "0"}, "--c and --n: want at least 1"},
		{[]string{"bench", "--n", "-5"}, "--c and --n: want at least 1"},
	} {
		code, _, errOut := run(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
	code, out, _ := run(t, "bench", "--help")
	if code != 0 || !strings.Contains(out, "--compare") || !strings.Contains(out, "scripts/postfix-bench.sh") {
		t.Errorf("bench --help: %d %q", code, out)
	}
}

// serve --trace writes an execution trace until the server stops, here at its first
// error (no master key), so the bench's --trace has a file to hand on.
func TestServeWritesATrace(t *testing.T) {
	cfg := writeConfig(t)
	path := filepath.Join(t.TempDir(), "serve.trace")
	if code, _, errOut := run(t, "serve", "--config", cfg, "--trace", path); code != 1 || !strings.Contains(errOut, "no master key") {
		t.Fatalf("serve: exit %d, %q", code, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("go 1.")) || !bytes.Contains(b[:16], []byte(" trace")) || len(b) < 64 {
		t.Errorf("not an execution trace: %d bytes, %q…", len(b), b[:min(len(b), 16)])
	}
}
