package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/portal/view"
)

func archiveCmd(e *env, args []string) error {
	return sub(e, "archive", args, map[string]func(*env, []string) error{
		"search": archiveSearch, "show": archiveShow, "export": archiveExport, "hold": archiveHold,
		"release-hold": archiveReleaseHold, "retention": archiveRetention, "verify": archiveVerify, "verify-export": archiveVerifyExport,
	}, `
The archive is the sealed journal of every message accepted, in and out. Every search,
view and export is recorded in the audit trail.

Verbs:
  search  --tenant T [criteria]        find entries: --from --to --address --subject --body
                                       --attachment --direction --tag --campaign --since --until
  show    --tenant T ID [--raw]        print one entry (its text, or the whole message)
  export  --tenant T --out FILE [--format zip|mbox] [criteria]
                                       write a signed bundle (see verify-export)
  hold    --tenant T --name N [criteria] | --list   place a legal hold, or list holds
  release-hold --tenant T ID           end a hold
  retention --tenant T [--set DAYS [--direction D | --tag T | --campaign C] | --delete ID | --purge]
                                       list, set or delete retention rules; --purge shreds
                                       what has expired and is not held
  verify  [--tenant T]                 prove every entry matches the digest the audit chain
                                       recorded, or name each changed, deleted, inserted or
                                       reordered entry (exit 1)
  verify-export FILE [--key PEM]       check a bundle's signature and every message's SHA-256`)
}

// queryFlags adds the search criteria to a command.
func queryFlags(fs *flag.FlagSet) func() (archive.Query, error) {
	q := archive.Query{}
	fs.StringVar(&q.From, "from", "", "sender: an address, or words of the name or address")
	fs.StringVar(&q.To, "to", "", "recipient: an address, or words of it")
	fs.StringVar(&q.Address, "address", "", "any participant's whole address")
	fs.StringVar(&q.Subject, "subject", "", "words of the subject (all must appear)")
	fs.StringVar(&q.Body, "body", "", "words of the body (all must appear)")
	fs.StringVar(&q.Attachment, "attachment", "", "an attachment's file name, or words of it")
	fs.StringVar(&q.Direction, "direction", "", "in or out")
	fs.StringVar(&q.Tag, "tag", "", "a tag the message was sent with")
	fs.StringVar(&q.Campaign, "campaign", "", "the campaign the message was sent for")
	since := fs.String("since", "", "from this date (2006-01-02 or RFC 3339), inclusive")
	until := fs.String("until", "", "to this date, exclusive")
	return func() (archive.Query, error) {
		var err error
		if q.Since, err = parseWhen(*since); err != nil {
			return q, fmt.Errorf("--since: %w", err)
		}
		if q.Until, err = parseWhen(*until); err != nil {
			return q, fmt.Errorf("--until: %w", err)
		}
		if bad := q.Validate(); len(bad) > 0 {
			return q, &archive.InvalidError{Fields: bad}
		}
		return q, nil
	}
}

func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// openArchive parses a per-tenant archive command and opens what it needs.
func openArchive(e *env, fs *flag.FlagSet, args []string, nargs int, cfg, ten *string) (*admin, *archive.Service, archive.Actor, error) {
	a, t, err := parseTenant(e, fs, args, nargs, cfg, ten)
	if err != nil {
		return nil, nil, archive.Actor{}, err
	}
	return a, archive.New(a.db, a.tenants, nil), archive.Actor{TenantID: t.ID, Principal: cliPrincipal(), Client: "cli"}, nil
}

func archiveSearch(e *env, args []string) error {
	fs := flags(e, "archive search", "archive search --tenant T [criteria]", "Finds archive entries; every criterion given must hold. Newest last.")
	cfg, ten := tenantFlags(fs, e)
	query := queryFlags(fs)
	limit := fs.Int("limit", 100, "entries per page (at most 500)")
	cursor := fs.String("cursor", "", "the next-page cursor a previous search printed")
	asJSON := fs.Bool("json", false, "print JSON")
	a, svc, who, err := openArchive(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	q, err := query()
	if err != nil {
		return err
	}
	page, err := svc.Search(context.Background(), who, q, *cursor, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, page)
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tAT\tDIR\tFROM\tSUBJECT")
	for _, r := range page.Results {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.At.Format(time.RFC3339), r.Direction, r.Meta.From, r.Meta.Subject)
	}
	w.Flush()
	if page.Next != "" {
		fmt.Fprintf(e.stdout, "more: --cursor %s\n", page.Next)
	}
	return nil
}

func archiveShow(e *env, args []string) error {
	fs := flags(e, "archive show", "archive show --tenant T ID [--raw]", "Prints one archive entry: its headers and text as the portal's viewer reads them, or with --raw the whole message.")
	cfg, ten := tenantFlags(fs, e)
	raw := fs.Bool("raw", false, "print the message as archived (RFC 5322)")
	a, svc, who, err := openArchive(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	entry, err := svc.Show(context.Background(), who, fs.Arg(0))
	if err != nil {
		return err
	}
	if *raw {
		_, err := e.stdout.Write(entry.Raw)
		return err
	}
	m, err := view.Parse(entry.Raw, view.Limits{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Entry:   %s (%s, %s)\nFrom:    %s\nTo:      %s\nSubject: %s\nDate:    %s\n", entry.ID, entry.Direction,
		entry.At.Format(time.RFC3339), m.From, strings.Join(entry.Meta.To, ", "), m.Subject, m.Date.Format(time.RFC1123Z))
	for _, at := range m.Attachments {
		fmt.Fprintf(e.stdout, "Attachment: %s (%s, %d bytes)\n", at.Filename, at.ContentType, at.Size)
	}
	fmt.Fprintf(e.stdout, "\n%s\n", m.Text)
	return nil
}

func archiveExport(e *env, args []string) error {
	fs := flags(e, "archive export", "archive export --tenant T --out FILE [--format zip|mbox] [criteria]", `
Writes the entries the criteria select (all, without criteria) to FILE as a zip bundle:
messages/*.eml (zip) or archive.mbox (mbox, mboxrd quoting), messages.sha256, and
MANIFEST.sha256 signed with the audit key (MANIFEST.sha256.sig, signing-key.pem).
Check it with "sealpost archive verify-export FILE", or with openssl as the README shows.`)
	cfg, ten := tenantFlags(fs, e)
	query := queryFlags(fs)
	out := fs.String("out", "", "the bundle to write")
	format := fs.String("format", archive.FormatZip, "zip (a .eml file per message) or mbox")
	a, svc, who, err := openArchive(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if *out == "" {
		return errors.New("--out is required")
	}
	q, err := query()
	if err != nil {
		return err
	}
	signer, err := audit.LoadOrCreateSigner(a.cfg.AuditKeyFile)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	rep, err := svc.Export(context.Background(), who, q, *format, signer.Key, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(e.stdout, "exported %d messages to %s\nmanifest sha256 %s, signed by key %s\n", rep.Messages, *out, rep.Manifest, signer.KeyID())
	return nil
}

func archiveHold(e *env, args []string) error {
	fs := flags(e, "archive hold", "archive hold --tenant T --name NAME [criteria] | --list [--all]", `
Places a legal hold: entries matching every criterion given are never purged, whatever
the retention rules say, until the hold is released. --address is kept only as a keyed
hash. With --list, prints the holds.`)
	cfg, ten := tenantFlags(fs, e)
	query := queryFlags(fs)
	name := fs.String("name", "", "what the hold is for (a matter, a request)")
	list := fs.Bool("list", false, "list active holds")
	all := fs.Bool("all", false, "with --list, released holds too")
	a, svc, who, err := openArchive(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ctx := context.Background()
	if *list {
		holds, err := svc.Holds(ctx, who, *all)
		if err != nil {
			return err
		}
		return printJSON(e, holds)
	}
	q, err := query()
	if err != nil {
		return err
	}
	// The hold's date range and address are its own; the other criteria form its query.
	h := archive.Hold{Name: *name, Since: q.Since, Until: q.Until, Address: q.Address}
	q.Since, q.Until, q.Address = time.Time{}, time.Time{}, ""
	if q != (archive.Query{}) {
		h.Query = &q
	}
	placed, err := svc.PlaceHold(ctx, who, h)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "hold %s placed\n", placed.ID)
	return nil
}

func archiveReleaseHold(e *env, args []string) error {
	fs := flags(e, "archive release-hold", "archive release-hold --tenant T ID", "Ends a legal hold; its entries follow the retention rules again.")
	cfg, ten := tenantFlags(fs, e)
	a, svc, who, err := openArchive(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if err := svc.ReleaseHold(context.Background(), who, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "hold %s released\n", fs.Arg(0))
	return nil
}

func archiveRetention(e *env, args []string) error {
	fs := flags(e, "archive retention", "archive retention --tenant T [--set DAYS [--direction D | --tag T | --campaign C] | --delete ID | --purge]", fmt.Sprintf(`
Without flags, lists the retention rules. Entries are kept %d days (seven years) unless
a rule says otherwise; a rule without direction, tag or campaign replaces that default.
When several rules match an entry the longest wins. Held entries are never purged.
--purge crypto-shreds every expired, unheld entry now and records it in the audit trail.`, archive.DefaultDays))
	cfg, ten := tenantFlags(fs, e)
	set := fs.Int("set", 0, "set a rule: keep matching entries this many days")
	dir := fs.String("direction", "", "with --set: in or out")
	tag := fs.String("tag", "", "with --set: entries sent with this tag")
	campaign := fs.String("campaign", "", "with --set: entries of this campaign")
	del := fs.String("delete", "", "delete the rule with this id")
	purge := fs.Bool("purge", false, "purge expired, unheld entries now")
	a, svc, who, err := openArchive(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ctx := context.Background()
	switch {
	case *set != 0:
		r, err := svc.SetRule(ctx, who, archive.Rule{Days: *set, Direction: *dir, Tag: *tag, Campaign: *campaign})
		if err != nil {
			return err
		}
		return printJSON(e, r)
	case *del != "":
		return svc.DeleteRule(ctx, who, *del)
	case *purge:
		rep, err := svc.Purge(ctx, who)
		if err != nil {
			return err
		}
		return printJSON(e, rep)
	}
	rules, err := svc.Rules(ctx, who)
	if err != nil {
		return err
	}
	return printJSON(e, rules)
}

func archiveVerify(e *env, args []string) error {
	fs := flags(e, "archive verify", "archive verify [--tenant T]", `
Checks the audit chain, then every archive entry against the digest the chain recorded
when it was journaled. Names each entry changed, deleted, inserted or reordered; exit 1
if any. Needs no tenant keys.`)
	cfg := configFlag(fs, e)
	ten := fs.String("tenant", "", "only this tenant (name or id)")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, db, signer, err := openAudit(e, *cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	tenantID := ""
	if *ten != "" {
		t, err := db.Tenant(ctx, *ten)
		if err != nil {
			return fmt.Errorf("tenant %q: %w", *ten, err)
		}
		tenantID = t.ID
	}
	chain, err := audit.Verify(ctx, db, signer.Public(), nil)
	if err != nil {
		return err
	}
	rep, err := archive.Verify(ctx, db, tenantID)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(e.stdout, p)
	}
	fmt.Fprintf(e.stdout, "%d entries (%d purged), %d problems\n", rep.Entries, rep.Purged, len(rep.Problems))
	if !chain.OK {
		fmt.Fprintf(e.stdout, "audit chain: %s\n", chain.Problem)
		return errors.New("the audit chain does not verify: the journal's digests cannot be trusted")
	}
	if !rep.OK() {
		return errors.New("the archive does not match its journal")
	}
	return nil
}

func archiveVerifyExport(e *env, args []string) error {
	fs := flags(e, "archive verify-export", "archive verify-export FILE [--key PEM]", `
Checks an export bundle: the manifest's Ed25519 signature, the SHA-256 of every listed
file and message, and that no message is unlisted. Without --key the bundle's own key
is used and its id printed: compare it with "sealpost audit pubkey".`)
	keyFile := fs.String("key", "", "PEM public key to trust (the audit key)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	var trusted ed25519.PublicKey
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return errors.New("--key: not PEM")
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return err
		}
		var ok bool
		if trusted, ok = k.(ed25519.PublicKey); !ok {
			return errors.New("--key: not an Ed25519 key")
		}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	chk, err := archive.VerifyExport(f, st.Size(), trusted)
	if err != nil {
		return err
	}
	for _, p := range chk.Problems {
		fmt.Fprintf(e.stdout, "%s: %s\n", p.File, p.Detail)
	}
	fmt.Fprintf(e.stdout, "%d files checked, signed by key %s, %d problems\n", chk.Files, chk.KeyID, len(chk.Problems))
	if len(chk.Problems) > 0 {
		return errors.New("the export does not verify")
	}
	return nil
}
