package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
)

func oauthClientCmd(e *env, args []string) error {
	return sub(e, "oauth-client", args, map[string]func(*env, []string) error{
		"create": oauthClientCreate, "list": oauthClientList, "revoke": oauthClientRevoke, "signature-key": oauthClientSignatureKey,
	}, `
Verbs:
  create --tenant T [--scopes send,read] [--sandbox] [--expires 90d] [--name N]
         [--token-format opaque|jwt] [--token-ttl 15m] [--public-jwk FILE [--no-secret]]
         [--allow-network CIDR]... [--rate-per-second N --rate-burst N]
                    make an OAuth 2.0 client (client credentials grant); its secret is
                    printed once and never stored
  list [--tenant T] list clients (never their secrets)
  revoke ID         revoke a client and every token it holds, at once
  signature-key --tenant T --alg ed25519|hmac-sha256 [--public-key B64] ID
                    register a key that signs requests (RFC 9421) for the client

Clients get tokens at POST /oauth/token with client_secret_basic, client_secret_post
or, with --public-jwk, private_key_jwt (RFC 7523). Scopes: `+strings.Join(tenant.AllScopes, ", ")+`.`)
}

func (a *admin) oauth() (*oauth.Service, error) {
	ring, err := server.LoadKeyring(a.cfg)
	if err != nil {
		return nil, err
	}
	return server.OAuthService(a.cfg, a.db, ring, tenant.New(a.db, ring)), nil
}

func oauthClientCreate(e *env, args []string) error {
	fs := flags(e, "oauth-client create", "oauth-client create --tenant T [flags]",
		"Creates an OAuth 2.0 client. It exchanges its id and secret (or a signed assertion) for short-lived access tokens at POST /oauth/token.")
	cfg, ten := tenantFlags(fs, e)
	scopes := fs.String("scopes", "send,read", "comma-separated scopes: "+strings.Join(tenant.AllScopes, ", "))
	sandbox := fs.Bool("sandbox", false, "sandbox client: runs the whole pipeline but never delivers")
	expires := fs.String("expires", "", "lifetime (90d, 720h) or RFC 3339 time; default never")
	name := fs.String("name", "", "a label for the client")
	format := fs.String("token-format", "opaque", "opaque (stored hashed) or jwt (RFC 9068, verifiable with /.well-known/jwks.json)")
	ttl := fs.Duration("token-ttl", oauth.DefaultTokenTTL, "lifetime of each access token (1m to 24h)")
	jwk := fs.String("public-jwk", "", "file holding the client's public JWK, for private_key_jwt")
	noSecret := fs.Bool("no-secret", false, "issue no secret: the client authenticates only with private_key_jwt")
	access := accessFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	exp, err := parseExpiry(*expires, time.Now())
	if err != nil {
		return err
	}
	o := oauth.ClientOptions{Name: *name, Scopes: strings.Split(*scopes, ","), Sandbox: *sandbox, Expires: exp, TokenFormat: *format, TokenTTL: *ttl, NoSecret: *noSecret, Access: access()}
	if *jwk != "" {
		b, err := os.ReadFile(*jwk)
		if err != nil {
			return err
		}
		o.PublicJWK = string(b)
	}
	a, t, err := openTenant(e, *cfg, *ten)
	if err != nil {
		return err
	}
	defer a.close()
	svc, err := a.oauth()
	if err != nil {
		return err
	}
	secret, c, err := svc.CreateClient(context.Background(), t.ID, o)
	if err != nil {
		return err
	}
	if err := a.record("oauth_client.create", t.ID, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "OAuth client created for %s (scopes %s). Token endpoint: %s\n", t.Name, strings.Join(c.Scopes, ","), svc.TokenEndpoint())
	fmt.Fprintf(e.stdout, "client_id=%s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(e.stderr, "The secret below is shown once:\n")
		fmt.Fprintf(e.stdout, "client_secret=%s\n", secret)
	}
	return nil
}

func oauthClientList(e *env, args []string) error {
	fs := flags(e, "oauth-client list", "oauth-client list [--tenant T]", "Lists OAuth clients, of one tenant or of all.")
	cfg, ten := tenantFlags(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	tenantID := ""
	if *ten != "" {
		t, err := a.tenant(*ten)
		if err != nil {
			return err
		}
		tenantID = t.ID
	}
	svc, err := a.oauth()
	if err != nil {
		return err
	}
	cs, err := svc.Clients(context.Background(), tenantID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tNAME\tSCOPES\tSANDBOX\tTOKENS\tAUTH\tEXPIRES\tSTATE\tNETWORKS\tLIMIT")
	for _, c := range cs {
		exp, state := "never", "live"
		if !c.ExpiresAt.IsZero() {
			exp = c.ExpiresAt.Format(time.RFC3339)
			if time.Now().After(c.ExpiresAt) {
				state = "expired"
			}
		}
		if !c.RevokedAt.IsZero() {
			state = "revoked"
		}
		var auth []string
		if c.SecretHash != nil {
			auth = append(auth, "secret")
		}
		if c.PublicJWK != "" {
			auth = append(auth, "private_key_jwt")
		}
		nets, limit := accessColumns(c.Access)
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s/%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, strings.Join(c.Scopes, ","), c.Sandbox, c.TokenFormat, c.TokenTTL, strings.Join(auth, ","), exp, state, nets, limit)
	}
	return w.Flush()
}

func oauthClientRevoke(e *env, args []string) error {
	fs := flags(e, "oauth-client revoke", "oauth-client revoke ID", "Revokes an OAuth client and every access token it holds; the next request with any of them is refused.")
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	svc, err := a.oauth()
	if err != nil {
		return err
	}
	if err := svc.RevokeClient(context.Background(), "", fs.Arg(0)); err != nil {
		return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
	}
	if err := a.record("oauth_client.revoke", "", fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "OAuth client %s and its tokens revoked\n", fs.Arg(0))
	return nil
}

func oauthClientSignatureKey(e *env, args []string) error {
	fs := flags(e, "oauth-client signature-key", "oauth-client signature-key --tenant T --alg ed25519|hmac-sha256 [--public-key BASE64] CLIENT_ID",
		"Registers a key that signs requests (RFC 9421) for a client. ed25519: give the 32-byte public key, base64. hmac-sha256: the secret is made here and printed once.")
	cfg, ten := tenantFlags(fs, e)
	alg := fs.String("alg", oauth.AlgEd25519, "ed25519 or hmac-sha256")
	pubB64 := fs.String("public-key", "", "ed25519 public key, base64 (32 bytes)")
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	var pub []byte
	if *pubB64 != "" {
		if pub, err = base64.StdEncoding.DecodeString(*pubB64); err != nil {
			return fmt.Errorf("--public-key: not base64")
		}
	}
	svc, err := a.oauth()
	if err != nil {
		return err
	}
	k, secret, err := svc.AddSignatureKey(context.Background(), t.ID, fs.Arg(0), *alg, pub)
	if err != nil {
		return err
	}
	if err := a.record("oauth_client.signature_key", t.ID, k.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "keyid=%s\n", k.ID)
	if secret != "" {
		fmt.Fprintf(e.stderr, "The secret below is shown once:\n")
		fmt.Fprintf(e.stdout, "secret=%s\n", secret)
	}
	return nil
}

func sessionCmd(e *env, args []string) error {
	return sub(e, "session", args, map[string]func(*env, []string) error{
		"list": sessionList, "revoke": sessionRevoke, "revoke-client": sessionRevokeClient,
	}, `
Verbs:
  list [--tenant T]         list signed-request sessions, newest first
  revoke ID                 end one session; its next request is refused
  revoke-client CLIENT_ID   end every session of an OAuth client

A client opens a session with a request signed per RFC 9421 (POST /v1/sessions).`)
}

func sessionList(e *env, args []string) error {
	fs := flags(e, "session list", "session list [--tenant T]", "Lists signed-request sessions, newest first.")
	cfg, ten := tenantFlags(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	tenantID := ""
	if *ten != "" {
		t, err := a.tenant(*ten)
		if err != nil {
			return err
		}
		tenantID = t.ID
	}
	svc, err := a.oauth()
	if err != nil {
		return err
	}
	ss, err := svc.Sessions(context.Background(), tenantID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tCLIENT\tKEY\tCREATED\tEXPIRES\tSTATE")
	for _, s := range ss {
		state := "live"
		if !s.RevokedAt.IsZero() {
			state = "revoked"
		} else if time.Now().After(s.ExpiresAt) {
			state = "expired"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.ClientID, s.KeyID, s.CreatedAt.Format(time.RFC3339), s.ExpiresAt.Format(time.RFC3339), state)
	}
	return w.Flush()
}

func sessionRevoke(e *env, args []string) error {
	return sessionRevokeBy(e, args, false)
}

func sessionRevokeClient(e *env, args []string) error {
	return sessionRevokeBy(e, args, true)
}

func sessionRevokeBy(e *env, args []string, client bool) error {
	verb, usageLine, about := "revoke", "session revoke ID", "Revokes one session; the next request under it is refused."
	if client {
		verb, usageLine, about = "revoke-client", "session revoke-client CLIENT_ID", "Revokes every live session of an OAuth client."
	}
	fs := flags(e, "session "+verb, usageLine, about)
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	svc, err := a.oauth()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if client {
		n, err := svc.RevokeClientSessions(ctx, "", fs.Arg(0))
		if err != nil {
			return fmt.Errorf("revoke sessions of %s: %w", fs.Arg(0), err)
		}
		if err := a.record("session.revoke_client", "", fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d sessions of %s revoked\n", n, fs.Arg(0))
		return nil
	}
	if err := svc.RevokeSession(ctx, "", fs.Arg(0)); err != nil {
		return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
	}
	if err := a.record("session.revoke", "", fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "session %s revoked\n", fs.Arg(0))
	return nil
}
