package view

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// Sanitize makes HTML safe to render inside a sandboxed iframe. What is
// kept is an allowlist of formatting: text structure, lists, tables,
// quotes, fonts and colours, a safe subset of inline CSS, links to
// http/https/mailto (opened in a new tab, without opener or referrer), and
// images that need no network: cid: references to parts of the message and
// data: URLs of PNG, JPEG, GIF or WebP. Everything that runs, loads, submits
// or restyles the page is dropped: scripts, event handlers, forms, frames,
// objects, <base>, <meta>, <link>, <style>, SVG, MathML, and every remote
// URL outside a link.
//
// cid: image sources are replaced by cidURL(contentID), the Content-ID
// without brackets and percent-decoded; an empty result drops the image.
// The URL cidURL returns must be relative or http(s). The output is an
// HTML fragment.
func Sanitize(html string, cidURL func(contentID string) string) string {
	return finishFragment(newPolicy().Sanitize(html), cidURL)
}

// Values the policy accepts. The regular expressions are compiled per call
// with the policy: portal pages are rare enough that this costs nothing
// worth keeping package state for.
const (
	// Link targets: the scheme is checked again by the URL parser; this
	// keeps relative and other-scheme URLs out.
	linkPattern = `(?i)^\s*(?:https?://|mailto:)`
	// Image sources: Content-ID references and data: URLs of raster
	// images only (SVG can carry script).
	imagePattern = `(?i)^\s*(?:cid:|data:image/(?:png|jpeg|gif|webp);base64,)`
	// CSS values: words, numbers, units, colours, quoted font names, and
	// colour functions. No backslash (CSS escapes), no url(), no
	// expression(), no @import, no semicolons or braces.
	cssValuePattern = `^[a-z0-9#%.,\s"'!+\-/]*(?:(?:rgba?|hsla?)\([a-z0-9.,%\s/+\-]*\)[a-z0-9#%.,\s"'!+\-/]*)*$`
	colorPattern    = `^(?i)(?:#[0-9a-f]{3,8}|[a-z]{3,30})$`
	numberPattern   = `^[0-9]{1,4}$`
	sizePattern     = `^[0-9]{1,4}(?:\.[0-9]{1,2})?(?:%|px)?$`
	alignPattern    = `^(?i)(?:left|right|center|justify)$`
	valignPattern   = `^(?i)(?:top|middle|bottom|baseline)$`
	fontFacePattern = `^[\w\s,\-"']{1,200}$`
	fontSizePattern = `^[+-]?[1-7]$`
	olTypePattern   = `^[1aAiI]$`
)

// formatting lists the elements kept, attributes or not. <a> and <img> are
// absent on purpose: without their URL they mean nothing and are dropped.
func formatting() []string {
	return []string{
		"p", "br", "b", "i", "u", "s", "strike", "strong", "em", "small", "big",
		"sub", "sup", "mark", "tt", "code", "kbd", "samp", "pre", "abbr", "cite",
		"h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "address",
		"ul", "ol", "li", "dl", "dt", "dd",
		"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th",
		"span", "div", "font", "center", "section", "article", "header", "footer",
		"figure", "figcaption", "del", "ins",
	}
}

// cssProperties lists the style properties kept, vendor prefixes aside.
// position, display and the like are absent: they let a message lay
// content over the portal's own text.
func cssProperties() []string {
	props := []string{
		"color", "background-color",
		"font", "font-family", "font-size", "font-style", "font-weight", "font-variant",
		"text-align", "text-decoration", "text-indent", "text-transform",
		"line-height", "letter-spacing", "vertical-align", "white-space",
		"width", "height", "max-width", "min-width", "max-height", "min-height",
		"border", "border-color", "border-style", "border-width", "border-collapse",
		"border-spacing", "border-radius",
		"margin", "padding",
	}
	for _, side := range []string{"top", "right", "bottom", "left"} {
		props = append(props, "margin-"+side, "padding-"+side, "border-"+side)
		for _, aspect := range []string{"color", "style", "width"} {
			props = append(props, "border-"+side+"-"+aspect)
		}
	}
	return props
}

// newPolicy builds the allowlist.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(formatting()...)
	// Content that is not text for the reader goes with its element.
	p.SkipElementsContent("svg", "math", "template", "select", "textarea", "head", "button", "option", "datalist")

	// URLs must parse, and only these schemes survive anywhere; the
	// per-attribute patterns narrow them further.
	p.RequireParseableURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowURLSchemeWithCustomPolicy("cid", func(u *url.URL) bool { return u.Opaque != "" })
	p.AllowURLSchemeWithCustomPolicy("data", isRasterDataURL)
	p.AllowAttrs("href").Matching(regexp.MustCompile(linkPattern)).OnElements("a")
	p.AllowAttrs("src").Matching(regexp.MustCompile(imagePattern)).OnElements("img")
	p.AllowAttrs("alt").Matching(bluemonday.Paragraph).OnElements("img")

	size := regexp.MustCompile(sizePattern)
	number := regexp.MustCompile(numberPattern)
	color := regexp.MustCompile(colorPattern)
	p.AllowAttrs("width", "height").Matching(size).OnElements("img", "table", "td", "th", "col", "colgroup", "hr")
	p.AllowAttrs("colspan", "rowspan", "span").Matching(number).OnElements("td", "th", "col", "colgroup")
	p.AllowAttrs("border", "cellpadding", "cellspacing").Matching(number).OnElements("table", "img")
	p.AllowAttrs("bgcolor").Matching(color).OnElements("table", "tr", "td", "th", "tbody", "thead", "tfoot")
	p.AllowAttrs("align").Matching(regexp.MustCompile(alignPattern)).
		OnElements("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td", "th",
			"thead", "tbody", "tfoot", "col", "colgroup", "caption", "img", "hr")
	p.AllowAttrs("valign").Matching(regexp.MustCompile(valignPattern)).
		OnElements("tr", "td", "th", "thead", "tbody", "tfoot", "col", "colgroup")
	p.AllowAttrs("scope").Matching(regexp.MustCompile(`^(?i)(?:row|col|rowgroup|colgroup)$`)).OnElements("th")
	p.AllowAttrs("color").Matching(color).OnElements("font")
	p.AllowAttrs("face").Matching(regexp.MustCompile(fontFacePattern)).OnElements("font")
	p.AllowAttrs("size").Matching(regexp.MustCompile(fontSizePattern)).OnElements("font")
	p.AllowAttrs("start").Matching(number).OnElements("ol")
	p.AllowAttrs("type").Matching(regexp.MustCompile(olTypePattern)).OnElements("ol")
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).Globally()
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[a-zA-Z]{2,8}(?:-[a-zA-Z0-9]{1,8})*$`)).Globally()

	p.AllowStyles(cssProperties()...).Matching(regexp.MustCompile(cssValuePattern)).Globally()
	return p
}

// isRasterDataURL accepts data: URLs holding base64 PNG, JPEG, GIF or WebP
// (RFC 2397) whose payload really is base64.
func isRasterDataURL(u *url.URL) bool {
	meta, payload, ok := strings.Cut(u.Opaque, ",")
	if !ok {
		return false
	}
	switch strings.ToLower(meta) {
	case "image/png;base64", "image/jpeg;base64", "image/gif;base64", "image/webp;base64":
	default:
		return false
	}
	payload = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, payload)
	_, err := base64.StdEncoding.DecodeString(payload)
	return err == nil && payload != ""
}
