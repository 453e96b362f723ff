package pages

import (
	"html/template"
	"strconv"
	"strings"
	"time"
)

// dateLayout is how every date reads on the portal; the zone is always UTC
// and said so, because readers and senders may be in different zones.
const dateLayout = "Mon 2 Jan 2006, 15:04"

// funcs are the helpers the templates may call. None returns template.HTML:
// everything they produce is still escaped by html/template.
func funcs() template.FuncMap {
	return template.FuncMap{
		"docTitle":    docTitle,
		"brandName":   brandName,
		"date":        formatDate,
		"isoDate":     isoDate,
		"logoSrc":     logoSrc,
		"describedBy": describedBy,
		"plural":      plural,
		"codePattern": codePattern,
	}
}

// docTitle builds the document <title>.
func docTitle(p Page) string {
	title := p.Title
	if title == "" {
		title = "Secure message"
	}
	if p.Brand.Name == "" {
		return title
	}
	return title + " · " + p.Brand.Name
}

// brandName is the organisation's name as shown in the header band.
func brandName(b Brand) string {
	if b.Name == "" {
		return "Secure message"
	}
	return b.Name
}

func formatDate(t time.Time) string {
	return t.UTC().Format(dateLayout) + " UTC"
}

// isoDate is the machine-readable form for <time datetime>.
func isoDate(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// logoSrc returns the logo URL only when it is a same-origin path. The CSP
// would block other origins anyway; dropping them here avoids a broken
// image and keeps a misconfigured brand from pointing readers elsewhere.
// "//host" and "/\host" are read by browsers as other hosts.
func logoSrc(u string) string {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/\\") {
		return ""
	}
	return u
}

// describedBy lists the ids that describe a field: the page's error banner
// when there is one, then the field's own hints.
func describedBy(errText string, ids ...string) string {
	var out []string
	if errText != "" {
		out = append(out, "page-error")
	}
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return strings.Join(out, " ")
}

// plural picks the word form for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// codePattern is the HTML pattern attribute for an n-digit code.
func codePattern(n int) string {
	return "[0-9]{" + strconv.Itoa(n) + "}"
}
