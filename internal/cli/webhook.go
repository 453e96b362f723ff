package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/webhook"
)

func webhookCmd(e *env, args []string) error {
	return sub(e, "webhook", args, map[string]func(*env, []string) error{
		"add": webhookAdd, "list": webhookList, "remove": webhookRemove, "test": webhookTest, "rotate": webhookRotate,
		"enable": webhookEnable, "disable": webhookDisable, "attempts": webhookAttempts, "replay": webhookReplay,
	}, `
Verbs:
  add --tenant T URL [--types delivered,bounced] [--description D] [--include-address]
                    register an endpoint (https); its signing secret is printed once
  list --tenant T   list endpoints, their filters and state
  remove --tenant T ID
                    remove an endpoint and its pending deliveries
  test --tenant T ID
                    send a signed webhook.test delivery now and show the answer
  rotate --tenant T ID [--overlap 24h]
                    new signing secret, printed once; the old one signs beside it for --overlap
  enable|disable --tenant T ID
                    switch an endpoint on (clearing its failures) or off
  attempts --tenant T ID [--limit 50]
                    recent delivery attempts: time, status, latency, error
  replay --tenant T ID (--event ev_N | --since TIME [--until TIME])
                    deliver events again, with their original webhook-id

Every delivery is signed per Standard Webhooks (v1 HMAC-SHA256 with the endpoint's
secret, v1a Ed25519 with the account's key: GET /v1/webhooks/signing-key).
Event types: `+strings.Join(webhook.Types, ", "))
}

// webhookAdmin opens the database and the webhook service for a per-tenant verb.
type webhookAdmin struct {
	*admin
	svc *webhook.Service
}

func openWebhooks(a *admin, e *env) *webhookAdmin {
	resolver := server.Resolver(a.cfg.Delivery.DNSServer)
	return &webhookAdmin{admin: a, svc: server.WebhookService(a.cfg, a.db, a.tenants, resolver, nil, server.Options{}, logger(a.cfg, e.stderr))}
}

func fieldErrors(fe []*webhook.FieldError) error {
	var msgs []string
	for _, f := range fe {
		msgs = append(msgs, f.Field+": "+f.Detail)
	}
	return errors.New(strings.Join(msgs, "\n"))
}

func webhookAdd(e *env, args []string) error {
	fs := flags(e, "webhook add", "webhook add --tenant T URL [flags]", "Registers an endpoint. Events are POSTed to it as JSON, signed, and retried until it answers 2xx.")
	cfg, ten := tenantFlags(fs, e)
	types := fs.String("types", "*", "comma-separated event types, or * for all")
	desc := fs.String("description", "", "a note for people")
	addr := fs.Bool("include-address", false, "payloads carry the recipient's address (default: ids only)")
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	u, ts := fs.Arg(0), strings.Split(*types, ",")
	sp := &webhook.Spec{URL: &u, Types: &ts, IncludeAddress: addr}
	if *desc != "" {
		sp.Description = desc
	}
	w := openWebhooks(a, e)
	ep, secret, fe, err := w.svc.Create(context.Background(), t.ID, sp, a.entry("webhook.add", t.ID))
	if err != nil {
		return err
	}
	if fe != nil {
		return fieldErrors(fe)
	}
	fmt.Fprintf(e.stderr, "webhook %s added for %s (%s). Its signing secret, shown once:\n", ep.ID, t.Name, strings.Join(ep.Types, ","))
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func webhookList(e *env, args []string) error {
	fs := flags(e, "webhook list", "webhook list --tenant T", "Lists a tenant's webhook endpoints (never their secrets).")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	eps, err := openWebhooks(a, e).svc.List(context.Background(), t.ID)
	if err != nil {
		return err
	}
	tw := table(e)
	fmt.Fprintln(tw, "ID\tURL\tTYPES\tADDRESS\tSTATE")
	for _, ep := range eps {
		state := "enabled"
		switch {
		case !ep.Enabled:
			state = "disabled"
			if ep.DisabledReason != "" {
				state += ": " + ep.DisabledReason
			}
		case ep.FailingSince != nil:
			state = "failing since " + ep.FailingSince.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", ep.ID, ep.URL, strings.Join(ep.Types, ","), ep.IncludeAddress, state)
	}
	return tw.Flush()
}

// endpointArgs parses "--tenant T ID" and opens the webhook service; the caller closes it.
func endpointArgs(e *env, fs *flag.FlagSet, args []string, cfg, ten *string) (*webhookAdmin, string, string, error) {
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return nil, "", "", err
	}
	return openWebhooks(a, e), t.ID, fs.Arg(0), nil
}

func webhookRemove(e *env, args []string) error {
	fs := flags(e, "webhook remove", "webhook remove --tenant T ID", "Removes an endpoint and its pending deliveries; its attempt log stays.")
	cfg, ten := tenantFlags(fs, e)
	w, tid, id, err := endpointArgs(e, fs, args, cfg, ten)
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.svc.Delete(context.Background(), tid, id, w.entry("webhook.remove", tid)); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	fmt.Fprintf(e.stdout, "webhook %s removed\n", id)
	return nil
}

func webhookSwitch(e *env, args []string, on bool) error {
	verb := map[bool]string{true: "enable", false: "disable"}[on]
	fs := flags(e, "webhook "+verb, "webhook "+verb+" --tenant T ID", "Switches an endpoint on or off. Enabling clears its failure state; events from while it was off are not sent (see replay).")
	cfg, ten := tenantFlags(fs, e)
	w, tid, id, err := endpointArgs(e, fs, args, cfg, ten)
	if err != nil {
		return err
	}
	defer w.close()
	if _, _, err := w.svc.Update(context.Background(), tid, id, &webhook.Spec{Enabled: &on}, w.entry("webhook."+verb, tid)); err != nil {
		return fmt.Errorf("%s %s: %w", verb, id, err)
	}
	fmt.Fprintf(e.stdout, "webhook %s %sd\n", id, verb)
	return nil
}

func webhookEnable(e *env, args []string) error  { return webhookSwitch(e, args, true) }
func webhookDisable(e *env, args []string) error { return webhookSwitch(e, args, false) }

func webhookTest(e *env, args []string) error {
	fs := flags(e, "webhook test", "webhook test --tenant T ID", "Sends a signed webhook.test delivery now and prints how the endpoint answered. Exit 1 unless it answered 2xx.")
	cfg, ten := tenantFlags(fs, e)
	w, tid, id, err := endpointArgs(e, fs, args, cfg, ten)
	if err != nil {
		return err
	}
	defer w.close()
	at, err := w.svc.Test(context.Background(), tid, id)
	if err != nil {
		return err
	}
	if !at.OK() {
		return fmt.Errorf("endpoint %s did not accept the test delivery: %s (after %s)", id, at.Error, at.Latency.Round(time.Millisecond))
	}
	fmt.Fprintf(e.stdout, "endpoint %s answered %d in %s\n", id, at.Status, at.Latency.Round(time.Millisecond))
	return nil
}

func webhookRotate(e *env, args []string) error {
	fs := flags(e, "webhook rotate", "webhook rotate --tenant T ID [--overlap 24h]", "Gives an endpoint a new signing secret, printed once. The old secret keeps signing beside it for --overlap, so the receiver can switch without losing a delivery.")
	cfg, ten := tenantFlags(fs, e)
	overlapFlag := fs.String("overlap", "0s", "how long the old secret keeps signing (24h, 7d; at most 30d)")
	w, tid, id, err := endpointArgs(e, fs, args, cfg, ten)
	if err != nil {
		return err
	}
	defer w.close()
	d, err := duration.Parse(*overlapFlag)
	if err != nil {
		return fmt.Errorf("--overlap %q: want a duration such as 24h or 7d", *overlapFlag)
	}
	overlap := &d
	secret, fe, err := w.svc.Rotate(context.Background(), tid, id, *overlap, w.entry("webhook.rotate", tid))
	if err != nil {
		return fmt.Errorf("rotate %s: %w", id, err)
	}
	if fe != nil {
		return fieldErrors(fe)
	}
	fmt.Fprintf(e.stderr, "webhook %s has a new secret; the old one signs until %s. The new secret, shown once:\n", id, time.Now().Add(*overlap).Format(time.RFC3339))
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func webhookAttempts(e *env, args []string) error {
	fs := flags(e, "webhook attempts", "webhook attempts --tenant T ID [--limit N]", "Lists an endpoint's most recent delivery attempts, newest first.")
	cfg, ten := tenantFlags(fs, e)
	limit := fs.Int("limit", 50, "how many (1-1000)")
	w, tid, id, err := endpointArgs(e, fs, args, cfg, ten)
	if err != nil {
		return err
	}
	defer w.close()
	if *limit < 1 || *limit > 1000 {
		return errors.New("--limit: want 1-1000")
	}
	as, err := w.svc.Attempts(context.Background(), tid, id, 0, *limit)
	if err != nil {
		return err
	}
	tw := table(e)
	fmt.Fprintln(tw, "TIME\tEVENT\tATTEMPT\tSTATUS\tMS\tOUTCOME\tERROR")
	for _, at := range as {
		fmt.Fprintf(tw, "%s\tev_%d\t%d\t%d\t%d\t%s\t%s\n", at.At.Format(time.RFC3339), at.EventID, at.Attempt, at.Status, at.Latency.Milliseconds(), at.Outcome, at.Error)
	}
	return tw.Flush()
}

func webhookReplay(e *env, args []string) error {
	fs := flags(e, "webhook replay", "webhook replay --tenant T ID (--event ev_N | --since TIME [--until TIME])", "Queues events again for one endpoint, each with its original webhook-id so the receiver can tell a repeat.")
	cfg, ten := tenantFlags(fs, e)
	event := fs.String("event", "", "one event id (ev_N)")
	since := fs.String("since", "", "replay every event from this RFC 3339 time")
	until := fs.String("until", "", "… up to this RFC 3339 time (default now)")
	w, tid, id, err := endpointArgs(e, fs, args, cfg, ten)
	if err != nil {
		return err
	}
	defer w.close()
	var evID int64
	var from, to time.Time
	switch {
	case *event != "" && *since != "":
		return errors.New("give --event or --since, not both")
	case *event != "":
		if evID, err = strconv.ParseInt(strings.TrimPrefix(*event, "ev_"), 10, 64); err != nil || evID <= 0 {
			return fmt.Errorf("--event %q: want an event id such as ev_42", *event)
		}
	case *since != "":
		if from, err = time.Parse(time.RFC3339, *since); err != nil {
			return fmt.Errorf("--since %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", *since)
		}
		to = time.Now()
		if *until != "" {
			if to, err = time.Parse(time.RFC3339, *until); err != nil {
				return fmt.Errorf("--until %q: want an RFC 3339 time", *until)
			}
		}
	default:
		return errors.New("give --event or --since")
	}
	n, err := w.svc.Replay(context.Background(), tid, id, evID, from, to, w.entry("webhook.replay", tid))
	if err != nil {
		return fmt.Errorf("replay to %s: %w", id, err)
	}
	fmt.Fprintf(e.stdout, "%d events queued for %s\n", n, id)
	return nil
}
