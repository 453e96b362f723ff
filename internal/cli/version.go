package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

func version(e *env, args []string) error {
	fs := flags(e, "version", "version", "Prints the version of this binary: the module version, the commit it was built from and when, whether the tree had changes, and the Go version.")
	if err := parse(fs, args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprint(e.stdout, versionText(bi, Version))
	return nil
}

// versionText describes a build from what the Go toolchain stamped into it
// (module version; VCS revision, time and modified flag when built from a
// checkout) and a version set at link time, which wins when the module
// version is only "(devel)".
func versionText(bi *debug.BuildInfo, linked string) string {
	v, goVersion := "", runtime.Version()
	settings := map[string]string{}
	if bi != nil {
		v, goVersion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	if v == "" || v == "(devel)" {
		v = linked
	}
	if v == "" {
		v = "dev"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sealpost %s\n", v)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified: uncommitted changes)"
		}
		fmt.Fprintf(&b, "  commit:  %s\n", rev)
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "  time:    %s\n", t)
	}
	fmt.Fprintf(&b, "  go:      %s %s/%s\n", goVersion, settingOr(settings, "GOOS", runtime.GOOS), settingOr(settings, "GOARCH", runtime.GOARCH))
	return b.String()
}

func settingOr(s map[string]string, k, def string) string {
	if v := s[k]; v != "" {
		return v
	}
	return def
}
