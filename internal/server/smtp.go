package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/smtpd"
	"github.com/sealpost/sealpost/internal/tenant"
)

// smtpListeners builds the SMTP face and binds its configured listeners, so their
// addresses are known (SMTPAddr) before Run serves them.
func (s *Server) smtpListeners(cfg *config.Config, tlsCfg *tls.Config, resolver *net.Resolver) error {
	if !cfg.SMTPListening() {
		return nil
	}
	if tlsCfg == nil {
		certFile, keyFile := cfg.SMTP.TLSCert, cfg.SMTP.TLSKey
		if certFile == "" {
			certFile, keyFile = cfg.API.TLSCert, cfg.API.TLSKey
		}
		if certFile == "" {
			return errors.New("smtp: a listener is configured but no certificate: set smtp.tls_cert and smtp.tls_key (AUTH is never offered in the clear)")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("smtp certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	m := cfg.SMTP
	maxBytes := m.MaxMessageBytes
	if maxBytes <= 0 {
		// Attachments travel base64-encoded: 4/3 of their size plus line ends.
		maxBytes = int64(cfg.Message.MaxBytes) * 4 / 3
	}
	s.SMTP = smtpd.New(smtpd.Config{Hostname: cfg.Hostname, TLS: tlsCfg, MaxMessageBytes: maxBytes, MaxRecipients: m.MaxRecipients,
		ReadTimeout: config.Duration(m.Timeout), AuthMaxFailures: m.AuthMaxFailures, AuthWindow: config.Duration(m.AuthWindow),
		AuthLockout: config.Duration(m.AuthLockout), MaxConnections: m.MaxConnections, MaxClientConns: m.MaxClientConns,
		MemoryWait: config.Duration(cfg.API.InflightWait), BounceDomain: m.BounceDomain},
		smtpd.Deps{DB: s.DB, Tenants: s.Tenants, Pipeline: s.Pipeline, Memory: s.memory, Log: s.Log.With("part", "smtpd"), OnAccepted: s.Worker.Notify,
			LookupTXT: resolver.LookupTXT, Suppressor: gatewaySuppressor{s.Marketing},
			Inbound: s.Inbound})
	s.smtpLn = map[smtpd.Mode]net.Listener{}
	for mode, addr := range map[smtpd.Mode]string{smtpd.Submission: m.Submission, smtpd.SubmitTLS: m.Submissions, smtpd.Relay: m.Relay, smtpd.Inbound: m.Inbound} {
		if addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.closeSMTP()
			return fmt.Errorf("smtp %s listener: %w", mode, err)
		}
		s.smtpLn[mode] = ln
	}
	return nil
}

func (s *Server) closeSMTP() {
	for _, ln := range s.smtpLn {
		ln.Close()
	}
}

// serveSMTP runs the bound SMTP listeners; errors go to errc.
func (s *Server) serveSMTP(errc chan<- error) {
	for mode, ln := range s.smtpLn {
		go func() {
			if err := s.SMTP.Serve(ln, mode); err != nil {
				errc <- fmt.Errorf("smtp %s: %w", mode, err)
			}
		}()
	}
}

// SMTPAddr is the address of an SMTP listener ("" when it is off).
func (s *Server) SMTPAddr(mode smtpd.Mode) string {
	if ln := s.smtpLn[mode]; ln != nil {
		return ln.Addr().String()
	}
	return ""
}

// returnPath is the queue's envelope sender for a delivery: a per-recipient bounce
// address when smtp.bounce_domain is set.
func returnPath(cfg *config.Config) func(keys *tenant.Keys, recipientID, from string) string {
	if cfg.SMTP.BounceDomain == "" {
		return nil
	}
	return smtpd.ReturnPath(cfg.SMTP.BounceDomain)
}

// gatewaySuppressor puts what the SMTP gateway learns into the tenant's suppression
// list: a hard bounce stops all mail to the address (it cannot receive), a complaint
// stops marketing only — never the transactional, often PHI-bearing, mail a patient
// needs.
type gatewaySuppressor struct{ m *marketing.Service }

func (g gatewaySuppressor) Suppress(ctx context.Context, tenantID, address, reason, _ string) error {
	if reason == "complained" {
		return g.m.Suppress(ctx, tenantID, address, "complaint", marketing.ScopeMarketing)
	}
	return g.m.Suppress(ctx, tenantID, address, "hard_bounce", marketing.ScopeTransactional)
}
