package marketing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
)

// Link purposes: what a signed link lets its holder do.
const (
	LinkUnsubscribe = "u" // unsubscribe from marketing (and the list it names)
	LinkPreferences = "p" // the preference centre
	LinkConfirm     = "c" // confirm a double opt-in list membership
)

// Link is what a signed link names. It carries ids only: never an address.
type Link struct {
	Purpose   string
	TenantID  string
	ContactID string
	ListID    string // optional
}

// Strict: a token whose unused trailing bits were altered is not the same token.
var b64 = base64.RawURLEncoding.Strict()

func (s *Service) linkMAC(ctx context.Context, l *Link) ([]byte, error) {
	k, _, err := s.keys(ctx, l.TenantID)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, k.Hash("marketing-link", "v1"))
	m.Write([]byte(l.Purpose + "\x00" + l.TenantID + "\x00" + l.ContactID + "\x00" + l.ListID))
	return m.Sum(nil)[:16], nil
}

// SignLink makes the long-lived token of a link: the ids and a MAC under a key of the
// tenant's, so it cannot be forged or altered, and it stops working if the tenant's
// key is destroyed.
func (s *Service) SignLink(ctx context.Context, l *Link) (string, error) {
	mac, err := s.linkMAC(ctx, l)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString([]byte(l.Purpose+"."+l.TenantID+"."+l.ContactID+"."+l.ListID)) + "." + b64.EncodeToString(mac), nil
}

// OpenLink checks a token and returns what it names; any alteration is ErrNotFound.
func (s *Service) OpenLink(ctx context.Context, token string) (*Link, error) {
	body, macStr, ok := strings.Cut(token, ".")
	if !ok || len(token) > 400 {
		return nil, store.ErrNotFound
	}
	raw, err1 := b64.DecodeString(body)
	mac, err2 := b64.DecodeString(macStr)
	parts := strings.Split(string(raw), ".")
	if err1 != nil || err2 != nil || len(parts) != 4 || parts[1] == "" || parts[2] == "" {
		return nil, store.ErrNotFound
	}
	l := &Link{Purpose: parts[0], TenantID: parts[1], ContactID: parts[2], ListID: parts[3]}
	want, err := s.linkMAC(ctx, l)
	if err != nil {
		return nil, store.ErrNotFound
	}
	if !hmac.Equal(mac, want) {
		return nil, store.ErrNotFound
	}
	if _, err := s.DB.Contact(ctx, l.TenantID, l.ContactID); err != nil {
		return nil, store.ErrNotFound
	}
	return l, nil
}

// Unsubscribe acts on a verified unsubscribe link at once (RFC 8058): the address is
// suppressed for marketing across every list, the list it names marks the contact
// unsubscribed, and an "unsubscribed" event is written in the same transaction.
func (s *Service) Unsubscribe(ctx context.Context, l *Link, via string) error {
	k, _, err := s.keys(ctx, l.TenantID)
	if err != nil {
		return err
	}
	c, err := s.DB.Contact(ctx, l.TenantID, l.ContactID)
	if err != nil {
		return err
	}
	email, err := k.Data.OpenString(c.Email, binding(c.EmailHash, "email"))
	if err != nil {
		return err
	}
	now := s.now()
	data, _ := json.Marshal(map[string]string{"contact_id": c.ID, "list_id": l.ListID, "via": via})
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.suppressTx(ctx, tx, l.TenantID, c.EmailHash, k.Data.SealString(email, suppressionBinding(c.EmailHash, ScopeMarketing)), "unsubscribed", ScopeMarketing, nil, now); err != nil {
			return err
		}
		if l.ListID != "" {
			if err := tx.PutMembership(ctx, l.TenantID, &store.Membership{ListID: l.ListID, ContactID: c.ID, Status: "unsubscribed", UpdatedAt: now}); err != nil {
				return err
			}
		}
		ev := &store.Event{TenantID: l.TenantID, RecipientID: c.ID, Type: "unsubscribed", At: now, Data: k.Data.Seal(data, "event/"+c.ID)}
		if err := tx.InsertEvents(ctx, ev); err != nil {
			return err
		}
		return audited(ctx, tx, nil, l.TenantID, "contact:"+c.ID, "marketing.unsubscribe", c.ID, via, now)
	})
}

// ConfirmMembership confirms a double opt-in membership from a verified link and
// records the confirmation as a double_opt_in consent whose evidence is the click.
func (s *Service) ConfirmMembership(ctx context.Context, l *Link, evidence string) error {
	if l.ListID == "" {
		return store.ErrNotFound
	}
	if _, err := s.DB.MarketingList(ctx, l.TenantID, l.ListID); err != nil {
		return err
	}
	c, err := s.GetContact(ctx, l.TenantID, l.ContactID)
	if err != nil {
		return err
	}
	if err := s.SetMembership(ctx, l.TenantID, l.ListID, l.ContactID, "confirmed", nil); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(evidence))
	_, err = s.RecordConsent(ctx, l.TenantID, &ConsentInput{Email: c.Email, Kind: "double_opt_in", Purposes: []string{"list-" + strings.ToLower(l.ListID)},
		ObtainedVia: "confirmation_click", EvidenceHash: hex.EncodeToString(sum[:])})
	return err
}

// Preferences is a contact's topics and choices, for the preference centre.
type Preferences struct {
	Topics     []*Topic
	Subscribed map[string]bool
	Suppressed bool
}

// GetPreferences loads what the preference centre shows.
func (s *Service) GetPreferences(ctx context.Context, l *Link) (*Preferences, error) {
	ts, err := s.Topics(ctx, l.TenantID)
	if err != nil {
		return nil, err
	}
	subs, err := s.DB.Subscriptions(ctx, l.TenantID, l.ContactID)
	if err != nil {
		return nil, err
	}
	c, err := s.DB.Contact(ctx, l.TenantID, l.ContactID)
	if err != nil {
		return nil, err
	}
	reason, err := s.DB.Suppressed(ctx, l.TenantID, c.EmailHash, ScopeMarketing)
	return &Preferences{Topics: ts, Subscribed: subs, Suppressed: reason != ""}, err
}

// SetPreferences records the preference centre's choices: subscribed topics are on,
// every other topic off.
func (s *Service) SetPreferences(ctx context.Context, l *Link, on map[string]bool) error {
	ts, err := s.Topics(ctx, l.TenantID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := s.SetSubscription(ctx, l.TenantID, t.ID, l.ContactID, on[t.ID], "contact:"+l.ContactID, nil); err != nil {
			return err
		}
	}
	return nil
}
