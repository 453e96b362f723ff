package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/smtpd"
	"github.com/sealpost/sealpost/internal/tenant"
)

// devSMTP puts the SMTP submission listeners on loopback ports chosen at start, with
// a certificate from the dev CA.
func devSMTP(cfg *config.Config, ca *devnet.CA) (*tls.Config, error) {
	cfg.SMTP.Submission = "127.0.0.1:0"
	cfg.SMTP.Submissions = "127.0.0.1:0"
	cfg.SMTP.Inbound = "127.0.0.1:0" // the inbound gateway, in place of port 25
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

// devInboundDomain is the dev tenant's protected domain: mail for it sent to the
// inbound listener is checked and forwarded to the mail catcher over verified TLS.
const devInboundDomain = "example.org"

// printDevInbound protects devInboundDomain for the dev tenant (once per data
// directory) and prints how to send to the inbound gateway.
func printDevInbound(ctx context.Context, e *env, s *server.Server, smartHost string) error {
	t, err := s.Tenants.Tenant(ctx, "dev")
	if err != nil {
		return err
	}
	// The gateway takes mail only for the tenant's own verified domains.
	if _, err := s.Tenants.AddDomain(ctx, t.ID, devInboundDomain, true); err != nil && !errors.As(err, new(*tenant.InvalidError)) {
		return err
	}
	_, err = s.Inbound.AddDomain(ctx, t.ID, inbound.DomainOptions{Domain: devInboundDomain, SmartHost: smartHost})
	var inv *inbound.InvalidError
	if err != nil && !(errors.As(err, &inv) && inv.Field == "domain") {
		return err
	}
	fmt.Fprintf(e.stdout, `Inbound gateway (port 25's role; %[2]s is protected and forwarded to the mail catcher):
  inbound:       %[1]s

  swaks --server %[1]s --from lab@example.com --to doctor@%[2]s --header 'Subject: Results' --body 'Ready.'
  sealpost inbound list --tenant dev   (in the data directory, or with SEALPOST_DATA_DIR)

`, s.SMTPAddr(smtpd.Inbound), devInboundDomain)
	return nil
}
