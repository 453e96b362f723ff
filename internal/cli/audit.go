package cli

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
)

// record appends an audit entry for a CLI action. The principal is the operating-system
// user who ran it.
func (a *admin) record(action, tenantID, object string) error {
	return audit.New(a.db, nil).Record(context.Background(), audit.Entry{TenantID: tenantID, Principal: cliPrincipal(), Action: action, Object: object, Result: "ok"})
}

// entry is an audit entry for a service that commits it with its own change.
func (a *admin) entry(action, tenantID string) *store.AuditEntry {
	return &store.AuditEntry{At: time.Now(), TenantID: tenantID, Principal: cliPrincipal(), Action: action, Result: "ok"}
}

func cliPrincipal() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func auditCmd(e *env, args []string) error {
	return sub(e, "audit", args, map[string]func(*env, []string) error{
		"verify": auditVerify, "export": auditExport, "checkpoint": auditCheckpoint, "pubkey": auditPubkey,
	}, `
Verbs:
  verify [--checkpoint FILE]   recompute the hash chain and check every signed checkpoint;
                               with FILE, also check a checkpoint exported earlier and kept
                               outside the system (catches a rebuilt chain). Exit 1 if bad.
  export [--tenant T] [--since TIME]   write entries as JSON Lines
  checkpoint [--out FILE]      sign the current head now; write it to FILE to keep elsewhere
  pubkey                       print the public key that verifies checkpoints`)
}

func openAudit(e *env, cfgPath string) (*config.Config, *store.DB, *audit.Signer, error) {
	c, err := loadConfig(e, cfgPath)
	if err != nil {
		return nil, nil, nil, err
	}
	signer, err := audit.LoadOrCreateSigner(c.AuditKeyFile)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := server.OpenDB(context.Background(), c, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, db, signer, nil
}

func auditVerify(e *env, args []string) error {
	fs := flags(e, "audit verify", "audit verify [--checkpoint FILE]", "Proves the audit log intact, or names the first bad entry.")
	cfg := configFlag(fs, e)
	cpFile := fs.String("checkpoint", "", "a checkpoint exported with `audit checkpoint --out`")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, db, signer, err := openAudit(e, *cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	var ext *audit.Checkpoint
	if *cpFile != "" {
		b, err := os.ReadFile(*cpFile)
		if err != nil {
			return err
		}
		if ext, err = audit.ParseCheckpoint(b); err != nil {
			return fmt.Errorf("%s: %w", *cpFile, err)
		}
	}
	v, err := audit.Verify(context.Background(), db, signer.Public(), ext)
	if err != nil {
		return err
	}
	if !v.OK {
		return fmt.Errorf("audit log NOT intact: first bad entry %d: %s", v.FirstBad, v.Problem)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries, %d checkpoints verified\n", v.Entries, v.Checkpoints)
	return nil
}

func auditExport(e *env, args []string) error {
	fs := flags(e, "audit export", "audit export [--tenant T] [--since TIME]", "Writes audit entries as JSON Lines to standard output.")
	cfg := configFlag(fs, e)
	ten := fs.String("tenant", "", "only this tenant (name or id)")
	since := fs.String("since", "", "RFC 3339 time")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, db, signer, err := openAudit(e, *cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	// No limit: a compliance export holds every matching entry (Export pages through them).
	var f store.AuditFilter
	if *ten != "" {
		t, err := db.Tenant(context.Background(), *ten)
		if err != nil {
			return fmt.Errorf("tenant %q: %w", *ten, err)
		}
		f.TenantID = t.ID
	}
	if *since != "" {
		if f.Since, err = time.Parse(time.RFC3339, *since); err != nil {
			return fmt.Errorf("--since: want an RFC 3339 time")
		}
	}
	return audit.New(db, signer).Export(context.Background(), e.stdout, f)
}

func auditCheckpoint(e *env, args []string) error {
	fs := flags(e, "audit checkpoint", "audit checkpoint [--out FILE]", "Signs the current head of the audit log and stores the checkpoint; --out also writes it to a file to keep outside the system.")
	cfg := configFlag(fs, e)
	out := fs.String("out", "", "file to write the checkpoint to")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, db, signer, err := openAudit(e, *cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	cp, err := audit.New(db, signer).Checkpoint(context.Background())
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, audit.ExportCheckpoint(cp), 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "checkpoint at entry %d signed by key %s\n", cp.Seq, cp.KeyID)
	return nil
}

func auditPubkey(e *env, args []string) error {
	fs := flags(e, "audit pubkey", "audit pubkey", "Prints the Ed25519 public key (hex) that verifies audit checkpoints.")
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(e, *cfg)
	if err != nil {
		return err
	}
	s, err := audit.LoadOrCreateSigner(c.AuditKeyFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%x\n", []byte(s.Public()))
	return nil
}
