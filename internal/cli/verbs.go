package cli

import (
	"context"

	"github.com/sealpost/sealpost/internal/store"
)

// tenantVerb is one verb of a per-tenant command, as a line of its command's table:
// its usage line, its --help text, how many positional arguments it takes and what it
// does through the command's service S. Every such verb has --config and --tenant and
// opens the database and the tenant before it runs; that part is tenantVerbs'.
type tenantVerb[S any] struct {
	usage, about string // the usage line after "sealpost ", and what --help says
	nargs        int    // positional arguments, exactly
	run          func(c *verbCall[S]) error
	// flags, for a verb with flags of its own, declares them and returns the run that
	// reads them (in place of run).
	flags func(fs *flagSet) func(c *verbCall[S]) error
}

// verbCall is what a verb acts with.
type verbCall[S any] struct {
	ctx    context.Context
	e      *env
	a      *admin
	s      S             // the command's service
	tenant *store.Tenant // the tenant --tenant names
	args   []string      // the positional arguments
}

// entry is the audit entry of the verb's change to the tenant's data.
func (c *verbCall[S]) entry(action string) *store.AuditEntry {
	return c.a.entry(action, c.tenant.ID)
}

// tenantVerbs turns the table of a command's verbs into what sub runs: cmd is the
// command ("journey"), service builds the service every verb acts through, explain (if
// any) turns a verb's error into what people read.
func tenantVerbs[S any](cmd string, service func(*admin, *env) S, explain func(error) error, verbs map[string]tenantVerb[S]) map[string]func(*env, []string) error {
	out := make(map[string]func(*env, []string) error, len(verbs))
	for name, v := range verbs {
		out[name] = func(e *env, args []string) error {
			fs := flags(e, cmd+" "+name, v.usage, v.about)
			cfg, ten := tenantFlags(fs, e)
			run := v.run
			if v.flags != nil {
				run = v.flags(&flagSet{fs})
			}
			a, t, err := parseTenant(e, fs, args, v.nargs, cfg, ten)
			if err != nil {
				return err
			}
			defer a.close()
			err = run(&verbCall[S]{ctx: context.Background(), e: e, a: a, s: service(a, e), tenant: t, args: fs.Args()})
			if explain != nil {
				err = explain(err)
			}
			return err
		}
	}
	return out
}

// showJSON is a verb that prints, as indented JSON, what get returns for the object its
// one argument names.
func showJSON[S, T any](get func(s S, ctx context.Context, tenantID, id string) (T, error)) func(*verbCall[S]) error {
	return func(c *verbCall[S]) error {
		v, err := get(c.s, c.ctx, c.tenant.ID, c.args[0])
		if err != nil {
			return err
		}
		return printJSON(c.e, v)
	}
}

// removeByID is a verb that deletes the object its one argument names, audited as action.
func removeByID[S any](remove func(s S, ctx context.Context, tenantID, id string, audit *store.AuditEntry) error, action string) func(*verbCall[S]) error {
	return func(c *verbCall[S]) error {
		return remove(c.s, c.ctx, c.tenant.ID, c.args[0], c.entry(action))
	}
}
