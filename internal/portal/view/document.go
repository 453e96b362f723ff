package view

import "strings"

// baseStyle makes a message readable whatever markup it brought: a system
// font, comfortable line height, long words and URLs wrapped, and images
// and tables kept within the frame.
const baseStyle = `html{color-scheme:light}` +
	`body{margin:0;padding:16px;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;` +
	`font-size:16px;line-height:1.5;color:#1f2328;background:#fff;word-wrap:break-word;overflow-wrap:anywhere}` +
	`img,table{max-width:100%}img{height:auto}` +
	`pre{white-space:pre-wrap}` +
	`blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #d0d7de}` +
	`a{color:#0b5cad}`

// Document wraps a fragment returned by Sanitize in a complete HTML
// document for the portal's sandboxed iframe (typically its srcdoc). It
// does not sanitize: the fragment must come from Sanitize.
func Document(fragment string) string {
	const head = `<!doctype html>` +
		`<html lang="en"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width,initial-scale=1">` +
		`<style>` + baseStyle + `</style></head><body>`
	const tail = `</body></html>`
	var b strings.Builder
	b.Grow(len(head) + len(fragment) + len(tail))
	b.WriteString(head)
	b.WriteString(fragment)
	b.WriteString(tail)
	return b.String()
}
