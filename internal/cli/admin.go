package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// admin is an open database and tenant service for one CLI action.
type admin struct {
	cfg     *config.Config
	db      *store.DB
	tenants *tenant.Service
}

func openAdmin(e *env, cfgPath string) (*admin, error) {
	cfg, err := loadConfig(e, cfgPath)
	if err != nil {
		return nil, err
	}
	ring, err := server.LoadKeyring(cfg)
	if err != nil {
		return nil, err
	}
	db, err := server.OpenDB(context.Background(), cfg, logger(cfg, e.stderr))
	if err != nil {
		return nil, err
	}
	return &admin{cfg: cfg, db: db, tenants: tenant.New(db, ring)}, nil
}

func (a *admin) close() { a.db.Close() }

// openTenant opens the database and finds the tenant a command acts on; the caller
// closes the admin.
func openTenant(e *env, cfgPath, name string) (*admin, *store.Tenant, error) {
	a, err := openAdmin(e, cfgPath)
	if err != nil {
		return nil, nil, err
	}
	t, err := a.tenant(name)
	if err != nil {
		a.close()
		return nil, nil, err
	}
	return a, t, nil
}

// tenantFlags adds the --config and --tenant flags every per-tenant command takes.
func tenantFlags(fs *flag.FlagSet, e *env) (cfg, ten *string) {
	return configFlag(fs, e), fs.String("tenant", "", "tenant name or id")
}

// parseTenant parses a per-tenant command's arguments, insists on exactly nargs
// positional ones, and opens the database and the tenant --tenant names.
func parseTenant(e *env, fs *flag.FlagSet, args []string, nargs int, cfgPath, name *string) (*admin, *store.Tenant, error) {
	if err := parse(fs, args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() != nargs {
		fs.Usage()
		return nil, nil, errUsage
	}
	return openTenant(e, *cfgPath, *name)
}

func (a *admin) tenant(name string) (*store.Tenant, error) {
	if name == "" {
		return nil, errors.New("--tenant is required")
	}
	t, err := a.db.Tenant(context.Background(), name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no tenant %q (see `sealpost tenant list`)", name)
	}
	return t, err
}

// sub dispatches "<cmd> <verb> …" to a verb's function.
func sub(e *env, name string, args []string, verbs map[string]func(*env, []string) error, help string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(e.stdout, "Usage: sealpost %s <verb> [flags]\n\n%s\n", name, strings.TrimSpace(help))
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	f, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "sealpost %s: unknown verb %q\n", name, args[0])
		return errUsage
	}
	return f(e, args[1:])
}

func table(e *env) *tabwriter.Writer { return tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0) }

func tenantCmd(e *env, args []string) error {
	return sub(e, "tenant", args, map[string]func(*env, []string) error{
		"create": tenantCreate, "list": tenantList, "shred": tenantShred,
	}, `
Verbs:
  create NAME   make a tenant (an organisation) with its own data key
  list          list tenants
  shred NAME    destroy a tenant's data key: its stored messages become unreadable forever`)
}

func tenantCreate(e *env, args []string) error {
	fs := flags(e, "tenant create", "tenant create NAME", "Creates a tenant. NAME: lowercase letters, digits, hyphens.")
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	t, err := a.tenants.Create(context.Background(), fs.Arg(0))
	if err != nil {
		return err
	}
	if err := a.record("tenant.create", t.ID, t.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tenant %s created (id %s)\nnext: sealpost domain add --tenant %s YOUR-DOMAIN\n", t.Name, t.ID, t.Name)
	return nil
}

func tenantList(e *env, args []string) error {
	fs := flags(e, "tenant list", "tenant list", "Lists tenants.")
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	ts, err := a.db.Tenants(context.Background())
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "NAME\tID\tCREATED\tKEY")
	for _, t := range ts {
		if t.Name == tenant.InstanceName { // the operators' scope, not a tenant
			continue
		}
		state := "live"
		if t.Shredded {
			state = "shredded"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Name, t.ID, t.CreatedAt.Format(time.RFC3339), state)
	}
	return w.Flush()
}

func tenantShred(e *env, args []string) error {
	fs := flags(e, "tenant shred", "tenant shred NAME --yes", "Destroys the tenant's data key. Everything sealed under it (messages, templates, DKIM keys) becomes unreadable. This cannot be undone.")
	cfg := configFlag(fs, e)
	yes := fs.Bool("yes", false, "confirm")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !*yes {
		fmt.Fprintln(e.stderr, "refusing without a tenant name and --yes")
		return errUsage
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	t, err := a.tenant(fs.Arg(0))
	if err != nil {
		return err
	}
	if err := a.tenants.Shred(context.Background(), t.ID); err != nil {
		return err
	}
	if err := a.record("tenant.shred", t.ID, t.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tenant %s: data key destroyed\n", t.Name)
	return nil
}

func domainCmd(e *env, args []string) error {
	return sub(e, "domain", args, map[string]func(*env, []string) error{
		"add": domainAdd, "list": domainList, "verify": domainVerify,
	}, `
Verbs:
  add --tenant T DOMAIN [--verified]   claim a sender domain; prints the TXT record that proves ownership
  verify --tenant T DOMAIN             look up that TXT record and mark the domain verified
  list --tenant T                      list the tenant's domains`)
}

func domainAdd(e *env, args []string) error {
	fs := flags(e, "domain add", "domain add --tenant T DOMAIN [--verified]", "Claims a sender domain for a tenant. Mail can only be sent from verified domains.")
	cfg, ten := tenantFlags(fs, e)
	verified := fs.Bool("verified", false, "mark verified now, without the DNS check (you vouch for it)")
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	d, err := a.tenants.AddDomain(context.Background(), t.ID, fs.Arg(0), *verified)
	if err != nil {
		return err
	}
	if err := a.record("domain.add", t.ID, d.Name); err != nil {
		return err
	}
	if d.Verified {
		fmt.Fprintf(e.stdout, "domain %s added and verified for %s\nnext: sealpost dkim keygen --tenant %s --domain %s\n", d.Name, t.Name, t.Name, d.Name)
		return nil
	}
	name, value := tenant.VerifyRecord(d)
	fmt.Fprintf(e.stdout, "domain %s added for %s. Publish this record, then run `sealpost domain verify --tenant %s %s`:\n\n  %s. IN TXT \"%s\"\n", d.Name, t.Name, t.Name, d.Name, name, value)
	return nil
}

func domainVerify(e *env, args []string) error {
	fs := flags(e, "domain verify", "domain verify --tenant T DOMAIN", "Checks the domain's _sealpost TXT record through the configured resolver.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.tenants.VerifyDomain(context.Background(), server.Resolver(a.cfg.Delivery.DNSServer), t.ID, fs.Arg(0)); err != nil {
		return err
	}
	if err := a.record("domain.verify", t.ID, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "domain %s verified\n", fs.Arg(0))
	return nil
}

func domainList(e *env, args []string) error {
	fs := flags(e, "domain list", "domain list --tenant T", "Lists a tenant's domains.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ds, err := a.db.Domains(context.Background(), t.ID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "DOMAIN\tVERIFIED")
	for _, d := range ds {
		fmt.Fprintf(w, "%s\t%v\n", d.Name, d.Verified)
	}
	return w.Flush()
}

// parseExpiry reads a lifetime ("90d", "720h", "1d12h") or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "" || s == "never" {
		return time.Time{}, nil
	}
	if d, err := duration.ParsePositive(s); err == nil {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--expires %q: want 90d, 720h, an RFC 3339 time or never", s)
}
