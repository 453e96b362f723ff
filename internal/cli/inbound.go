package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/store"
)

func inboundCmd(e *env, args []string) error {
	return sub(e, "inbound", args, map[string]func(*env, []string) error{
		"add": inboundAdd, "domains": inboundDomains, "remove": inboundRemove,
		"list": inboundList, "show": inboundShow, "release": inboundRelease, "delete": inboundDelete,
	}, `
The inbound gateway takes mail for a tenant's protected domains on the inbound listener
(smtp.inbound, port 25): point the domain's MX record at this server. Each message is
checked — SPF, DKIM, DMARC, dangerous attachments (executables, macro documents,
encrypted archives), optionally DLP — stamped with Authentication-Results, and
forwarded over verified TLS to the domain's smart host, or held in quarantine.
Mail for any other domain is refused (550 5.7.1).

Verbs:
  add --tenant T --domain D --smart-host HOST:PORT [--dmarc quarantine|reject|none]
      [--attachments quarantine|none] [--dlp quarantine|none]
                    protect D (a verified domain of T, or a subdomain of one);
                    HOST is the mailbox service, e.g. aspmx.l.google.com:25
                    (Google Workspace) or <tenant>.mail.protection.outlook.com:25
                    (Microsoft 365)
  domains --tenant T
                    list the protected domains
  remove --tenant T ID
                    stop protecting a domain
  list --tenant T [--status quarantined]
                    list inbound messages, newest first
  show --tenant T ID
                    show one message's envelope, verdict and reasons
  release --tenant T ID
                    forward a held message (the running server sends it)
  delete --tenant T ID
                    delete a held message and purge its content`)
}

// inboundService is the gateway's service over the CLI's database: enough to manage
// domains and decide on quarantined mail; the running server forwards.
func inboundService(a *admin) *inbound.Service {
	return inbound.New(a.db, a.tenants, nil, nil, inbound.Config{Hostname: a.cfg.Hostname}, nil)
}

func inboundAdd(e *env, args []string) error {
	fs := flags(e, "inbound add", "inbound add --tenant T --domain D --smart-host HOST:PORT [--dmarc A] [--attachments A] [--dlp A]", "Protects a domain with the inbound gateway.")
	cfg, ten := tenantFlags(fs, e)
	domain := fs.String("domain", "", "the domain whose MX points at this server")
	smart := fs.String("smart-host", "", "host:port mail that passes is forwarded to, over verified TLS")
	dmarc := fs.String("dmarc", "", "on DMARC failure under the sender's reject policy: quarantine (default), reject or none")
	att := fs.String("attachments", "", "executables, macro documents, encrypted archives: quarantine (default) or none")
	dlp := fs.String("dlp", "", "sensitive data found by the tenant's DLP rules: quarantine or none (default)")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	d, err := inboundService(a).AddDomain(context.Background(), t.ID, inbound.DomainOptions{Domain: *domain, SmartHost: *smart, DMARC: *dmarc, Attachments: *att, DLP: *dlp})
	if err != nil {
		return cliFields(err)
	}
	if err := a.record("inbound.domain_add", t.ID, d.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "inbound domain %s: %s forwarded to %s (dmarc %s, attachments %s, dlp %s)\n", d.ID, d.Domain, d.SmartHost, d.DMARCAction, d.AttachmentAction, d.DLPAction)
	fmt.Fprintf(e.stdout, "publish: %s. MX 10 %s.\n", d.Domain, a.cfg.Hostname)
	return nil
}

// cliFields names each invalid flag.
func cliFields(err error) error {
	var lines []string
	var one *inbound.InvalidError
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range multi.Unwrap() {
			if errors.As(e, &one) {
				lines = append(lines, "--"+strings.NewReplacer("_action", "", "smart_host", "smart-host", "attachment", "attachments").Replace(one.Field)+": "+one.Msg)
			}
		}
	}
	if len(lines) == 0 {
		return err
	}
	return errors.New(strings.Join(lines, "; "))
}

func inboundDomains(e *env, args []string) error {
	fs := flags(e, "inbound domains", "inbound domains --tenant T", "Lists a tenant's protected domains.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ds, err := inboundService(a).Domains(context.Background(), t.ID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tDOMAIN\tSMART HOST\tDMARC\tATTACHMENTS\tDLP")
	for _, d := range ds {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Domain, d.SmartHost, d.DMARCAction, d.AttachmentAction, d.DLPAction)
	}
	return w.Flush()
}

func inboundRemove(e *env, args []string) error {
	fs := flags(e, "inbound remove", "inbound remove --tenant T ID", "Stops protecting a domain: its mail is refused from now on.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if err := inboundService(a).RemoveDomain(context.Background(), t.ID, fs.Arg(0)); err != nil {
		return fmt.Errorf("remove %s: %w", fs.Arg(0), err)
	}
	return a.record("inbound.domain_remove", t.ID, fs.Arg(0))
}

func inboundList(e *env, args []string) error {
	fs := flags(e, "inbound list", "inbound list --tenant T [--status S] [--limit N]", "Lists inbound messages, newest first.")
	cfg, ten := tenantFlags(fs, e)
	status := fs.String("status", "", "queued, quarantined, forwarded, deleted or failed; all when empty")
	limit := fs.Int("limit", 50, "at most this many")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ms, err := inboundService(a).List(context.Background(), t.ID, *status, "", *limit)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tRECEIVED\tSTATUS\tREASONS\tDMARC\tFROM\tSUBJECT")
	for _, m := range ms {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.CreatedAt.UTC().Format("2006-01-02 15:04"), m.Status, strings.Join(m.Reasons, ","),
			m.Verdict.DMARC, m.Envelope.From, m.Envelope.Subject)
	}
	return w.Flush()
}

func inboundShow(e *env, args []string) error {
	fs := flags(e, "inbound show", "inbound show --tenant T ID", "Shows one inbound message's envelope, verdict and reasons (never its content).")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	m, err := inboundService(a).Get(context.Background(), t.ID, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("show %s: %w", fs.Arg(0), err)
	}
	v := m.Verdict
	fmt.Fprintf(e.stdout, "id:          %s\nstatus:      %s\nreasons:     %s\nreceived:    %s from %s [%s]\nmail from:   %s\nrecipients:  %s\nfrom:        %s\nsubject:     %s\nattachments: %s\n",
		m.ID, m.Status, strings.Join(m.Reasons, ", "), m.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), m.Envelope.Helo, m.Envelope.ClientIP,
		m.Envelope.MailFrom, strings.Join(m.Envelope.Rcpts, ", "), m.Envelope.From, m.Envelope.Subject, strings.Join(m.Envelope.Attachments, ", "))
	fmt.Fprintf(e.stdout, "spf:         %s (%s)\n", v.SPF, v.SPFDomain)
	for _, s := range v.DKIM {
		fmt.Fprintf(e.stdout, "dkim:        %s (d=%s)\n", s.Result, s.Domain)
	}
	fmt.Fprintf(e.stdout, "dmarc:       %s (policy %s, from %s)\n", v.DMARC, v.Policy, v.From)
	if v.ARC != "" {
		fmt.Fprintf(e.stdout, "arc:         %s\n", v.ARC)
	}
	if m.LastError != "" {
		fmt.Fprintf(e.stdout, "last error:  %s\n", m.LastError)
	}
	return nil
}

func inboundRelease(e *env, args []string) error {
	return inboundDecide(e, args, "release", "Forwards a held message: the running server sends it.")
}

func inboundDelete(e *env, args []string) error {
	return inboundDecide(e, args, "delete", "Deletes a held message and purges its content.")
}

func inboundDecide(e *env, args []string, verb, help string) error {
	fs := flags(e, "inbound "+verb, "inbound "+verb+" --tenant T ID", help)
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	svc := inboundService(a)
	act := svc.Delete
	if verb == "release" {
		act = svc.Release
	}
	err = act(context.Background(), t.ID, fs.Arg(0), cliPrincipal(), "")
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s %s: no such message", verb, fs.Arg(0))
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, fs.Arg(0), err)
	}
	fmt.Fprintf(e.stdout, "%sd %s\n", strings.TrimSuffix(verb, "e"), fs.Arg(0))
	return nil
}
