package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Anomaly is one access.anomaly event: a credential that sent far above its own
// baseline (volume) or from a network it never used (new_network).
type Anomaly struct {
	At           time.Time `json:"at"`
	CredentialID string    `json:"credential_id"`
	Kind         string    `json:"kind"`
	Network      string    `json:"network,omitempty"`
	Requests     int       `json:"requests,omitempty"`
	Suspended    bool      `json:"suspended"`
}

// Anomalies is the access anomalies of one tenant over a range, oldest first.
type Anomalies struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Anomalies []Anomaly `json:"anomalies"`
}

// MaxAnomalies bounds one report: the detector raises at most one event per
// credential, kind and window, so a range holding more is a range to narrow.
const MaxAnomalies = 100000

// Anomalies lists the access.anomaly events in [from, to). They are read from the
// events the detector wrote, the same ones its webhooks carried, so the report and the
// webhooks never disagree.
func (s *Service) Anomalies(ctx context.Context, tenantID string, from, to time.Time) (*Anomalies, error) {
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return nil, &InvalidError{Fields: map[string]string{"to": "from and to are required, to after from"}}
	}
	keys, err := s.keys.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := &Anomalies{From: from.UTC(), To: to.UTC(), Anomalies: []Anomaly{}}
	f := store.EventFilter{TenantID: tenantID, Types: []string{"access.anomaly"}, Since: from, Until: to, Limit: store.MaxPage}
	for {
		evs, err := s.db.Events(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			a := Anomaly{At: ev.At.UTC()}
			b, err := keys.Data.Open(ev.Data, "event/"+ev.RecipientID)
			if err != nil {
				return nil, err
			}
			var d struct {
				CredentialID string `json:"credential_id"`
				Kind         string `json:"kind"`
				Network      string `json:"network"`
				Requests     int    `json:"requests"`
				Suspended    bool   `json:"suspended"`
			}
			if err := json.Unmarshal(b, &d); err != nil {
				return nil, err
			}
			a.CredentialID, a.Kind, a.Network, a.Requests, a.Suspended = d.CredentialID, d.Kind, d.Network, d.Requests, d.Suspended
			out.Anomalies = append(out.Anomalies, a)
			if len(out.Anomalies) > MaxAnomalies {
				return nil, &InvalidError{Fields: map[string]string{"from": "more than " + strconv.Itoa(MaxAnomalies) + " anomalies in the range; narrow it"}}
			}
		}
		if len(evs) < f.Limit {
			return out, nil
		}
		f.AfterID = evs[len(evs)-1].ID
	}
}

// WriteAnomaliesCSV writes the anomalies as CSV with the same fields as the JSON.
func WriteAnomaliesCSV(w io.Writer, a *Anomalies) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"at", "credential_id", "kind", "network", "requests", "suspended"})
	for _, x := range a.Anomalies {
		requests := "" // as in the JSON: a new network counts no requests
		if x.Requests > 0 {
			requests = strconv.Itoa(x.Requests)
		}
		// The time as the JSON gives it, to the nanosecond, so the two compare equal.
		cw.Write([]string{x.At.Format(time.RFC3339Nano), csvSafe(x.CredentialID), x.Kind, csvSafe(x.Network), requests, strconv.FormatBool(x.Suspended)})
	}
	cw.Flush()
	return cw.Error()
}
