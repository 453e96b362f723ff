package queue

import (
	"context"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Tracker adds open and click tracking to one recipient's copy where the message asked
// for it and the method allows it, returning raw unchanged otherwise.
type Tracker interface {
	Copy(ctx context.Context, keys *tenant.Keys, m *store.Message, env *pipeline.Envelope, recipientID, method string, raw []byte) []byte
}

// tracked is the copy a method is applied to: per recipient, since each carries its
// own tokens.
func (w *Worker) tracked(ctx context.Context, keys *tenant.Keys, msg *store.Message, env *pipeline.Envelope, j *store.Job, m policy.Method, raw []byte) []byte {
	if w.cfg.Tracker == nil || env.Track == nil {
		return raw
	}
	return w.cfg.Tracker.Copy(ctx, keys, msg, env, j.RecipientID, string(m), raw)
}
