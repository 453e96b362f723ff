package cli

import (
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
