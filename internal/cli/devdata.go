package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// devDataDir is where `sealpost dev` keeps its database and master key by default.
const devDataDir = "./sealpost-dev"

// devDataEnviron lets admin commands run beside `sealpost dev` find its data: with no
// config file, no data setting in the environment and no ./sealpost-data, but a
// ./sealpost-dev holding dev's database, the command uses that directory and says so.
// `serve` never does: a production server must not quietly adopt a dev database.
func devDataEnviron(e *env, path string) []string {
	if path != "" || e.command == "serve" || e.command == "dev" {
		return e.environ
	}
	for _, kv := range e.environ {
		for _, name := range []string{"SEALPOST_DATA_DIR=", "SEALPOST_DATABASE_URL=", "SEALPOST_MASTER_KEY=", "SEALPOST_MASTER_KEY_FILE="} {
			if strings.HasPrefix(kv, name) {
				return e.environ
			}
		}
	}
	if _, err := os.Stat("./sealpost-data"); err == nil {
		return e.environ
	}
	if _, err := os.Stat(filepath.Join(devDataDir, "sealpost.db")); err != nil {
		return e.environ
	}
	fmt.Fprintf(e.stderr, "sealpost: using the data of `sealpost dev` in %s (set SEALPOST_DATA_DIR or --config for another)\n", devDataDir)
	// Beside dev, webhook endpoints on this machine are allowed, as dev allows them.
	return append(append([]string(nil), e.environ...), "SEALPOST_DATA_DIR="+devDataDir, "SEALPOST_WEBHOOKS_ALLOW_LOOPBACK=true")
}
