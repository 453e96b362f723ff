package cli

import (
	"os"
	"testing"
)

func TestLazyGCLeavesTheOperatorsSetting(t *testing.T) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		defer os.Setenv("GOGC", v)
	}
	os.Unsetenv("GOGC")
	if !lazyGC() {
		t.Error("without GOGC the server does not choose")
	}
	t.Setenv("GOGC", "100")
	if lazyGC() {
		t.Error("with GOGC set the server still chooses")
	}
}
