package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFromBuildInfo(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sealpost/sealpost", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}
	want := "sealpost v1.4.0\n  commit:  0123456789abcdef0123456789abcdef01234567 (modified: uncommitted changes)\n" +
		"  time:    2026-12-01T10:00:00Z\n  go:      go1.26.8 linux/arm64\n"
	if got := versionText(bi, ""); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A checkout build says (devel): a version set at link time names it instead.
	bi.Main.Version = "(devel)"
	bi.Settings[4].Value = "false"
	if got := versionText(bi, "v1.4.1-rc1"); !strings.HasPrefix(got, "sealpost v1.4.1-rc1\n  commit:  0123456789abcdef0123456789abcdef01234567\n") {
		t.Errorf("linked version: %q", got)
	}
	if got := versionText(nil, ""); got != "sealpost dev\n  go:      "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n" {
		t.Errorf("no build info: %q", got)
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || !strings.HasPrefix(out, "sealpost ") || !strings.Contains(out, "go:      "+runtime.Version()) {
			t.Errorf("%v: exit %d, %q %q", args, code, out, errOut)
		}
	}
}

func TestDevRefusesNonLoopbackListen(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"0.0.0.0:8080", "[::]:8080", ":8080", "192.0.2.10:8080", "example.com:8080"} {
		code, _, errOut := run(t, "dev", "--data", t.TempDir(), "--listen", listen)
		if code != 1 || !strings.Contains(errOut, "loopback only") {
			t.Errorf("dev --listen %s: exit %d, %q", listen, code, errOut)
		}
	}
	for _, listen := range []string{"127.0.0.1:8080", "[::1]:0", "localhost:8080", "127.0.0.2:1"} {
		if err := devLoopback(listen); err != nil {
			t.Errorf("%s refused: %v", listen, err)
		}
	}
}

// TestCommandsFindDevData: run beside `sealpost dev`, an admin command uses
// ./sealpost-dev and says so; serve never does; an explicit setting wins.
func TestCommandsFindDevData(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("SEALPOST_DATA_DIR", "./sealpost-dev")
	for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "dev"}} {
		if code, _, errOut := run(t, s...); code != 0 {
			t.Fatalf("%v: %d %s", s, code, errOut)
		}
	}
	os.Unsetenv("SEALPOST_DATA_DIR")
	code, out, errOut := run(t, "key", "create", "--tenant", "dev", "--scopes", "send")
	if code != 0 || len(strings.TrimSpace(out)) < 20 || !strings.Contains(errOut, "using the data of `sealpost dev` in ./sealpost-dev") {
		t.Fatalf("key create beside dev: exit %d, %q, %q", code, out, errOut)
	}
	// dev allows webhook endpoints on loopback, and so do commands beside it.
	if code, out, errOut := run(t, "webhook", "add", "--tenant", "dev", "http://127.0.0.1:9/hook"); code != 0 || !strings.HasPrefix(out, "whsec_") {
		t.Errorf("webhook add beside dev: exit %d, %q, %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "serve"); code != 1 || strings.Contains(errOut, "sealpost-dev") || !strings.Contains(errOut, "no master key") {
		t.Errorf("serve adopted dev data: %d %q", code, errOut)
	}
	// A data directory of its own wins.
	if err := os.Mkdir(filepath.Join(dir, "sealpost-data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "key", "list", "--tenant", "dev"); code == 0 || strings.Contains(errOut, "using the data") {
		t.Errorf("with ./sealpost-data present: exit %d, %q", code, errOut)
	}
}

func TestDevBanner(t *testing.T) {
	t.Parallel()
	var e env
	var out strings.Builder
	e.stdout = &out
	printDevBanner(&e, devBanner{Base: "http://127.0.0.1:8080", DataDir: "/tmp/my dev", Secret: "sp_x", DNS: "127.0.0.1:5353", SMTP: "127.0.0.1:2525"})
	for _, want := range []string{
		"DNS:      127.0.0.1:5353", "SMTP:     127.0.0.1:2525",
		"raw message N: http://127.0.0.1:8080/dev/mailbox?id=N",
		"SEALPOST_DATA_DIR='/tmp/my dev' sealpost key list --tenant dev",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
}
