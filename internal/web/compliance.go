package web

import (
	"crypto/ed25519"
	"net/http"
	"strconv"

	"github.com/sealpost/sealpost/internal/audit"
)

// The compliance actions: verify the chain, and export a signed checkpoint to keep
// outside the system. Both need what reading the trail through the API needs.

func (s *Server) complianceRoutes() {
	s.handle("POST /app/audit/verify", "full", s.verifyAudit)
	s.handle("POST /app/audit/checkpoint", "full", s.exportCheckpoint)
}

func (s *Server) verifyAudit(q *request) error {
	if err := s.require(q, "GET", "/v1/audit"); err != nil {
		return err
	}
	if len(s.AuditKey) != ed25519.PublicKeySize {
		return s.showAudit(q, "", "This server has no checkpoint key to verify with.")
	}
	v, err := audit.Verify(q.ctx, s.DB, s.AuditKey, nil)
	if err != nil {
		return err
	}
	s.record(q, "audit.verify", "", strconv.FormatBool(v.OK))
	if !v.OK {
		return s.showAudit(q, "", "The audit trail does not verify: entry "+strconv.FormatInt(v.FirstBad, 10)+": "+v.Problem+".")
	}
	return s.showAudit(q, "The audit trail is intact: "+strconv.FormatInt(v.Entries, 10)+" entries and "+strconv.Itoa(v.Checkpoints)+" signed checkpoints verified.", "")
}

func (s *Server) exportCheckpoint(q *request) error {
	if err := s.require(q, "GET", "/v1/audit"); err != nil {
		return err
	}
	cp, err := s.Audit.Checkpoint(q.ctx)
	if err != nil {
		return err
	}
	s.record(q, "audit.checkpoint_export", strconv.FormatInt(cp.Seq, 10), "ok")
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Content-Disposition", `attachment; filename="sealpost-checkpoint-`+strconv.FormatInt(cp.Seq, 10)+`.json"`)
	_, err = q.w.Write(audit.ExportCheckpoint(cp))
	return err
}

var _ http.Handler = (*Server)(nil) // the dashboard mounts as one handler
