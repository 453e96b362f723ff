package cli

import (
	"fmt"

	"github.com/sealpost/sealpost/internal/journey"
	"github.com/sealpost/sealpost/internal/report"
)

func journeyCmd(e *env, args []string) error {
	return sub(e, "journey", args, tenantVerbs("journey", (*admin).journeys, nil, map[string]tenantVerb[*journey.Service]{
		"create":   {usage: "journey create --tenant T FILE", about: "Creates a journey (a draft) from a JSON definition file (- for stdin); every problem is printed with its path.", nargs: 1, run: journeyCreate},
		"list":     {usage: "journey list --tenant T", about: "Lists a tenant's journeys.", run: journeyList},
		"show":     {usage: "journey show --tenant T ID", about: "Prints a journey as JSON.", nargs: 1, run: journeyShow},
		"activate": journeyState("activate", journey.Active),
		"pause":    journeyState("pause", journey.Paused),
		"archive":  journeyState("archive", journey.Archived),
		"event": {usage: "journey event --tenant T --contact C --key K NAME", nargs: 1, flags: journeyEvent,
			about: "Reports an event: starts a run in every active journey it triggers. The key names the event; the same key again starts nothing."},
		"runs":   {usage: "journey runs --tenant T ID", about: "Lists a journey's runs.", nargs: 1, run: journeyRuns},
		"report": {usage: "journey report --tenant T ID", about: "Counts per step: runs that took it, sends, deliveries and people's clicks.", nargs: 1, run: journeyReport},
	}), `
Verbs:
  create --tenant T FILE   create a journey (a draft) from a JSON definition (- reads stdin)
  list --tenant T          list journeys and their states
  show --tenant T ID       print a journey as JSON
  activate|pause|archive --tenant T ID
                           change its state: only an active journey starts runs and takes
                           steps; a paused one keeps every run where it is
  event --tenant T --contact C --key K NAME
                           report an event: starts a run in each active journey it
                           triggers (the same key again starts nothing)
  runs --tenant T ID       list a journey's runs
  report --tenant T ID     counts per step: entered, outcomes, sent, delivered, human clicks

Steps are taken by the running server (sealpost serve, worker role).

A definition (the same JSON as POST /v1/journeys):
  {"name": "Refill reminders", "from": "care@clinic.example",
   "trigger": {"event": "refill_due"},
   "steps": [
     {"id": "hello", "type": "send", "subject": "Hi {{first_name}}", "html": "<a href=\"https://clinic.example/refill\">Order</a>", "track": true},
     {"id": "pause", "type": "wait", "duration": "2d"},
     {"id": "check", "type": "branch", "if": {"clicked": {"step": "hello", "within": "3d"}}, "then": "done", "else": "nudge"},
     {"id": "nudge", "type": "send", "subject": "A reminder", "text": "Your refill is waiting."},
     {"id": "done", "type": "exit"}]}
Triggers: {"event": NAME}, {"date_field": F, "offset_days": -3} (days before the date), {"segment": ID}.
Branch conditions: {"clicked": {...}}, {"portal_viewed": {...}}, {"field": SEGMENT-FILTER}.`)
}

func (a *admin) journeys(e *env) *journey.Service {
	return &journey.Service{DB: a.db, Tenants: a.tenants, Marketing: mkService(a, e), Reports: report.New(a.db, a.tenants), Log: logger(a.cfg, e.stderr)}
}

// journeyCall is what a journey verb acts with.
type journeyCall = verbCall[*journey.Service]

func journeyCreate(c *journeyCall) error {
	data, err := readFileArg(c.args[0])
	if err != nil {
		return err
	}
	j, err := c.s.Create(c.ctx, c.tenant.ID, data, c.entry("journey.create"))
	if err != nil {
		return mkErr(err)
	}
	fmt.Fprintf(c.e.stderr, "journey created as a draft; start it with `sealpost journey activate --tenant %s %s`\n", c.tenant.Name, j.ID)
	fmt.Fprintln(c.e.stdout, j.ID)
	return nil
}

func journeyList(c *journeyCall) error {
	js, err := c.s.List(c.ctx, c.tenant.ID, "", 500)
	if err != nil {
		return err
	}
	tw := table(c.e)
	fmt.Fprintln(tw, "ID\tSTATE\tTRIGGER\tNAME")
	for _, j := range js {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.ID, j.State, j.Trigger, j.Name)
	}
	return tw.Flush()
}

func journeyShow(c *journeyCall) error {
	j, err := c.s.Get(c.ctx, c.tenant.ID, c.args[0])
	if err != nil {
		return fmt.Errorf("journey %s: %w", c.args[0], err)
	}
	return printJSON(c.e, j)
}

// journeyState is the verb that moves a journey to state.
func journeyState(verb, state string) tenantVerb[*journey.Service] {
	return tenantVerb[*journey.Service]{usage: "journey " + verb + " --tenant T ID", about: "Moves a journey to " + state + ".", nargs: 1,
		run: func(c *journeyCall) error {
			j, err := c.s.SetState(c.ctx, c.tenant.ID, c.args[0], state, c.entry("journey."+verb))
			if err != nil {
				return fmt.Errorf("journey %s: %w", c.args[0], mkErr(err))
			}
			fmt.Fprintf(c.e.stdout, "journey %s is %s\n", j.ID, j.State)
			return nil
		}}
}

func journeyEvent(fs *flagSet) func(*journeyCall) error {
	contact := fs.String("contact", "", "contact id")
	key := fs.String("key", "", "idempotency key naming this event")
	return func(c *journeyCall) error {
		res, err := c.s.Trigger(c.ctx, c.tenant.ID, &journey.EventInput{Contact: *contact, Event: c.args[0], IdempotencyKey: *key})
		if err != nil {
			return mkErr(err)
		}
		return printJSON(c.e, res)
	}
}

func journeyRuns(c *journeyCall) error {
	rs, err := c.s.Runs(c.ctx, c.tenant.ID, c.args[0], "", 500)
	if err != nil {
		return fmt.Errorf("journey %s: %w", c.args[0], err)
	}
	tw := table(c.e)
	fmt.Fprintln(tw, "RUN\tCONTACT\tSTATE\tSTEP\tREASON")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Contact, r.State, r.Step, r.Reason)
	}
	return tw.Flush()
}

func journeyReport(c *journeyCall) error {
	rep, err := c.s.Report(c.ctx, c.tenant.ID, c.args[0])
	if err != nil {
		return fmt.Errorf("journey %s: %w", c.args[0], err)
	}
	tw := table(c.e)
	fmt.Fprintln(tw, "STEP\tTYPE\tENTERED\tSENT\tDELIVERED\tHUMAN CLICKS\tOUTCOMES")
	for _, s := range rep.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%v\n", s.Step, s.Type, s.Entered, s.Sent, s.Delivered, s.HumanClicks, s.Outcomes)
	}
	return tw.Flush()
}
