package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sealpost/sealpost/internal/journey"
	"github.com/sealpost/sealpost/internal/report"
)

func journeyCmd(e *env, args []string) error {
	return sub(e, "journey", args, map[string]func(*env, []string) error{
		"create": journeyCreate, "list": journeyList, "show": journeyShow,
		"activate": journeyState(journey.Active), "pause": journeyState(journey.Paused), "archive": journeyState(journey.Archived),
		"event": journeyEvent, "runs": journeyRuns, "report": journeyReport,
	}, `
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

func journeyCreate(e *env, args []string) error {
	fs := flags(e, "journey create", "journey create --tenant T FILE", "Creates a journey (a draft) from a JSON definition file (- for stdin); every problem is printed with its path.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	var data []byte
	if fs.Arg(0) == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(fs.Arg(0))
	}
	if err != nil {
		return err
	}
	j, err := a.journeys(e).Create(context.Background(), t.ID, data, a.entry("journey.create", t.ID))
	if err != nil {
		return mkErr(err)
	}
	fmt.Fprintf(e.stderr, "journey created as a draft; start it with `sealpost journey activate --tenant %s %s`\n", t.Name, j.ID)
	fmt.Fprintln(e.stdout, j.ID)
	return nil
}

func journeyList(e *env, args []string) error {
	fs := flags(e, "journey list", "journey list --tenant T", "Lists a tenant's journeys.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	js, err := a.journeys(e).List(context.Background(), t.ID, "", 500)
	if err != nil {
		return err
	}
	tw := table(e)
	fmt.Fprintln(tw, "ID\tSTATE\tTRIGGER\tNAME")
	for _, j := range js {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.ID, j.State, j.Trigger, j.Name)
	}
	return tw.Flush()
}

func journeyShow(e *env, args []string) error {
	fs := flags(e, "journey show", "journey show --tenant T ID", "Prints a journey as JSON.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	j, err := a.journeys(e).Get(context.Background(), t.ID, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("journey %s: %w", fs.Arg(0), err)
	}
	return printJSON(e, j)
}

func journeyState(state string) func(*env, []string) error {
	verb := map[string]string{journey.Active: "activate", journey.Paused: "pause", journey.Archived: "archive"}[state]
	return func(e *env, args []string) error {
		fs := flags(e, "journey "+verb, "journey "+verb+" --tenant T ID", "Moves a journey to "+state+".")
		cfg, ten := tenantFlags(fs, e)
		a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
		if err != nil {
			return err
		}
		defer a.close()
		j, err := a.journeys(e).SetState(context.Background(), t.ID, fs.Arg(0), state, a.entry("journey."+verb, t.ID))
		if err != nil {
			return fmt.Errorf("journey %s: %w", fs.Arg(0), mkErr(err))
		}
		fmt.Fprintf(e.stdout, "journey %s is %s\n", j.ID, j.State)
		return nil
	}
}

func journeyEvent(e *env, args []string) error {
	fs := flags(e, "journey event", "journey event --tenant T --contact C --key K NAME", "Reports an event: starts a run in every active journey it triggers. The key names the event; the same key again starts nothing.")
	cfg, ten := tenantFlags(fs, e)
	contact := fs.String("contact", "", "contact id")
	key := fs.String("key", "", "idempotency key naming this event")
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	res, err := a.journeys(e).Trigger(context.Background(), t.ID, &journey.EventInput{Contact: *contact, Event: fs.Arg(0), IdempotencyKey: *key})
	if err != nil {
		return mkErr(err)
	}
	return printJSON(e, res)
}

func journeyRuns(e *env, args []string) error {
	fs := flags(e, "journey runs", "journey runs --tenant T ID", "Lists a journey's runs.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	rs, err := a.journeys(e).Runs(context.Background(), t.ID, fs.Arg(0), "", 500)
	if err != nil {
		return fmt.Errorf("journey %s: %w", fs.Arg(0), err)
	}
	tw := table(e)
	fmt.Fprintln(tw, "RUN\tCONTACT\tSTATE\tSTEP\tREASON")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Contact, r.State, r.Step, r.Reason)
	}
	return tw.Flush()
}

func journeyReport(e *env, args []string) error {
	fs := flags(e, "journey report", "journey report --tenant T ID", "Counts per step: runs that took it, sends, deliveries and people's clicks.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	rep, err := a.journeys(e).Report(context.Background(), t.ID, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("journey %s: %w", fs.Arg(0), err)
	}
	tw := table(e)
	fmt.Fprintln(tw, "STEP\tTYPE\tENTERED\tSENT\tDELIVERED\tHUMAN CLICKS\tOUTCOMES")
	for _, s := range rep.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%v\n", s.Step, s.Type, s.Entered, s.Sent, s.Delivered, s.HumanClicks, s.Outcomes)
	}
	return tw.Flush()
}
