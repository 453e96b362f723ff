package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// devDomains are the domains the built-in mail catcher receives for.
var devDomains = []string{"example.com", "example.org", "example.net"}

const devMX = "mx.sealpost.test"

func dev(e *env, args []string) error {
	fs := flags(e, "dev", "dev [--data DIR] [--listen ADDR]", `
Runs all of Sealpost on loopback, with no internet needed:
  - the API on --listen (loopback only), storing in an SQLite database under --data;
  - a DNS server that points example.com, example.org and example.net at
  - a built-in receiving mail server (STARTTLS with a certificate from a dev CA),
    whose mailbox is at http://<listen>/dev/mailbox.
Creates the tenant "dev" with the verified sender domain example.com and a DKIM key,
and prints a fresh API key, a curl command that sends a message, and the
SEALPOST_DATA_DIR line that points other commands at this data. Commands run in
the same directory find ./sealpost-dev by themselves.`)
	data := fs.String("data", devDataDir, "data directory (database and master key)")
	listen := fs.String("listen", "127.0.0.1:8080", "API address (loopback only)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := devLoopback(*listen); err != nil {
		return err
	}
	cfg := config.Default()
	cfg.DataDir = *data
	cfg.API.Listen = *listen
	cfg.Hostname = "sealpost.localhost"
	cfg.Log.Format = "text"
	if err := applyDevEnv(e, &cfg); err != nil {
		return err
	}
	ring, err := devKeyring(cfg.MasterKeyFile)
	if err != nil {
		return err
	}

	ca, err := devnet.NewCA()
	if err != nil {
		return err
	}
	cert, err := ca.Issue(devMX)
	if err != nil {
		return err
	}
	rcv, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: devMX, TLSCert: &cert, Domains: devDomains})
	if err != nil {
		return fmt.Errorf("mail catcher: %w", err)
	}
	defer rcv.Close()
	dns, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("dev dns: %w", err)
	}
	defer dns.Close()
	for _, d := range devDomains {
		dns.AddMX(d, devMX, 10)
	}
	dns.AddA(devMX, net.IPv4(127, 0, 0, 1))
	cfg.Delivery.DNSServer = dns.Addr()
	cfg.Delivery.Port = rcv.Port()
	cfg.Delivery.Retry = []string{"10s", "30s", "1m"}
	cfg.Delivery.Expire = "10m"
	smtpTLS, err := devSMTP(&cfg, ca)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	cfg.Webhooks.AllowLoopback = true // a receiver on this machine is the point of dev
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (is another sealpost dev running? use --listen): %w", cfg.API.Listen, err)
	}
	// Portal links name the port actually bound (--listen may say :0).
	cfg.Secure.PortalURL = "http://" + ln.Addr().String()
	ctx, stop := signalContext()
	defer stop()
	s, err := server.New(ctx, &cfg, server.Options{
		Logger: logger(&cfg, e.stderr), Keyring: ring, RootCAs: ca.Pool(), Listener: ln, LazyGC: lazyGC(), SpareProcs: spareProcs(),
		Extra:   map[string]http.Handler{"/dev/mailbox": rcv.MailboxHandler()},
		SMTPTLS: smtpTLS,
	})
	if err != nil {
		ln.Close()
		return err
	}
	secret, err := devSetup(ctx, s, dns)
	if err != nil {
		ln.Close()
		return err
	}
	base := "http://" + ln.Addr().String()
	printDevBanner(e, devBanner{Base: base, DataDir: cfg.DataDir, Secret: secret, DNS: dns.Addr(), SMTP: rcv.Addr()})
	if err := printDevSMTP(ctx, e, s); err != nil {
		return err
	}
	if err := printDevInbound(ctx, e, s, net.JoinHostPort(devMX, strconv.Itoa(rcv.Port()))); err != nil {
		return err
	}
	return s.Run(ctx)
}

// applyDevEnv lets SEALPOST_* variables still override dev defaults.
func applyDevEnv(e *env, cfg *config.Config) error {
	for _, kv := range e.environ {
		if strings.HasPrefix(kv, "SEALPOST_") && !strings.HasPrefix(kv, "SEALPOST_TEST_") && !strings.HasPrefix(kv, "SEALPOST_CONFIG=") {
			return fmt.Errorf("dev ignores configuration; unset %s or use `sealpost serve`", strings.SplitN(kv, "=", 2)[0])
		}
	}
	cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "sealpost.db")
	cfg.MasterKeyFile = filepath.Join(cfg.DataDir, "master.key")
	return nil
}

// devKeyring loads the dev master key, generating it on first start.
func devKeyring(path string) (*seal.Keyring, error) {
	ring, err := seal.LoadKeyring(path)
	if errors.Is(err, os.ErrNotExist) {
		ring, _ = seal.NewKeyring(seal.GenerateMasterKey())
		if err := seal.WriteKeyFile(path, ring); err != nil {
			return nil, err
		}
		return ring, nil
	}
	return ring, err
}

// devSetup makes (once) the dev tenant, its verified domain and DKIM key, publishes
// the DKIM record in the dev DNS, and returns a new admin API key.
func devSetup(ctx context.Context, s *server.Server, dns *devnet.DNS) (string, error) {
	t, err := s.Tenants.Tenant(ctx, "dev")
	if errors.Is(err, store.ErrNotFound) {
		t, err = s.Tenants.Create(ctx, "dev")
	}
	if err != nil {
		return "", err
	}
	if _, err := s.DB.Domain(ctx, t.ID, "example.com"); errors.Is(err, store.ErrNotFound) {
		if _, err := s.Tenants.AddDomain(ctx, t.ID, "example.com", true); err != nil {
			return "", err
		}
	}
	k, err := s.DB.ActiveDKIMKey(ctx, t.ID, "example.com")
	if errors.Is(err, store.ErrNotFound) {
		k, err = s.Tenants.GenerateDKIM(ctx, t.ID, "example.com", "dev", "ed25519")
	}
	if err != nil {
		return "", err
	}
	dns.AddTXT(k.DNSName, k.DNSValue)
	secret, _, err := s.Tenants.CreateKey(ctx, t.ID, tenant.KeyOptions{Name: "dev", Scopes: []string{tenant.ScopeAdmin}})
	return secret, err
}
