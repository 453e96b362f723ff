package api

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/mailauth"
	"github.com/sealpost/sealpost/internal/mailcheck/domaincheck"
	"github.com/sealpost/sealpost/internal/mailcheck/received"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
	"github.com/sealpost/sealpost/internal/webhook"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	Description string                 `json:"description"`
	Security    *[]map[string][]string `json:"security"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func parseOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return &doc
}

// openAPIPath turns a ServeMux pattern into an OpenAPI path: "{name...}" becomes "{name}".
func openAPIPath(p string) string { return strings.ReplaceAll(p, "...}", "}") }

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := parseOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf(`"openapi" is %q, want "3.1.0"`, doc.OpenAPI)
	}

	routes := map[string]Route{}
	for _, rt := range Routes() {
		key := strings.ToLower(rt.Method) + " " + openAPIPath(rt.Path)
		routes[key] = rt
		item, ok := doc.Paths[openAPIPath(rt.Path)]
		if !ok {
			t.Errorf("route %s %s: path missing from openapi.json", rt.Method, rt.Path)
			continue
		}
		raw, ok := item[strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("route %s %s: method missing from openapi.json", rt.Method, rt.Path)
			continue
		}
		var op openAPIOperation
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Errorf("route %s %s: %v", rt.Method, rt.Path, err)
			continue
		}
		if rt.Scope == "" {
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("public route %s %s: want security: []", rt.Method, rt.Path)
			}
		} else {
			if op.Security != nil {
				t.Errorf("route %s %s: overrides the bearer security requirement", rt.Method, rt.Path)
			}
			if !strings.Contains(op.Description, "Scope: "+rt.Scope+".") {
				t.Errorf("route %s %s: description %q does not name scope %q", rt.Method, rt.Path, op.Description, rt.Scope)
			}
		}
	}
	for path, item := range doc.Paths {
		for method := range item {
			if !slices.Contains(httpMethods, method) {
				continue // "parameters", "summary", …
			}
			if _, ok := routes[method+" "+path]; !ok {
				t.Errorf("openapi.json has %s %s, which Routes() does not serve", strings.ToUpper(method), path)
			}
		}
	}
}

func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := parseOpenAPI(t)
	for _, c := range []struct {
		schema string
		v      any
	}{
		{"SendRequest", SendRequest{}},
		{"Attachment", AttachmentJSON{}},
		{"Header", HeaderJSON{}},
		{"TemplateRequest", TemplateRequest{}},
		{"AuditView", AuditView{}},
		{"DomainCheck", domaincheck.Check{}},
		{"ReceivedHop", received.Hop{}},
		{"ReceivedReport", received.Report{}},
		{"ReceivedTLS", received.TLSInfo{}},
		{"TemplateView", TemplateView{}},
		{"MessageView", MessageView{}},
		{"RecipientView", RecipientView{}},
		{"EventView", EventView{}},
		{"DomainView", DomainView{}},
		{"DNSRecord", DNSRecord{}},
		{"KeyView", KeyView{}},
		{"Problem", Problem{}},
		{"SendResult", pipeline.Result{}},
		{"PortalOptions", PortalJSON{}},
		{"RevokeRequest", RevokeRequest{}},
		{"ExpiryRequest", ExpiryRequest{}},
		{"PortalSettings", portal.Settings{}},
		{"PortalCopy", portal.Copy{}},
		{"WebhookRequest", webhook.Spec{}},
		{"Webhook", struct {
			webhook.Endpoint
			Secret string `json:"secret"`
		}{}},
		{"WebhookPayload", webhook.Payload{}},
		// Access beyond API keys.
		{"OAuthClient", OAuthClientView{}},
		{"Introspection", oauth.Introspection{}},
		{"Session", SessionView{}},
		{"AccessSettings", AccessSettings{}},
		// Inbound gateway.
		{"InboundDomainView", InboundDomainView{}},
		{"InboundDomainRequest", InboundDomainRequest{}},
		{"InboundMessage", inbound.Message{}},
		{"InboundEnvelope", inbound.Envelope{}},
		{"InboundVerdict", mailauth.Verdict{}},
	} {
		s, ok := doc.Components.Schemas[c.schema]
		if !ok {
			t.Errorf("schema %s missing from openapi.json", c.schema)
			continue
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		fields := jsonFieldNames(reflect.TypeOf(c.v))
		if !slices.Equal(fields, props) {
			t.Errorf("schema %s has properties %v; Go type %T has JSON fields %v", c.schema, props, c.v, fields)
		}
	}
}

// TestOpenAPIRefsResolve checks every local $ref points at something that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	var root any
	if err := json.Unmarshal(OpenAPIDocument, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(root, ref) {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(root)
}

func resolves(root any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := root
	for _, seg := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		if cur, ok = m[seg]; !ok {
			return false
		}
	}
	return true
}

// jsonFieldNames lists the JSON names encoding/json uses for a struct's fields, sorted.
func jsonFieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFieldNames(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDocumentsUnavailable: every route that needs credentials (and so the
// database) documents the 503 a client gets while storage is unavailable, with its
// Retry-After header.
func TestOpenAPIDocumentsUnavailable(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses map[string]struct{ Headers map[string]json.RawMessage } `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Components.Responses["Unavailable"].Headers["Retry-After"]; !ok {
		t.Error("the Unavailable response does not document Retry-After")
	}
	for _, rt := range Routes() {
		if rt.Scope == "" {
			continue
		}
		var op struct{ Responses map[string]json.RawMessage }
		json.Unmarshal(doc.Paths[openAPIPath(rt.Path)][strings.ToLower(rt.Method)], &op)
		if !strings.Contains(string(op.Responses["503"]), "#/components/responses/Unavailable") {
			t.Errorf("%s %s: no 503 Unavailable response documented", rt.Method, rt.Path)
		}
	}
}
