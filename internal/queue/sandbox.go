package queue

import (
	"context"
	"slices"
	"strings"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Sandbox messages run the whole pipeline but never leave the building. The outcome is
// chosen by the recipient's local part, so integrations can exercise every path:
//
//	bounce@…    bounced: 550 5.1.1
//	defer@…     deferred once (451 4.3.0), then delivered on the retry schedule
//	expire@…    deferred on every attempt until the message expires
//	anything else, including delivered@…: delivered
//
// Events look exactly like real ones and carry "sandbox": true.
func (w *Worker) simulate(ctx context.Context, j *store.Job, to string, keys *tenant.Keys, st *secureline.State) {
	local, _, _ := strings.Cut(strings.ToLower(to), "@")
	local, _, _ = strings.Cut(local, "+") // defer+anything@ works too
	o := &Outcome{Attempt: j.Attempts, Sandbox: true, MX: "sandbox.invalid"}
	switch {
	case local == "bounce":
		o.Reply, o.Stage = "550 5.1.1 sandbox: simulated unknown recipient", "rcpt"
		w.finish(ctx, j, pipeline.StatusBounced, o, keys, st)
	case local == "expire" || (local == "defer" && j.Attempts == 1):
		o.Reply, o.Stage = "451 4.3.0 sandbox: simulated temporary failure", "data"
		w.retryOutcome(ctx, j, keys, o, st)
	default:
		o.Reply = "250 2.0.0 sandbox: simulated delivery"
		// The security decision is made as for real, so the "secured" event shows
		// the method a live key would get; nothing is encrypted or sent.
		m, _, why, ok := policy.Choose(st.Plan.Candidates, st.Index, w.secure.Recipient(ctx, keys, j.TenantID, to, j.Domain).Available)
		st.Reasons = appendReasons(st.Reasons, why...)
		if ok {
			st.Method = m
			st.Evidence = &secureline.Evidence{Method: m, MX: o.MX, Sandbox: true, Reasons: append(slices.Clone(st.Plan.Reasons), st.Reasons...)}
		}
		w.finish(ctx, j, pipeline.StatusDelivered, o, keys, st)
	}
}
