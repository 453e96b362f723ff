package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// handOffPortal commits the recipient's portal copy, and the state that holds its
// link, before the notice is sent: a link followed the moment the notice lands (by the
// recipient or a mail scanner) finds its copy, and an attempt after a failure or a
// crash sends the same link again, never a second one. The copy stays unannounced
// (no notified_at) until the notice's delivery is recorded; if the delivery ends
// another way, finish destroys it. It reports whether the notice may be sent; when
// not, what applies has been recorded.
func (w *Worker) handOffPortal(ctx context.Context, j *store.Job, keys *tenant.Keys, st *secureline.State, raw []byte, env *pipeline.Envelope) bool {
	content, key := secureline.SealPortalCopy(keys, st.PortalID, raw)
	p := &store.PortalMessage{ID: st.PortalID, TenantID: j.TenantID, MessageID: j.MessageID, RecipientID: j.RecipientID,
		TokenHash: secureline.TokenHash(st.PortalToken), CreatedAt: w.now(), ExpiresAt: st.PortalExpires, Content: content, ContentKey: key}
	if env.Portal != nil {
		p.PassphraseHash = env.Portal.PassphraseHash
	}
	var stored *store.PortalMessage
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := w.db.Write(wctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		stored, err = tx.HandOffPortal(ctx, j.ID, p, st.Seal(keys, j.RecipientID))
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Revoked while this attempt ran: the job is gone, and so is the need.
		w.log.Info("portal notice not sent: delivery cancelled", "message", j.MessageID, "recipient", j.RecipientID)
		return false
	case err != nil:
		w.retryOutcome(ctx, j, keys, &Outcome{Attempt: j.Attempts, Stage: "portal", Error: "record portal copy: " + err.Error()}, st)
		return false
	case stored.ID != st.PortalID:
		// Only a copy recorded by an earlier version, after its notice, can differ.
		w.retryOutcome(ctx, j, keys, &Outcome{Attempt: j.Attempts, Stage: "portal", Error: fmt.Sprintf("recipient already has portal copy %s", stored.ID)}, st)
		return false
	case !stored.Readable(w.now()):
		w.finish(ctx, j, pipeline.StatusExpired, &Outcome{Attempt: j.Attempts, Stage: "portal", Error: "portal copy expired before its notice was delivered"}, keys, st)
		return false
	}
	return true
}
