package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

func queueCmd(e *env, args []string) error {
	return sub(e, "queue", args, map[string]func(*env, []string) error{
		"list":    queueList,
		"retry":   queueAction("retry", "makes the jobs due now (and releases held ones)"),
		"hold":    queueAction("hold", "holds the jobs: workers skip them until released"),
		"release": queueAction("release", "releases held jobs"),
		"drop":    queueAction("drop", "ends the jobs without delivering; the recipients' timelines record it"),
	}, `
Verbs:
  list [--limit N]    live delivery jobs, soonest first
  retry ID...         try now
  hold ID...          stop trying until released
  release ID...       undo hold
  drop ID... --yes    give up on these deliveries`)
}

func queueList(e *env, args []string) error {
	fs := flags(e, "queue list", "queue list [--limit N]", "Lists live delivery jobs. Addresses are sealed; jobs show ids and destination domains.")
	cfg := configFlag(fs, e)
	limit := fs.Int("limit", 100, "how many")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	jobs, held, err := a.db.Jobs(context.Background(), *limit)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "JOB\tMESSAGE\tRECIPIENT\tDOMAIN\tATTEMPTS\tNEXT\tSTATE\tLAST ERROR")
	for i, j := range jobs {
		state := "queued"
		if held[i] {
			state = "held"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", j.ID, j.MessageID, j.RecipientID, j.Domain, j.Attempts, j.NextAttemptAt.Format(time.RFC3339), state, j.LastError)
	}
	return w.Flush()
}

func queueAction(verb, about string) func(*env, []string) error {
	return func(e *env, args []string) error {
		fs := flags(e, "queue "+verb, "queue "+verb+" ID...", "The "+verb+" verb "+about+".")
		cfg := configFlag(fs, e)
		yes := fs.Bool("yes", false, "confirm (drop only)")
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 || (verb == "drop" && !*yes) {
			fs.Usage()
			return errUsage
		}
		a, err := openAdmin(e, *cfg)
		if err != nil {
			return err
		}
		defer a.close()
		ctx, now := context.Background(), time.Now()
		for _, arg := range fs.Args() {
			id, err := strconv.ParseInt(arg, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a job id (see `sealpost queue list`)", arg)
			}
			switch verb {
			case "retry":
				err = a.db.RetryJobNow(ctx, id, now)
			case "hold":
				err = a.db.SetJobHeld(ctx, id, true)
			case "release":
				err = a.db.SetJobHeld(ctx, id, false)
			case "drop":
				err = a.db.DropJob(ctx, id, now)
			}
			if err != nil {
				return fmt.Errorf("job %d: %w", id, err)
			}
			if err := a.record("queue."+verb, "", arg); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "job %d: %s done\n", id, verb)
		}
		return nil
	}
}
