package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/report"
)

func reportCmd(e *env, args []string) error {
	return sub(e, "report", args, map[string]func(*env, []string) error{
		"stats": reportStats, "disclosures": reportDisclosures, "anomalies": reportAnomalies,
	}, `
Verbs:
  stats --tenant T [--from TIME] [--to TIME] [--interval hour|day|week]
        [--group-by domain|campaign|tag|from|subject|method|metadata.KEY] [--format table|csv|json]
                    delivery, engagement and security counts and rates, from the rollups
  disclosures --tenant T --address ADDR [--from TIME] [--to TIME] [--format table|csv|json]
                    accounting of disclosures (HIPAA 164.528): every message with PHI
                    findings sent to ADDR, and how each copy was secured
  anomalies --tenant T [--from TIME] [--to TIME] [--format table|csv|json]
                    access anomalies per credential: volume far above its baseline or
                    a new network, and whether the credential was suspended

Opened and clicked count each recipient once, people only; proxy (privacy proxies,
image caches) and machine (scanners) counts stand beside them. Sandbox traffic is
never counted. The same numbers are served by GET /v1/stats.`)
}

func reportStats(e *env, args []string) error {
	fs := flags(e, "report stats", "report stats --tenant T [flags]",
		"Prints a tenant's statistics as a table (or CSV, or JSON), one row per group.")
	cfg, ten := tenantFlags(fs, e)
	from := fs.String("from", "", "start, RFC 3339 (default: 30 days before --to)")
	to := fs.String("to", "", "end, RFC 3339, exclusive (default: now)")
	interval := fs.String("interval", "", "add a row per hour, day or week under each group")
	groupBy := fs.String("group-by", "", "split by "+strings.Join(report.GroupBys, ", "))
	format := fs.String("format", "table", "table, csv or json")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	q := report.Query{Interval: *interval, GroupBy: *groupBy, To: time.Now().Truncate(time.Hour).Add(time.Hour)}
	if *to != "" {
		if q.To, err = time.Parse(time.RFC3339, *to); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	q.From = q.To.Add(-30 * 24 * time.Hour)
	if *from != "" {
		if q.From, err = time.Parse(time.RFC3339, *from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	res, err := report.New(a.db, a.tenants).Stats(context.Background(), t.ID, q)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return report.WriteJSON(e.stdout, res)
	case "csv":
		return report.WriteCSV(e.stdout, res)
	case "table":
	default:
		return fmt.Errorf("--format: one of table, csv, json")
	}
	tw := table(e)
	fmt.Fprintln(tw, "GROUP\tSTART\tACCEPTED\tQUEUED\tDELIVERED\tBOUNCED\tFAILED\tOPENED (PROXY/MACHINE)\tCLICKED (PROXY/MACHINE)\tDELIVERY\tOPEN\tCTR\tCTO\tSECURED TLS/PGP/SMIME/PORTAL")
	row := func(label, start string, c report.Counts) {
		queued := ""
		if c.InQueue != nil {
			queued = fmt.Sprint(*c.InQueue)
		}
		pct := func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d (%d/%d)\t%d (%d/%d)\t%s\t%s\t%s\t%s\t%d/%d/%d/%d\n",
			label, start, c.Accepted, queued, c.Delivered, c.Bounced, c.Failed+c.Expired,
			c.Opened, c.OpenedProxy, c.OpenedMachine, c.Clicked, c.ClickedProxy, c.ClickedMachine,
			pct(c.Rates.Delivery), pct(c.Rates.Open), pct(c.Rates.ClickThrough), pct(c.Rates.ClickToOpen),
			c.Secured.TLS, c.Secured.PGP, c.Secured.SMIME, c.Secured.Portal)
	}
	for _, g := range res.Groups {
		label := g.Label
		if label == "" {
			label = g.Key
		}
		row(tableSafe(label), "total", g.Totals)
		for _, p := range g.Series {
			row("", p.Start.Format(time.RFC3339), p.Counts)
		}
	}
	return tw.Flush()
}

// tableSafe keeps a caller's label (a subject) to one table cell: no tabs, line breaks
// or terminal control characters.
func tableSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func reportDisclosures(e *env, args []string) error {
	fs := flags(e, "report disclosures", "report disclosures --tenant T --address ADDR [flags]",
		"Lists every message with PHI findings sent to one address, and how each copy was secured (HIPAA 164.528). Default range: the last six years.")
	cfg, ten := tenantFlags(fs, e)
	addr := fs.String("address", "", "the recipient address")
	from := fs.String("from", "", "start, RFC 3339 (default: six years before --to)")
	to := fs.String("to", "", "end, RFC 3339, exclusive (default: now)")
	format := fs.String("format", "table", "table, csv or json")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	start, end, err := reportRange(*from, *to, func(end time.Time) time.Time { return end.AddDate(-6, 0, 0) })
	if err != nil {
		return err
	}
	res, err := report.New(a.db, a.tenants).Disclosures(context.Background(), t.ID, *addr, start, end)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return report.WriteJSON(e.stdout, res)
	case "csv":
		return report.WriteDisclosuresCSV(e.stdout, res)
	case "table":
	default:
		return fmt.Errorf("--format: one of table, csv, json")
	}
	tw := table(e)
	fmt.Fprintln(tw, "ACCEPTED\tMESSAGE\tSUBJECT\tFOUND\tSTATUS\tMETHOD\tTLS")
	for _, d := range res.Disclosures {
		tlsNote := d.TLSVersion
		if tlsNote != "" && d.TLSVerified {
			tlsNote += " verified"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.AcceptedAt.Format(time.RFC3339), d.MessageID, tableSafe(d.Subject),
			strings.Join(d.Categories, ","), d.Status, d.Method, tlsNote)
	}
	return tw.Flush()
}

// reportRange reads a report command's --from and --to (RFC 3339; --to exclusive,
// default now), with back giving the default start from the end.
func reportRange(from, to string, back func(end time.Time) time.Time) (start, end time.Time, err error) {
	end = time.Now().Add(time.Minute)
	if to != "" {
		if end, err = time.Parse(time.RFC3339, to); err != nil {
			return start, end, fmt.Errorf("--to: %w", err)
		}
	}
	start = back(end)
	if from != "" {
		if start, err = time.Parse(time.RFC3339, from); err != nil {
			return start, end, fmt.Errorf("--from: %w", err)
		}
	}
	return start, end, nil
}
