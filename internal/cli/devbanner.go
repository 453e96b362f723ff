package cli

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
)

// devLoopback refuses a dev listener anyone else could reach: dev serves an
// unauthenticated mailbox of everything sent and prints an admin key.
func devLoopback(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080", listen)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %q: dev listens on loopback only (127.0.0.1 or [::1]), because its mailbox shows every message unauthenticated; use `sealpost serve` to listen elsewhere", listen)
}

// devBanner is what dev prints once it is ready.
type devBanner struct {
	Base, DataDir, Secret string
	DNS, SMTP             string // addresses of the dev DNS server and mail catcher
}

func printDevBanner(e *env, b devBanner) {
	data := b.DataDir
	if abs, err := filepath.Abs(data); err == nil {
		data = abs
	}
	fmt.Fprintf(e.stdout, `
Sealpost dev is running.
  API:      %[1]s/v1   (OpenAPI: %[1]s/v1/openapi.json)
  Mailbox:  %[1]s/dev/mailbox   (mail to example.com, example.org, example.net lands here)
            raw message N: %[1]s/dev/mailbox?id=N   (e.g. curl -s '%[1]s/dev/mailbox?id=1' | sealpost headers -)
  DNS:      %[2]s (udp and tcp)   answers MX, A and TXT for the dev domains
  SMTP:     %[3]s   the mail catcher (STARTTLS, dev CA)
  Data:     %[4]s
  API key:  %[5]s

Other commands use this data when run in this directory, or anywhere with:

  SEALPOST_DATA_DIR=%[6]s sealpost key list --tenant dev

Send a message:

  curl -s %[1]s/v1/messages \
    -H 'Authorization: Bearer %[5]s' \
    -H 'Content-Type: application/json' \
    -d '{"from": "Clinic <noreply@example.com>", "to": ["patient@example.org"], "subject": "Your results are ready", "text": "Hello from Sealpost."}'

Then open the mailbox, or: curl -s -H 'Authorization: Bearer %[5]s' %[1]s/v1/events
Stop with Ctrl-C.
`, b.Base, b.DNS, b.SMTP, b.DataDir, b.Secret, shellQuote(data))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
