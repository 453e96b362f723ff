package webhook

// Catalogue is every event type a timeline records and a webhook may carry, with what
// it means. It is the one list: the API's event filter, endpoint filters and the
// OpenAPI document's webhooks section all read it.
var Catalogue = []struct{ Type, Description string }{
	{"accepted", "the message was accepted and stored sealed"},
	{"queued", "a delivery to the recipient was queued"},
	{"quarantined", "the policy held the message for review"},
	{"released", "an administrator released a quarantined message"},
	{"deleted", "an administrator deleted a quarantined message"},
	{"deferred", "a delivery attempt failed temporarily and will be retried"},
	{"delivered", "the recipient's server accepted the message"},
	{"bounced", "the delivery failed permanently"},
	{"expired", "the delivery was retried until the message expired"},
	{"dropped", "an operator dropped the delivery from the queue"},
	{"secured", "how the delivered copy was secured: method and evidence"},
	{"revoked", "the sender withdrew the message from the recipient"},
	{"portal.notified", "a portal notice was delivered; the copy waits in the portal"},
	{"portal.code_sent", "an access code was sent to the recipient"},
	{"portal.code_failed", "a wrong access code was entered"},
	{"portal.locked", "the portal copy was locked after too many wrong codes"},
	{"portal.signed_in", "the recipient signed in to the portal"},
	{"portal.viewed", "the recipient viewed the message"},
	{"portal.downloaded", "the recipient downloaded an attachment"},
	{"portal.replied", "the recipient replied through the portal"},
	{"portal.expiry_changed", "the sender moved the portal copy's expiry"},
	{"portal.expired", "the portal copy expired and was destroyed"},
	{"portal.revoked", "the portal copy was revoked and destroyed"},
	{"webhook.disabled", "a webhook endpoint was disabled (410 Gone, or failing for 5 days)"},
	// Tracking: opens and clicks, each with a class of human, proxy or machine.
	{"opened", "the tracking pixel was fetched; data.class says by a person (human), a privacy or image proxy (proxy) or a scanner (machine)"},
	{"clicked", "a tracked link was followed; data.class says by a person (human), a proxy (proxy) or a scanner (machine)"},
	// Marketing consent and unsubscribes.
	{"consent.expired", "a consent or authorisation reached its expiry date or event (recipient_id is the consent's id)"},
	{"consent.revoked", "a consent or authorisation was revoked (recipient_id is the consent's id)"},
	{"unsubscribed", "the recipient of a marketing message unsubscribed"},
	// Access beyond API keys.
	{"access.anomaly", "a credential sent far above its own baseline or from a network it never used (and was suspended, if the account chose so)"},
	// SMTP gateway: complaints arrive by mail (RFC 5965) at the delivery's return path.
	{"complained", "the recipient reported the message as spam (a feedback report)"},
	// Secure forms.
	{"form.submitted", "a form submission was accepted and sealed; ids only, never the values"},
	// Inbound gateway: mail for a tenant's protected domains (message_id is the inbound message's id).
	{"inbound.received", "mail for a protected domain was accepted and stored sealed"},
	{"inbound.quarantined", "the inbound policy held the message (DMARC failure, dangerous attachment or DLP)"},
	{"inbound.rejected", "the message was refused at the end of DATA: it failed DMARC under the sender domain's reject policy"},
	{"inbound.forwarded", "the tenant's mailbox host accepted the message over verified TLS"},
	{"inbound.deferred", "forwarding failed temporarily and will be retried"},
	{"inbound.failed", "forwarding failed permanently or expired"},
	{"inbound.released", "an administrator released the message from quarantine; it is forwarded"},
	{"inbound.deleted", "an administrator deleted the message from quarantine"},
	// Campaigns; "suppressed" covers any marketing message stopped when its delivery was claimed.
	{"suppressed", "a marketing delivery was stopped when claimed: the address is suppressed or the consent was revoked or expired"},
	{"campaign.paused", "a campaign paused itself: complaints or bounces passed its guard (recipient_id is the campaign's id)"},
	{"campaign.finished", "a campaign sent to its whole audience (recipient_id is the campaign's id)"},
}

// Types lists the catalogue's types.
var Types = func() []string {
	out := make([]string, len(Catalogue))
	for i, c := range Catalogue {
		out[i] = c.Type
	}
	return out
}()
