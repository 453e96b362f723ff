package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sealpost/sealpost/internal/campaign"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/strictjson"
)

// The campaign commands call the same campaign.Service methods as the API. The
// console's actor is the operating-system user (cli:<name>): a campaign one user
// created must be approved by another user (or an API credential, or a person in
// the dashboard). Sending runs in `sealpost serve`, not here.

func campaignCmd(e *env, args []string) error {
	return sub(e, "campaign", args, map[string]func(*env, []string) error{
		"create": campaignCreate, "list": campaignList, "show": campaignShow, "report": campaignReportCmd, "conversion": campaignConversion,
		"approve": campaignVerb("approve", (*campaign.Service).Approve), "schedule": campaignVerb("schedule", (*campaign.Service).Schedule),
		"pause": campaignVerb("pause", (*campaign.Service).Pause), "resume": campaignVerb("resume", (*campaign.Service).Resume),
		"cancel": campaignVerb("cancel", (*campaign.Service).Cancel),
	}, `
Verbs:
  create --tenant T FILE.json
                    create a draft from a JSON spec (as POST /v1/campaigns takes);
                    every problem is printed with its field path
  list --tenant T   list campaigns, newest first
  show --tenant T ID
                    show a campaign
  approve --tenant T ID
                    approve a draft: another user than its creator
  schedule --tenant T ID
                    start an approved campaign at its send time (or now)
  pause|resume|cancel --tenant T ID
                    pause, resume or cancel it at any moment
  report --tenant T ID
                    recipients, skips, deliveries, human clicks, conversions
  conversion --tenant T ID --value CENTS [--contact ID] [--key KEY]
                    record a conversion the campaign led to

A spec names from, subject, text and/or html (templates over the contact fields the
consent allows), lists and/or segments, consent {kind, purpose}, schedule {send_at,
time_zone}, throttle_per_hour, ab {percent, wait_for, variants} and guards
{complaint_rate, bounce_rate, window}. Test sends: POST /v1/campaigns/{id}/test.`)
}

func campaignService(a *admin, e *env) *campaign.Service {
	return &campaign.Service{DB: a.db, Tenants: a.tenants, Marketing: mkService(a, e), Log: logger(a.cfg, e.stderr)}
}

// cpErr prints every problem of a validation error, one per line.
func cpErr(err error) error {
	var ie *campaign.InvalidError
	if errors.As(err, &ie) {
		var msgs []string
		for _, f := range ie.Fields {
			msgs = append(msgs, f.Field+": "+f.Detail)
		}
		return errors.New(ie.Title + "\n" + strings.Join(msgs, "\n"))
	}
	return mkErr(err)
}

func campaignVerbRun(e *env, name, usage, about string, nargs int, setup func(fs *flagSet), fn func(ctx context.Context, s *campaign.Service, a *admin, tenantID string, args []string) error, args []string) error {
	fs := flags(e, name, usage, about)
	cfg, ten := tenantFlags(fs, e)
	if setup != nil {
		setup(&flagSet{fs})
	}
	a, t, err := parseTenant(e, fs, args, nargs, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	return cpErr(fn(context.Background(), campaignService(a, e), a, t.ID, fs.Args()))
}

func campaignCreate(e *env, args []string) error {
	return campaignVerbRun(e, "campaign create", "campaign create --tenant T FILE.json", "Creates a draft campaign from a JSON spec.", 1, nil,
		func(ctx context.Context, s *campaign.Service, a *admin, tid string, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var in campaign.Input
			if err := strictjson.Decode(raw, &in); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			c, err := s.Create(ctx, tid, cliPrincipal(), &in, a.entry("campaign.create", tid))
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, c.ID)
			return nil
		}, args)
}

func campaignList(e *env, args []string) error {
	return campaignVerbRun(e, "campaign list", "campaign list --tenant T", "Lists campaigns, newest first.", 0, nil,
		func(ctx context.Context, s *campaign.Service, a *admin, tid string, args []string) error {
			cs, err := s.List(ctx, tid, 200)
			if err != nil {
				return err
			}
			tw := table(e)
			fmt.Fprintln(tw, "ID\tSTATE\tNAME\tCREATED")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.State, c.Name, c.CreatedAt.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		}, args)
}

func campaignShow(e *env, args []string) error {
	return campaignVerbRun(e, "campaign show", "campaign show --tenant T ID", "Shows a campaign as JSON.", 1, nil,
		func(ctx context.Context, s *campaign.Service, a *admin, tid string, args []string) error {
			c, err := s.Get(ctx, tid, args[0])
			if err != nil {
				return err
			}
			return printJSON(e, c)
		}, args)
}

func campaignReportCmd(e *env, args []string) error {
	return campaignVerbRun(e, "campaign report", "campaign report --tenant T ID", "Prints a campaign's report as JSON.", 1, nil,
		func(ctx context.Context, s *campaign.Service, a *admin, tid string, args []string) error {
			r, err := s.Report(ctx, tid, args[0])
			if err != nil {
				return err
			}
			return printJSON(e, r)
		}, args)
}

func campaignConversion(e *env, args []string) error {
	var value *int64
	var contact, key *string
	return campaignVerbRun(e, "campaign conversion", "campaign conversion --tenant T ID --value CENTS [--contact ID] [--key KEY]",
		"Records a conversion; a repeated --key counts once.", 1,
		func(fs *flagSet) {
			value = fs.Int64("value", 0, "value in minor units (cents)")
			contact = fs.String("contact", "", "the contact who converted")
			key = fs.String("key", "", "idempotency key: the same key counts once")
		},
		func(ctx context.Context, s *campaign.Service, a *admin, tid string, args []string) error {
			counted, err := s.AddConversion(ctx, tid, args[0], &campaign.ConversionInput{Contact: *contact, Value: *value, Key: *key}, a.entry("campaign.conversion", tid))
			if err != nil {
				return err
			}
			if !counted {
				fmt.Fprintln(e.stdout, "already recorded")
			}
			return nil
		}, args)
}

// campaignVerb is one of the state changes.
func campaignVerb(name string, act func(*campaign.Service, context.Context, string, string, string, *store.AuditEntry) (*campaign.Campaign, error)) func(*env, []string) error {
	return func(e *env, args []string) error {
		return campaignVerbRun(e, "campaign "+name, "campaign "+name+" --tenant T ID", "Moves the campaign on: "+name+".", 1, nil,
			func(ctx context.Context, s *campaign.Service, a *admin, tid string, args []string) error {
				c, err := act(s, ctx, tid, args[0], cliPrincipal(), a.entry("campaign."+name, tid))
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, c.State)
				return nil
			}, args)
	}
}
