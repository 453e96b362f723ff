// Command sealpost is the Sealpost secure email platform.
package main

import (
	"os"

	"github.com/sealpost/sealpost/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
