package web_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// smimeCert is a self-signed S/MIME certificate for email, made by the test.
func smimeCert(t *testing.T, email string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: email}, EmailAddresses: []string{email},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestRecipientKeysFromPages: a certificate added from the page is the one the API
// lists; a missing address and an unreadable key are refused by field; removal works.
func TestRecipientKeysFromPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		admin := e.person(ten, "admin@clinic.example", people.RoleAdmin)
		_, page := e.page(admin, "/app/recipient-keys")
		csrf := formToken(t, page)
		if s, body := e.form(admin, "/app/recipient-keys", url.Values{"csrf": {csrf}, "type": {"smime"}, "key": {"not a certificate"}}); s != 422 || !strings.Contains(body, "<code>email</code>") {
			t.Fatalf("no address: %d\n%s", s, body)
		}
		if s, body := e.form(admin, "/app/recipient-keys", url.Values{"csrf": {csrf}, "email": {"dr.lee@partner.example"}, "type": {"smime"}, "key": {"not a certificate"}}); s != 422 || !strings.Contains(body, "<code>key</code>") {
			t.Fatalf("bad key: %d\n%s", s, body)
		}
		cert := smimeCert(t, "dr.lee@partner.example")
		if s, body := e.form(admin, "/app/recipient-keys", url.Values{"csrf": {csrf}, "email": {"dr.lee@partner.example"}, "type": {"smime"}, "key": {cert}}); s != 303 {
			t.Fatalf("add: %d\n%s", s, body)
		}
		s, out := e.api("GET", "/v1/recipient-keys", key, nil)
		ks, _ := out["keys"].([]any)
		if s != 200 || len(ks) != 1 {
			t.Fatalf("API lists: %d %v", s, out)
		}
		id := ks[0].(map[string]any)["id"].(string)
		if _, page := e.page(admin, "/app/recipient-keys?email=dr.lee@partner.example"); !strings.Contains(page, "dr.lee@partner.example") || !strings.Contains(page, "usable") {
			t.Fatalf("list:\n%s", page)
		}
		if s, _ := e.form(admin, "/app/recipient-keys/"+id+"/delete", url.Values{"csrf": {csrf}}); s != 303 {
			t.Fatalf("remove: %d", s)
		}
		if s, _ := e.api("GET", "/v1/recipient-keys/"+id, key, nil); s != 404 {
			t.Fatalf("removed key still there: %d", s)
		}
		if n := auditCount(t, e, ten, "POST /v1/recipient-keys") + auditCount(t, e, ten, "DELETE /v1/recipient-keys/{id}"); n != 2 {
			t.Errorf("%d audit entries", n)
		}
	})
}

// upload posts a multipart form with one file, as a browser sends the branding form.
func (e *env) upload(cookie, path string, v url.Values, field, name string, file []byte) (int, string) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range v {
		for _, x := range vs {
			_ = mw.WriteField(k, x)
		}
	}
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", "__Host-sealpost="+cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func logoPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 48, 16))
	for x := range 48 {
		for y := range 16 {
			img.Set(x, y, color.RGBA{15, 42, 92, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// TestBrandingFromPages: every invalid setting is named at once; a logo upload and a
// name are saved through the portal service and read back by the API.
func TestBrandingFromPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		admin := e.person(ten, "admin@clinic.example", people.RoleAdmin)
		_, page := e.page(admin, "/app/branding")
		csrf := formToken(t, page)
		s, body := e.form(admin, "/app/branding", url.Values{"csrf": {csrf}, "default_expiry": {"soon"}, "notice_subject": {"A message"}, "notice_text": {"no link here"}})
		if s != 422 || !strings.Contains(body, "<code>default_expiry</code>") || !strings.Contains(body, "<code>notification.text</code>") {
			t.Fatalf("invalid settings: %d\n%s", s, body)
		}
		s, body = e.upload(admin, "/app/branding", url.Values{"csrf": {csrf}, "display_name": {"Northside Clinic"}, "default_expiry": {"14d"}}, "logo", "logo.png", logoPNG())
		if s != 303 {
			t.Fatalf("save: %d\n%s", s, body)
		}
		s, out := e.api("GET", "/v1/portal/settings", key, nil)
		if s != 200 || out["display_name"] != "Northside Clinic" || out["default_expiry"] != "14d" || out["logo"] == nil {
			t.Fatalf("API reads: %d %v", s, out)
		}
		if _, page := e.page(admin, "/app/branding"); !strings.Contains(page, `src="data:image/png;base64,`) {
			t.Error("logo not shown")
		}
		if n := auditCount(t, e, ten, "PUT /v1/portal/settings"); n != 1 {
			t.Errorf("%d audit entries", n)
		}
	})
}

// keysBrandingCases are the recipients' keys and branding actions for the rules test.
func keysBrandingCases(t *testing.T, e *env, tenantID, key string) map[string]ruleCase {
	cert := smimeCert(t, "dr.lee@partner.example")
	s, out := e.api("POST", "/v1/recipient-keys", key, map[string]any{"email": "dr.lee@partner.example", "type": "smime", "key": cert})
	if s != 201 {
		t.Fatalf("key: %d %v", s, out)
	}
	id := out["id"].(string)
	keys := func() string {
		_, out := e.api("GET", "/v1/recipient-keys", key, nil)
		return fmt.Sprint(out["keys"])
	}
	settings := func() string {
		_, out := e.api("GET", "/v1/portal/settings", key, nil)
		return fmt.Sprint(out)
	}
	return map[string]ruleCase{
		"POST /app/recipient-keys": {people.RoleDeveloper, "POST", "/v1/recipient-keys",
			"/app/recipient-keys", "/app/recipient-keys", "/app/recipient-keys", url.Values{"email": {"x@partner.example"}, "type": {"smime"}, "key": {cert}}, keys},
		"POST /app/recipient-keys/{id}/delete": {people.RoleCompliance, "DELETE", "/v1/recipient-keys/{id}",
			"/app/recipient-keys", "/app/recipient-keys/" + id + "/delete", "/app/recipient-keys/" + id + "/delete", nil, keys},
		"POST /app/branding": {people.RoleMarketer, "PUT", "/v1/portal/settings",
			"/app/branding", "/app/branding", "/app/branding", url.Values{"display_name": {"Forged"}}, settings},
	}
}
