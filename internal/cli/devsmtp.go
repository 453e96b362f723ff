package cli

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/smtpd"
	"github.com/sealpost/sealpost/internal/tenant"
)

// devSMTP puts the SMTP submission listeners on loopback ports chosen at start, with
// a certificate from the dev CA.
func devSMTP(cfg *config.Config, ca *devnet.CA) (*tls.Config, error) {
	cfg.SMTP.Submission = "127.0.0.1:0"
	cfg.SMTP.Submissions = "127.0.0.1:0"
	cert, err := ca.Issue("localhost", "127.0.0.1")
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// printDevSMTP makes a fresh SMTP credential for the dev tenant and prints how to
// submit with it.
func printDevSMTP(ctx context.Context, e *env, s *server.Server) error {
	t, err := s.Tenants.Tenant(ctx, "dev")
	if err != nil {
		return err
	}
	pass, c, err := s.Tenants.CreateSMTPCredential(ctx, t.ID, tenant.SMTPCredentialOptions{Name: "dev"})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `
SMTP submission (AUTH PLAIN or LOGIN over TLS; certificate from the dev CA):
  STARTTLS:      %[1]s
  implicit TLS:  %[2]s
  username:      %[3]s
  password:      %[4]s

  swaks --server %[1]s --tls --auth-user %[3]s --auth-password %[4]s \
    --from noreply@example.com --to patient@example.org --header 'Subject: Hello' --body 'Hello over SMTP.'

`, s.SMTPAddr(smtpd.Submission), s.SMTPAddr(smtpd.SubmitTLS), c.Username, pass)
	return nil
}
