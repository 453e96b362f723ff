// Package cli is the sealpost command line: one subcommand per verb, each with --help.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/duration"
)

// Version may be set at link time with -ldflags "-X github.com/sealpost/sealpost/internal/cli.Version=…";
// otherwise `sealpost version` reports the module version and commit Go recorded.
var Version = ""

type env struct {
	stdout, stderr io.Writer
	environ        []string
	command        string // the subcommand being run
}

type command struct {
	name, summary string
	run           func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (API and delivery workers) from a config file", serve},
		{"dev", "run everything on loopback with a built-in mail catcher; prints a ready API key", dev},
		{"migrate", "apply database migrations and exit", migrate},
		{"tenant", "create, list and shred tenants (organisations)", tenantCmd},
		{"domain", "add, list and verify a tenant's sender domains", domainCmd},
		{"key", "create, list and revoke API keys", keyCmd},
		{"dkim", "generate DKIM signing keys and print the DNS record to publish", dkimCmd},
		{"masterkey", "create and rotate the master key that wraps tenant keys", masterkeyCmd},
		{"headers", "was this message encrypted in transit? analyse its Received headers", headersCmd},
		{"check-domain", "check a sender domain's MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT and STARTTLS", checkDomainCmd},
		{"check-tls", "what can a recipient domain receive? STARTTLS, certificates, MTA-STS, DANE", checkTLSCmd},
		{"policy", "show and set a tenant's security policy (which method secures each recipient)", policyCmd},
		{"recipient-key", "register, list and remove recipients' OpenPGP keys and S/MIME certificates", recipientKeyCmd},
		{"audit", "verify, export and checkpoint the tamper-evident audit trail", auditCmd},
		{"queue", "list, retry, hold, release and drop delivery jobs", queueCmd},
		{"webhook", "add, list, test, rotate and remove the endpoints events are pushed to", webhookCmd},
		{"bench", "measure acceptance and delivery throughput on this machine", benchCmd},
		{"config", "print every setting (defaults, or a config file's values) with its environment variable", configCmd},
		{"version", "print the version", version},
		// The archive: journal, search, holds, retention, export.
		{"archive", "search, show, export, hold and verify the sealed archive of mail in and out", archiveCmd},
		// Reports: statistics, exports and compliance reports.
		{"report", "statistics by domain, campaign, tag, sender, subject, metadata or method, as a table, CSV or JSON", reportCmd},
		// The dashboard's people.
		{"user", "invite, list, disable people who sign in to the dashboard, and reset their second factor", userCmd},
		// Marketing audience.
		{"contact", "marketing contacts: custom fields, put, import and export CSV", contactCmd},
		{"list", "marketing lists, memberships and preference-centre topics", listCmd},
		{"segment", "save and evaluate segment filters over contacts", segmentCmd},
		{"consent", "record, list, revoke and expire consent and HIPAA authorisations", consentCmd},
		{"suppression", "add, list and remove suppressed addresses (marketing or transactional)", suppressionCmd},
		// Access beyond API keys.
		{"oauth-client", "create, list and revoke OAuth 2.0 clients (client credentials)", oauthClientCmd},
		{"session", "list and revoke signed-request sessions, one by one or per client", sessionCmd},
		// SMTP gateway credentials.
		{"smtp-credential", "create, list and revoke usernames and passwords for SMTP submission", smtpCredCmd},
		{"smtp-relay", "register the DKIM selectors or client certificates a tenant's own mail servers relay with", smtpRelayCmd},
		// Secure forms.
		{"form", "create, list, show and delete secure forms; list their submissions", formCmd},
		// Journeys (drip sequences).
		{"journey", "create, activate, pause and report on journeys; report events that start them", journeyCmd},
		// Inbound gateway.
		{"inbound", "protect a tenant's domains with the inbound gateway; list, show, release and delete quarantined mail", inboundCmd},
		// Campaigns.
		{"campaign", "create, approve, schedule, pause, resume and cancel marketing campaigns; reports and conversions", campaignCmd},
	}
}

// errUsage means a usage message was already printed.
var errUsage = errors.New("usage")

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, environ: os.Environ()}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			e.command = c.name
			err := c.run(e, args[1:])
			switch {
			case err == nil, errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(stderr, "sealpost %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "sealpost: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Sealpost — secure email for healthcare.\n\nUsage: sealpost <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `sealpost <command> --help` for a command's flags.\nStart here: `sealpost dev`.")
}

// flags makes a flag set whose --help prints a summary, usage line and flags.
func flags(e *env, name, usageLine, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: sealpost %s\n\n%s\n", usageLine, strings.TrimSpace(about))
		has := false
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(e.stdout, "\nFlags:")
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			fs.SetOutput(e.stderr)
		}
	}
	return fs
}

// parse accepts flags before and after positional arguments
// ("tenant create acme --config x.toml" as well as "tenant create --config x.toml acme").
func parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// durationValue is a duration flag that also takes days ("2d", "1d12h").
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return duration.Format(*v.d)
}

func (v durationValue) Set(s string) error {
	d, err := duration.Parse(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func durationFlag(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	d := def
	fs.Var(durationValue{&d}, name, usage+" (a `duration` such as 90s, 15m, 2h or 1d)")
	return &d
}

// readFileArg reads the file a FILE argument names, or standard input for "-".
func readFileArg(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name) // #nosec G304 -- a path the operator names on the command line
}

// parseFileArg parses the arguments of a verb that takes one FILE (- for stdin) and
// checks it before it opens the database, and reads the file.
func parseFileArg(fs *flag.FlagSet, args []string) ([]byte, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errUsage
	}
	return readFileArg(fs.Arg(0))
}

func configFlag(fs *flag.FlagSet, e *env) *string {
	def := ""
	for _, kv := range e.environ {
		if v, ok := strings.CutPrefix(kv, "SEALPOST_CONFIG="); ok {
			def = v
		}
	}
	return fs.String("config", def, "TOML config file (or SEALPOST_CONFIG); SEALPOST_* variables override it")
}

func loadConfig(e *env, path string) (*config.Config, error) {
	return config.Load(path, devDataEnviron(e, path))
}

func logger(c *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func configCmd(e *env, args []string) error {
	fs := flags(e, "config", "config [--config FILE]", `
Prints every setting as TOML, with what it does and its environment variable: the
defaults, or with --config (or SEALPOST_CONFIG) the values that file and the SEALPOST_*
environment give. Every problem in them is reported at once. Secrets are not shown.`)
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(e, *cfg)
	if err != nil {
		return err
	}
	return c.Write(e.stdout)
}
