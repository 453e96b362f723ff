package bench

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// Pair is one Sealpost run and the Postfix run made beside it with the same options.
type Pair struct {
	Sealpost, Postfix *Result
}

// Comparison summarises the pairs of one configuration: the ratios are Sealpost's
// over Postfix's, each measured within one pair, so machine load shared by both
// sides of a pair cancels out.
type Comparison struct {
	Database      string     `json:"database"`
	TLS           bool       `json:"tls"`
	DKIM          string     `json:"dkim"`
	Pairs         int        `json:"pairs"`
	DeliveredX    [3]float64 `json:"delivered_per_s_ratio_min_median_max"`
	SealpostCPUms [3]float64 `json:"sealpost_cpu_ms_per_message_min_median_max"`
	PostfixCPUms  [3]float64 `json:"postfix_cpu_ms_per_message_min_median_max"`
	CPUAdvantage  [3]float64 `json:"postfix_over_sealpost_cpu_ratio_min_median_max"`
}

// Compare groups pairs by database, TLS and DKIM and summarises each group.
func Compare(pairs []Pair) []Comparison {
	type key struct {
		db, dkim string
		tls      bool
	}
	var order []key
	groups := map[key][]Pair{}
	for _, p := range pairs {
		if p.Sealpost == nil || p.Postfix == nil || p.Sealpost.Delivered == 0 || p.Postfix.Delivered == 0 {
			continue
		}
		k := key{p.Sealpost.Database, p.Sealpost.DKIM, p.Sealpost.TLS}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	var out []Comparison
	for _, k := range order {
		ps := groups[k]
		var ratio, scpu, pcpu, adv []float64
		for _, p := range ps {
			ratio = append(ratio, p.Sealpost.DeliveredPerS/p.Postfix.DeliveredPerS)
			scpu = append(scpu, p.Sealpost.CPUPerMessageMs)
			pcpu = append(pcpu, p.Postfix.CPUPerMessageMs)
			if p.Sealpost.CPUPerMessageMs > 0 {
				adv = append(adv, p.Postfix.CPUPerMessageMs/p.Sealpost.CPUPerMessageMs)
			}
		}
		out = append(out, Comparison{Database: k.db, TLS: k.tls, DKIM: k.dkim, Pairs: len(ps),
			DeliveredX: spread(ratio), SealpostCPUms: spread(scpu), PostfixCPUms: spread(pcpu), CPUAdvantage: spread(adv)})
	}
	return out
}

// spread returns min, median and max.
func spread(v []float64) [3]float64 {
	if len(v) == 0 {
		return [3]float64{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return [3]float64{s[0], med, s[len(s)-1]}
}

// WriteComparison prints the summary, each figure as min / median / max.
func WriteComparison(w io.Writer, cs []Comparison) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "db\tTLS\tDKIM\tpairs\tdelivered/s ÷ postfix\tsealpost cpu ms/msg\tpostfix cpu ms/msg\tpostfix cpu ÷ sealpost cpu\t")
	f := func(v [3]float64) string { return fmt.Sprintf("%.2f / %.2f / %.2f", v[0], v[1], v[2]) }
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%v\t%s\t%d\t%s\t%s\t%s\t%s\t\n", c.Database, c.TLS, c.DKIM, c.Pairs, f(c.DeliveredX), f(c.SealpostCPUms), f(c.PostfixCPUms), f(c.CPUAdvantage))
	}
	return tw.Flush()
}
