// Package render fills message templates (subject, text and HTML bodies)
// with per-recipient data.
//
// The language is a logic-less subset of Mustache: it can insert values and
// repeat or skip sections, and nothing else. Templates are written by API
// users, so it has no way to call functions, include files or reach outside
// the data it is given, and its work and output are bounded.
//
//	{{ name }}              value, HTML-escaped in HTML mode
//	{{{ name }}}            value, never escaped
//	{{ patient.first_name }} dotted path into nested maps
//	{{ . }}                 the current section item
//	{{! comment }}          removed
//	{{# items }}...{{/ items }}  repeated per list item, or once if truthy
//	{{^ items }}...{{/ items }}  rendered only if items is falsy or empty
//
// A section, inverted section or comment tag alone on its line removes the
// whole line, so templates for plain text can be laid out readably.
package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits; fixed so every deployment behaves the same.
const (
	maxSource = 512 << 10 // bytes of template source
	maxDepth  = 20        // nested sections
	maxOutput = 10 << 20  // bytes of rendered output
	// maxSteps bounds the nodes visited in one Execute: nested sections over
	// long lists multiply, and empty sections produce no output to hit
	// maxOutput with.
	maxSteps = 1 << 23
)

// Mode selects how inserted values are escaped.
type Mode int

const (
	// Text inserts values as they are: for subjects and text/plain bodies.
	Text Mode = iota
	// HTML escapes values with html.EscapeString (&, <, >, ' and ") except
	// in triple braces.
	HTML
)

// Template is a parsed template. It is immutable and safe for concurrent
// use.
type Template struct {
	name  string
	nodes []node
	vars  []string
}

// Name returns the name given to Parse.
func (t *Template) Name() string { return t.name }

// Variables returns the variable paths the template references, in order of
// first appearance, including section names. Inside a section a name may
// resolve against the section's item rather than the top-level data; "." is
// not listed.
func (t *Template) Variables() []string {
	return append([]string(nil), t.vars...)
}

// Execute renders the template with data into w. Nothing is written unless
// rendering succeeds, so a failed render never leaves half a message.
func (t *Template) Execute(w io.Writer, data map[string]any, mode Mode) error {
	s := &state{tmpl: t, mode: mode, stack: []any{data}}
	if err := s.walk(t.nodes); err != nil {
		return err
	}
	if len(s.missing) > 0 {
		return &MissingError{Template: t.name, Variable: s.missing[0], Variables: s.missing}
	}
	_, err := w.Write(s.out)
	return err
}

// SyntaxError reports a template that cannot be parsed. Line and Col are
// 1-based; Col counts characters, not bytes.
type SyntaxError struct {
	Template  string
	Line, Col int
	Detail    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("template %s: %s", e.Template, e.Where())
}

// Where is the position and the problem, without the template's name.
func (e *SyntaxError) Where() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Detail)
}

// MissingError reports the variables the template references but the data
// lacks, each as the full dotted path written in the template. Variables lists
// every one, in order of first use; Variable is the first.
type MissingError struct {
	Template, Variable string
	Variables          []string
}

func (e *MissingError) Error() string {
	q := make([]string, len(e.Variables))
	for i, v := range e.Variables {
		q[i] = strconv.Quote(v)
	}
	if len(q) <= 1 {
		return fmt.Sprintf("template %s: missing variable %q", e.Template, e.Variable)
	}
	return fmt.Sprintf("template %s: missing variables %s", e.Template, strings.Join(q, ", "))
}

// TypeError reports a value that cannot be used where the template puts it,
// such as a list inserted as text or a type outside the JSON data model.
type TypeError struct {
	Template, Variable, Detail string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("template %s: variable %q %s", e.Template, e.Variable, e.Detail)
}

// LimitError reports a template or a rendering that exceeds a fixed limit.
type LimitError struct {
	Template, Detail string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("template %s: %s", e.Template, e.Detail)
}
