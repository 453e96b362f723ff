package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sealpost/sealpost/internal/campaign"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/strictjson"
)

// The campaign commands call the same campaign.Service methods as the API. The
// console's actor is the operating-system user (cli:<name>): a campaign one user
// created must be approved by another user (or an API credential, or a person in
// the dashboard). Sending runs in `sealpost serve`, not here.

func campaignCmd(e *env, args []string) error {
	return sub(e, "campaign", args, tenantVerbs("campaign", campaignService, cpErr, map[string]tenantVerb[*campaign.Service]{
		"create":     {usage: "campaign create --tenant T FILE.json", about: "Creates a draft campaign from a JSON spec.", nargs: 1, run: campaignCreate},
		"list":       {usage: "campaign list --tenant T", about: "Lists campaigns, newest first.", run: campaignList},
		"show":       {usage: "campaign show --tenant T ID", about: "Shows a campaign as JSON.", nargs: 1, run: showJSON((*campaign.Service).Get)},
		"report":     {usage: "campaign report --tenant T ID", about: "Prints a campaign's report as JSON.", nargs: 1, run: showJSON((*campaign.Service).Report)},
		"conversion": {usage: "campaign conversion --tenant T ID --value CENTS [--contact ID] [--key KEY]", about: "Records a conversion; a repeated --key counts once.", nargs: 1, flags: campaignConversion},
		"approve":    campaignVerb("approve", (*campaign.Service).Approve),
		"schedule":   campaignVerb("schedule", (*campaign.Service).Schedule),
		"pause":      campaignVerb("pause", (*campaign.Service).Pause),
		"resume":     campaignVerb("resume", (*campaign.Service).Resume),
		"cancel":     campaignVerb("cancel", (*campaign.Service).Cancel),
	}), `
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
		return fieldProblems(ie.Title, ie.Fields)
	}
	return mkErr(err)
}

// campaignCall is what a campaign verb acts with.
type campaignCall = verbCall[*campaign.Service]

func campaignCreate(c *campaignCall) error {
	raw, err := os.ReadFile(c.args[0])
	if err != nil {
		return err
	}
	var in campaign.Input
	if err := strictjson.Decode(raw, &in); err != nil {
		return fmt.Errorf("%s: %w", c.args[0], err)
	}
	cp, err := c.s.Create(c.ctx, c.tenant.ID, cliPrincipal(), &in, c.entry("campaign.create"))
	if err != nil {
		return err
	}
	fmt.Fprintln(c.e.stdout, cp.ID)
	return nil
}

func campaignList(c *campaignCall) error {
	cs, err := c.s.List(c.ctx, c.tenant.ID, 200)
	if err != nil {
		return err
	}
	tw := table(c.e)
	fmt.Fprintln(tw, "ID\tSTATE\tNAME\tCREATED")
	for _, cp := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cp.ID, cp.State, cp.Name, cp.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func campaignConversion(fs *flagSet) func(*campaignCall) error {
	value := fs.Int64("value", 0, "value in minor units (cents)")
	contact := fs.String("contact", "", "the contact who converted")
	key := fs.String("key", "", "idempotency key: the same key counts once")
	return func(c *campaignCall) error {
		counted, err := c.s.AddConversion(c.ctx, c.tenant.ID, c.args[0], &campaign.ConversionInput{Contact: *contact, Value: *value, Key: *key}, c.entry("campaign.conversion"))
		if err != nil {
			return err
		}
		if !counted {
			fmt.Fprintln(c.e.stdout, "already recorded")
		}
		return nil
	}
}

// campaignVerb is one of the state changes.
func campaignVerb(name string, act func(*campaign.Service, context.Context, string, string, string, *store.AuditEntry) (*campaign.Campaign, error)) tenantVerb[*campaign.Service] {
	return tenantVerb[*campaign.Service]{usage: "campaign " + name + " --tenant T ID", about: "Moves the campaign on: " + name + ".", nargs: 1,
		run: func(c *campaignCall) error {
			cp, err := act(c.s, c.ctx, c.tenant.ID, c.args[0], cliPrincipal(), c.entry("campaign."+name))
			if err != nil {
				return err
			}
			fmt.Fprintln(c.e.stdout, cp.State)
			return nil
		}}
}
