package queue

import "github.com/sealpost/sealpost/internal/tenant"

// returnPath is the envelope sender of one recipient's delivery: a per-recipient bounce
// address when configured (so a late DSN or complaint names its recipient), else the
// message's From.
func (w *Worker) returnPath(keys *tenant.Keys, recipientID, from string) string {
	if w.cfg.ReturnPath == nil {
		return from
	}
	return w.cfg.ReturnPath(keys, recipientID, from)
}
