package cli

import (
	"context"
	"fmt"
	"math"
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
  list [--limit N]    live delivery jobs, soonest first (the first 100; --limit 0: all)
  retry ID...         try now
  hold ID...          stop trying until released
  release ID...       undo hold
  drop ID... --yes    give up on these deliveries`)
}

func queueList(e *env, args []string) error {
	fs := flags(e, "queue list", "queue list [--limit N]", "Lists live delivery jobs. Addresses are sealed; jobs show ids and destination domains.")
	cfg := configFlag(fs, e)
	limit := fs.Int("limit", 100, "how many, soonest first; 0 lists every job")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", *limit)
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	// One more than asked tells whether jobs were left out.
	want := *limit + 1
	if *limit == 0 {
		want = math.MaxInt32
	}
	jobs, held, err := a.db.Jobs(context.Background(), want)
	if err != nil {
		return err
	}
	more := *limit > 0 && len(jobs) > *limit
	if more {
		jobs, held = jobs[:*limit], held[:*limit]
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
	if err := w.Flush(); err != nil {
		return err
	}
	if more {
		fmt.Fprintf(e.stderr, "only the first %d jobs are shown; more are queued (--limit N shows more, --limit 0 all)\n", *limit)
	}
	return nil
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
