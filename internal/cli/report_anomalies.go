package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/report"
)

// reportAnomalies prints the access anomalies report, the one GET /v1/reports/anomalies
// serves.
func reportAnomalies(e *env, args []string) error {
	fs := flags(e, "report anomalies", "report anomalies --tenant T [flags]",
		"Lists the access anomalies of a tenant's credentials (volume far above the credential's baseline, or a network it never used) and whether each credential was suspended. Default range: the last 30 days.")
	cfg, ten := tenantFlags(fs, e)
	from := fs.String("from", "", "start, RFC 3339 (default: 30 days before --to)")
	to := fs.String("to", "", "end, RFC 3339, exclusive (default: now)")
	format := fs.String("format", "table", "table, csv or json")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	start, end, err := reportRange(*from, *to, func(end time.Time) time.Time { return end.AddDate(0, 0, -30) })
	if err != nil {
		return err
	}
	res, err := report.New(a.db, a.tenants).Anomalies(context.Background(), t.ID, start, end)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return report.WriteJSON(e.stdout, res)
	case "csv":
		return report.WriteAnomaliesCSV(e.stdout, res)
	case "table":
	default:
		return fmt.Errorf("--format: one of table, csv, json")
	}
	tw := table(e)
	fmt.Fprintln(tw, "AT\tCREDENTIAL\tKIND\tNETWORK\tREQUESTS\tSUSPENDED")
	for _, x := range res.Anomalies {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\n", x.At.Format(time.RFC3339), tableSafe(x.CredentialID), x.Kind, tableSafe(x.Network), strconv.Itoa(x.Requests), x.Suspended)
	}
	return tw.Flush()
}
