package api

import (
	"net/http"

	"github.com/sealpost/sealpost/internal/campaign"

	"github.com/sealpost/sealpost/internal/tenant"
)

// Route is one endpoint and the scope it needs. This table is the whole API surface:
// the mux, the OpenAPI document test and the tenant-isolation test all read it.
type Route struct {
	Method, Path string
	Scope        string // "" = public (no credentials)
	handler      func(*Server, http.ResponseWriter, *http.Request, *tenant.Principal) error
}

// Routes lists every route.
func Routes() []Route {
	return []Route{
		{"GET", "/v1/openapi.json", "", (*Server).openAPI},

		{"POST", "/v1/messages", tenant.ScopeSend, (*Server).sendMessage},
		{"POST", "/v1/messages/batch", tenant.ScopeSend, (*Server).sendBatch},
		{"GET", "/v1/messages/{id}", tenant.ScopeRead, (*Server).getMessage},
		{"POST", "/v1/messages/{id}/release", tenant.ScopeAdmin, (*Server).releaseMessage},
		{"DELETE", "/v1/messages/{id}", tenant.ScopeAdmin, (*Server).deleteMessage},
		{"POST", "/v1/messages/{id}/revoke", tenant.ScopeSend, (*Server).revokeMessage},
		{"GET", "/v1/messages/{id}/portal", tenant.ScopeRead, (*Server).listPortalCopies},
		{"PATCH", "/v1/messages/{id}/portal", tenant.ScopeSend, (*Server).setPortalExpiry},
		{"GET", "/v1/events", tenant.ScopeRead, (*Server).listEvents},

		{"GET", "/v1/policy", tenant.ScopeAdmin, (*Server).getPolicy},
		{"PUT", "/v1/policy", tenant.ScopeAdmin, (*Server).putPolicy},
		{"POST", "/v1/policy/preview", tenant.ScopeSend, (*Server).previewPolicy},

		{"GET", "/v1/portal/settings", tenant.ScopeAdmin, (*Server).getPortalSettings},
		{"PUT", "/v1/portal/settings", tenant.ScopeAdmin, (*Server).putPortalSettings},

		{"GET", "/v1/recipient-keys", tenant.ScopeAdmin, (*Server).listRecipientKeys},
		{"POST", "/v1/recipient-keys", tenant.ScopeAdmin, (*Server).addRecipientKey},
		{"GET", "/v1/recipient-keys/{id}", tenant.ScopeAdmin, (*Server).getRecipientKey},
		{"DELETE", "/v1/recipient-keys/{id}", tenant.ScopeAdmin, (*Server).deleteRecipientKey},

		{"GET", "/v1/signing-keys", tenant.ScopeAdmin, (*Server).listSigningKeys},
		{"PUT", "/v1/signing-keys/{type}", tenant.ScopeAdmin, (*Server).putSigningKey},
		{"DELETE", "/v1/signing-keys/{type}", tenant.ScopeAdmin, (*Server).deleteSigningKey},

		{"GET", "/v1/templates", tenant.ScopeTemplates, (*Server).listTemplates},
		{"POST", "/v1/templates", tenant.ScopeTemplates, (*Server).createTemplate},
		{"GET", "/v1/templates/{id}", tenant.ScopeTemplates, (*Server).getTemplate},
		{"PUT", "/v1/templates/{id}", tenant.ScopeTemplates, (*Server).updateTemplate},
		{"DELETE", "/v1/templates/{id}", tenant.ScopeTemplates, (*Server).deleteTemplate},

		{"GET", "/v1/domains", tenant.ScopeAdmin, (*Server).listDomains},
		{"POST", "/v1/domains", tenant.ScopeAdmin, (*Server).addDomain},
		{"GET", "/v1/domains/{domain}", tenant.ScopeAdmin, (*Server).getDomain},
		{"DELETE", "/v1/domains/{domain}", tenant.ScopeAdmin, (*Server).deleteDomain},
		{"POST", "/v1/domains/{domain}/verify", tenant.ScopeAdmin, (*Server).verifyDomain},
		{"POST", "/v1/domains/{domain}/dkim", tenant.ScopeAdmin, (*Server).createDKIM},
		{"GET", "/v1/domains/{domain}/checks", tenant.ScopeAdmin, (*Server).checkDomain},
		{"GET", "/v1/domains/{domain}/security", tenant.ScopeRead, (*Server).domainSecurity},

		{"POST", "/v1/tools/received-headers", tenant.ScopeRead, (*Server).analyzeHeaders},

		{"GET", "/v1/audit", tenant.ScopeAudit, (*Server).listAudit},

		{"GET", "/v1/webhooks", tenant.ScopeAdmin, (*Server).listWebhooks},
		{"POST", "/v1/webhooks", tenant.ScopeAdmin, (*Server).createWebhook},
		{"GET", "/v1/webhooks/signing-key", tenant.ScopeRead, (*Server).webhookSigningKey},
		{"GET", "/v1/webhooks/{id}", tenant.ScopeAdmin, (*Server).getWebhook},
		{"PATCH", "/v1/webhooks/{id}", tenant.ScopeAdmin, (*Server).updateWebhook},
		{"DELETE", "/v1/webhooks/{id}", tenant.ScopeAdmin, (*Server).deleteWebhook},
		{"POST", "/v1/webhooks/{id}/rotate", tenant.ScopeAdmin, (*Server).rotateWebhook},
		{"POST", "/v1/webhooks/{id}/test", tenant.ScopeAdmin, (*Server).testWebhook},
		{"GET", "/v1/webhooks/{id}/attempts", tenant.ScopeAdmin, (*Server).webhookAttempts},
		{"POST", "/v1/webhooks/{id}/replay", tenant.ScopeAdmin, (*Server).replayWebhook},

		{"GET", "/v1/keys", tenant.ScopeAdmin, (*Server).listKeys},
		{"POST", "/v1/keys", tenant.ScopeAdmin, (*Server).createKey},
		{"DELETE", "/v1/keys/{id}", tenant.ScopeAdmin, (*Server).revokeKey},

		// The archive: search, view, export, legal holds, retention, verification.
		{"POST", "/v1/archive/search", tenant.ScopeArchive, (*Server).archiveSearch},
		{"GET", "/v1/archive/entries/{id}", tenant.ScopeArchive, (*Server).archiveEntry},
		{"GET", "/v1/archive/entries/{id}/view", tenant.ScopeArchive, (*Server).archiveView},
		{"GET", "/v1/archive/entries/{id}/raw", tenant.ScopeArchive, (*Server).archiveRaw},
		{"POST", "/v1/archive/export", tenant.ScopeArchive, (*Server).archiveExport},
		{"GET", "/v1/archive/holds", tenant.ScopeArchive, (*Server).archiveHolds},
		{"POST", "/v1/archive/holds", tenant.ScopeArchive, (*Server).archivePlaceHold},
		{"POST", "/v1/archive/holds/{id}/release", tenant.ScopeArchive, (*Server).archiveReleaseHold},
		{"GET", "/v1/archive/retention", tenant.ScopeArchive, (*Server).archiveRules},
		{"PUT", "/v1/archive/retention", tenant.ScopeArchive, (*Server).archiveSetRule},
		{"DELETE", "/v1/archive/retention/{id}", tenant.ScopeArchive, (*Server).archiveDeleteRule},
		{"POST", "/v1/archive/purge", tenant.ScopeArchive, (*Server).archivePurge},
		{"GET", "/v1/archive/verify", tenant.ScopeArchive, (*Server).archiveVerify},
		// Reports: statistics, message search, compliance.
		{"GET", "/v1/stats", tenant.ScopeRead, (*Server).getStats},
		{"GET", "/v1/messages", tenant.ScopeRead, (*Server).listMessages},
		{"GET", "/v1/reports/disclosures", tenant.ScopeAudit, (*Server).getDisclosures},
		{"GET", "/v1/reports/dlp", tenant.ScopeAudit, (*Server).getDLPReport},
		// Marketing audience: contacts, lists, topics, segments, consent, suppression.
		{"GET", "/v1/contact-fields", tenant.ScopeMarketing, (*Server).listContactFields},
		{"POST", "/v1/contact-fields", tenant.ScopeMarketing, (*Server).addContactField},
		{"DELETE", "/v1/contact-fields/{name}", tenant.ScopeMarketing, (*Server).deleteContactField},
		{"GET", "/v1/contacts", tenant.ScopeMarketing, (*Server).listContacts},
		{"POST", "/v1/contacts", tenant.ScopeMarketing, (*Server).putContact},
		{"POST", "/v1/contacts/import", tenant.ScopeMarketing, (*Server).importContacts},
		{"GET", "/v1/contacts/export", tenant.ScopeMarketing, (*Server).exportContacts},
		{"GET", "/v1/contacts/{id}", tenant.ScopeMarketing, (*Server).getContact},
		{"DELETE", "/v1/contacts/{id}", tenant.ScopeMarketing, (*Server).deleteContact},
		{"GET", "/v1/lists", tenant.ScopeMarketing, (*Server).listLists},
		{"POST", "/v1/lists", tenant.ScopeMarketing, (*Server).createList},
		{"GET", "/v1/lists/{id}", tenant.ScopeMarketing, (*Server).getList},
		{"DELETE", "/v1/lists/{id}", tenant.ScopeMarketing, (*Server).deleteList},
		{"PUT", "/v1/lists/{id}/members/{contact}", tenant.ScopeMarketing, (*Server).putListMember},
		{"DELETE", "/v1/lists/{id}/members/{contact}", tenant.ScopeMarketing, (*Server).deleteListMember},
		{"GET", "/v1/topics", tenant.ScopeMarketing, (*Server).listTopics},
		{"POST", "/v1/topics", tenant.ScopeMarketing, (*Server).createTopic},
		{"GET", "/v1/segments", tenant.ScopeMarketing, (*Server).listSegments},
		{"POST", "/v1/segments", tenant.ScopeMarketing, (*Server).createSegment},
		{"POST", "/v1/segments/preview", tenant.ScopeMarketing, (*Server).previewSegment},
		{"GET", "/v1/segments/{id}", tenant.ScopeMarketing, (*Server).getSegment},
		{"DELETE", "/v1/segments/{id}", tenant.ScopeMarketing, (*Server).deleteSegment},
		{"GET", "/v1/segments/{id}/contacts", tenant.ScopeMarketing, (*Server).segmentContacts},
		{"GET", "/v1/consents", tenant.ScopeMarketing, (*Server).listConsents},
		{"POST", "/v1/consents", tenant.ScopeMarketing, (*Server).addConsent},
		{"POST", "/v1/consents/expiry-events", tenant.ScopeMarketing, (*Server).fireConsentEvent},
		{"GET", "/v1/consents/{id}", tenant.ScopeMarketing, (*Server).getConsent},
		{"POST", "/v1/consents/{id}/revoke", tenant.ScopeMarketing, (*Server).revokeConsent},
		{"GET", "/v1/suppressions", tenant.ScopeMarketing, (*Server).listSuppressions},
		{"POST", "/v1/suppressions", tenant.ScopeMarketing, (*Server).addSuppression},
		{"POST", "/v1/suppressions/remove", tenant.ScopeMarketing, (*Server).removeSuppression},
		{"POST", "/v1/marketing/messages", tenant.ScopeMarketing, (*Server).sendMarketing},
		// Access beyond API keys: OAuth 2.0 client credentials and its metadata.
		{"POST", "/oauth/token", "", (*Server).token},
		{"POST", "/oauth/introspect", "", (*Server).introspect},
		{"POST", "/oauth/revoke", "", (*Server).revokeToken},
		{"GET", "/.well-known/oauth-authorization-server", "", (*Server).oauthMetadata},
		{"GET", "/.well-known/jwks.json", "", (*Server).jwks},
		{"GET", "/v1/oauth-clients", tenant.ScopeAdmin, (*Server).listOAuthClients},
		{"POST", "/v1/oauth-clients", tenant.ScopeAdmin, (*Server).createOAuthClient},
		{"DELETE", "/v1/oauth-clients/{id}", tenant.ScopeAdmin, (*Server).revokeOAuthClient},
		{"POST", "/v1/oauth-clients/{id}/signature-keys", tenant.ScopeAdmin, (*Server).addSignatureKey},
		{"DELETE", "/v1/oauth-clients/{id}/sessions", tenant.ScopeAdmin, (*Server).revokeClientSessions},
		{"POST", "/v1/sessions", "", (*Server).openSession},
		{"GET", "/v1/sessions", tenant.ScopeAdmin, (*Server).listSessions},
		{"DELETE", "/v1/sessions/{id}", tenant.ScopeAdmin, (*Server).revokeSession},
		{"GET", "/v1/access/settings", tenant.ScopeAdmin, (*Server).getAccessSettings},
		{"PUT", "/v1/access/settings", tenant.ScopeAdmin, (*Server).putAccessSettings},
		// SMTP credentials for the submission listeners.
		{"GET", "/v1/smtp-credentials", tenant.ScopeAdmin, (*Server).listSMTPCredentials},
		{"POST", "/v1/smtp-credentials", tenant.ScopeAdmin, (*Server).createSMTPCredential},
		{"DELETE", "/v1/smtp-credentials/{id}", tenant.ScopeAdmin, (*Server).revokeSMTPCredential},
		{"GET", "/v1/smtp-relay-proofs", tenant.ScopeAdmin, (*Server).listRelayProofs},
		{"POST", "/v1/smtp-relay-proofs", tenant.ScopeAdmin, (*Server).addRelayProof},
		{"DELETE", "/v1/smtp-relay-proofs/{id}", tenant.ScopeAdmin, (*Server).deleteRelayProof},
		// Secure forms.
		{"GET", "/v1/forms", tenant.ScopeForms, (*Server).listForms},
		{"POST", "/v1/forms", tenant.ScopeForms, (*Server).createForm},
		{"GET", "/v1/forms/{id}", tenant.ScopeForms, (*Server).getForm},
		{"DELETE", "/v1/forms/{id}", tenant.ScopeForms, (*Server).deleteForm},
		{"GET", "/v1/forms/{id}/submissions", tenant.ScopeForms, (*Server).listFormSubmissions},
		// Compliance report: access anomalies per credential.
		{"GET", "/v1/reports/anomalies", tenant.ScopeAdmin, (*Server).getAnomalies},
		// Journeys (drip sequences).
		{"GET", "/v1/journeys", tenant.ScopeMarketing, (*Server).listJourneys},
		{"POST", "/v1/journeys", tenant.ScopeMarketing, (*Server).createJourney},
		{"POST", "/v1/journeys/events", tenant.ScopeMarketing, (*Server).journeyEvent},
		{"GET", "/v1/journeys/{id}", tenant.ScopeMarketing, (*Server).getJourney},
		{"POST", "/v1/journeys/{id}/activate", tenant.ScopeMarketing, (*Server).activateJourney},
		{"POST", "/v1/journeys/{id}/pause", tenant.ScopeMarketing, (*Server).pauseJourney},
		{"POST", "/v1/journeys/{id}/archive", tenant.ScopeMarketing, (*Server).archiveJourney},
		{"GET", "/v1/journeys/{id}/runs", tenant.ScopeMarketing, (*Server).listJourneyRuns},
		{"GET", "/v1/journeys/{id}/report", tenant.ScopeMarketing, (*Server).getJourneyReport},
		{"GET", "/v1/journey-runs/{id}", tenant.ScopeMarketing, (*Server).getJourneyRun},
		// Inbound gateway: protected domains and their quarantine.
		{"GET", "/v1/inbound-domains", tenant.ScopeAdmin, (*Server).listInboundDomains},
		{"POST", "/v1/inbound-domains", tenant.ScopeAdmin, (*Server).addInboundDomain},
		{"DELETE", "/v1/inbound-domains/{id}", tenant.ScopeAdmin, (*Server).deleteInboundDomain},
		{"GET", "/v1/inbound-messages", tenant.ScopeAdmin, (*Server).listInboundMessages},
		{"GET", "/v1/inbound-messages/{id}", tenant.ScopeAdmin, (*Server).getInboundMessage},
		{"DELETE", "/v1/inbound-messages/{id}", tenant.ScopeAdmin, (*Server).deleteInboundMessage},
		{"POST", "/v1/inbound-messages/{id}/release", tenant.ScopeAdmin, (*Server).releaseInboundMessage},
		// Campaigns.
		{"GET", "/v1/campaigns", tenant.ScopeMarketing, (*Server).listCampaigns},
		{"POST", "/v1/campaigns", tenant.ScopeMarketing, (*Server).createCampaign},
		{"GET", "/v1/campaigns/{id}", tenant.ScopeMarketing, (*Server).getCampaign},
		{"POST", "/v1/campaigns/{id}/approve", tenant.ScopeMarketing, campaignAction((*campaign.Service).Approve)},
		{"POST", "/v1/campaigns/{id}/schedule", tenant.ScopeMarketing, campaignAction((*campaign.Service).Schedule)},
		{"POST", "/v1/campaigns/{id}/pause", tenant.ScopeMarketing, campaignAction((*campaign.Service).Pause)},
		{"POST", "/v1/campaigns/{id}/resume", tenant.ScopeMarketing, campaignAction((*campaign.Service).Resume)},
		{"POST", "/v1/campaigns/{id}/cancel", tenant.ScopeMarketing, campaignAction((*campaign.Service).Cancel)},
		{"POST", "/v1/campaigns/{id}/test", tenant.ScopeMarketing, (*Server).testCampaign},
		{"POST", "/v1/campaigns/{id}/conversions", tenant.ScopeMarketing, (*Server).addConversion},
		{"GET", "/v1/campaigns/{id}/report", tenant.ScopeMarketing, (*Server).campaignReport},
		// Marketing sunset policy.
		{"GET", "/v1/marketing/sunset", tenant.ScopeMarketing, (*Server).getSunset},
		{"PUT", "/v1/marketing/sunset", tenant.ScopeMarketing, (*Server).putSunset},
	}
}
