package web_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sealpost/sealpost/internal/browsertest"
)

// demo is what the sending-setup pages show in the walk and its screenshots.
type demo struct{ held, hook, template string }

// seedDemo fills a tenant with realistic data that names no patient: a policy that
// holds messages tagged for review (and one held), a webhook with attempts, a
// recipient's certificate, a template and the portal's branding.
func (e *env) seedDemo(t *testing.T, key string) demo {
	t.Helper()
	var d demo
	d.held = e.held(key)
	d.hook = e.webhook(key, "https://hooks.scheduling.example/sealpost")
	e.sendOne(key)
	e.settleWebhookJobs()
	if s, out := e.api("POST", "/v1/recipient-keys", key, map[string]any{"email": "referrals@partner-hospital.example", "type": "smime",
		"key": smimeCert(t, "referrals@partner-hospital.example")}); s != 201 {
		t.Fatalf("key: %d %v", s, out)
	}
	s, out := e.api("POST", "/v1/templates", key, map[string]any{"name": "Appointment reminder", "subject": "Your appointment on {{appointment}}",
		"text": "Hello {{first_name}},\n\nThis is a reminder of your appointment on {{appointment}}.\n\nNorthside Clinic", "html": "<p>Hello {{first_name}},</p><p>See you on {{appointment}}.</p>"})
	if s != 201 {
		t.Fatalf("template: %d %v", s, out)
	}
	d.template = out["id"].(string)
	if s, out := e.api("PUT", "/v1/portal/settings", key, map[string]any{"display_name": "Northside Clinic", "default_expiry": "14d", "max_expiry": "30d",
		"logo": base64.StdEncoding.EncodeToString(logoPNG())}); s != 200 {
		t.Fatalf("branding: %d %v", s, out)
	}
	return d
}

// navLinks lists the navigation's pages as the signed-in person sees them.
func navLinks(t *testing.T, b *browsertest.Browser) []string {
	t.Helper()
	links, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("nav a")).map(a => a.getAttribute("href"))`))
	if err != nil {
		t.Fatal(err)
	}
	return links
}

// pageName names a page's screenshot by its last path segment
// (/app/compliance/dlp → dlp), so every screenshot sits directly in the folder.
func pageName(path string) string { return path[strings.LastIndex(path, "/")+1:] }

// waitText waits up to five seconds for sel's text to contain want: on a busy machine
// a form's submission can start after Click has stopped waiting for it.
func waitText(b *browsertest.Browser, sel, want string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if strings.Contains(b.Text(sel), want) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
