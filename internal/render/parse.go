package render

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type nodeKind uint8

const (
	textNode     nodeKind = iota
	varNode               // {{ x }}
	rawNode               // {{{ x }}}
	sectionNode           // {{# x }}
	invertedNode          // {{^ x }}
	closeNode             // {{/ x }}; only during parsing
	commentNode           // {{! x }}; only during lexing
)

// node is a parsed template element. Text nodes carry text; the others
// carry the variable name as written and its path.
type node struct {
	kind     nodeKind
	text     string   // literal text, or the variable name as written
	path     []string // name split at dots; nil for "."
	pos      int      // byte offset of the tag, for errors
	children []node   // section body
}

type parser struct {
	name string
	src  string
}

// Parse parses src. Syntax errors are reported as *SyntaxError and an
// oversized source as *LimitError.
func Parse(name, src string) (*Template, error) {
	if len(src) > maxSource {
		return nil, &LimitError{Template: name, Detail: "template source exceeds 512 KiB"}
	}
	p := &parser{name: name, src: src}
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, p.errorAt(i, "invalid UTF-8")
	}
	tokens, err := p.lex()
	if err != nil {
		return nil, err
	}
	nodes, rest, err := p.build(tokens, nil, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, p.errorAt(rest[0].pos, "closing tag for "+quote(rest[0].text)+" has no open section")
	}
	t := &Template{name: name, nodes: nodes}
	seen := map[string]bool{}
	collectVars(nodes, seen, &t.vars)
	return t, nil
}

// lex splits the source into text and tag tokens.
func (p *parser) lex() ([]node, error) {
	var tokens []node
	src := p.src
	i := 0
	for i < len(src) {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			tokens = append(tokens, node{kind: textNode, text: src[i:]})
			break
		}
		start := i + j
		tag, end, err := p.tag(start)
		if err != nil {
			return nil, err
		}
		text := src[i:start]
		if lead, trail, ok := p.standalone(tag.kind, start, end); ok {
			text = text[:len(text)-lead]
			end += trail
		}
		if text != "" {
			tokens = append(tokens, node{kind: textNode, text: text})
		}
		if tag.kind != commentNode {
			tokens = append(tokens, tag)
		}
		i = end
	}
	return tokens, nil
}

// tag reads the tag starting at src[start:] ("{{") and returns it with the
// offset just past its closing braces.
func (p *parser) tag(start int) (node, int, error) {
	src := p.src
	if strings.HasPrefix(src[start:], "{{{") {
		k := strings.Index(src[start+3:], "}}}")
		if k < 0 {
			return node{}, 0, p.errorAt(start, "unclosed tag: expected }}}")
		}
		n, err := p.named(rawNode, src[start+3:start+3+k], start)
		return n, start + 3 + k + 3, err
	}
	k := strings.Index(src[start+2:], "}}")
	if k < 0 {
		return node{}, 0, p.errorAt(start, "unclosed tag: expected }}")
	}
	end := start + 2 + k + 2
	body := strings.TrimSpace(src[start+2 : start+2+k])
	kind := varNode
	if body != "" {
		switch body[0] {
		case '!':
			return node{kind: commentNode, pos: start}, end, nil
		case '#':
			kind = sectionNode
		case '^':
			kind = invertedNode
		case '/':
			kind = closeNode
		case '&': // Mustache's other spelling of an unescaped value
			kind = rawNode
		case '>', '=', '<', '$':
			return node{}, 0, p.errorAt(start, "unsupported tag type "+quote(body[:1]))
		}
		if kind != varNode {
			body = body[1:]
		}
	}
	n, err := p.named(kind, body, start)
	return n, end, err
}

// named validates a variable name: "." or dot-separated segments of
// letters, digits, '_' and '-'.
func (p *parser) named(kind nodeKind, name string, pos int) (node, error) {
	name = strings.TrimSpace(name)
	n := node{kind: kind, text: name, pos: pos}
	if name == "" {
		return n, p.errorAt(pos, "empty tag")
	}
	if name == "." {
		return n, nil
	}
	n.path = strings.Split(name, ".")
	for _, seg := range n.path {
		if seg == "" {
			return n, p.errorAt(pos, "invalid variable name "+quote(name))
		}
		for _, r := range seg {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' {
				return n, p.errorAt(pos, "invalid variable name "+quote(name))
			}
		}
	}
	return n, nil
}

// standalone reports whether a section, inverted, closing or comment tag is
// alone on its line (only spaces and tabs around it), and if so how much
// leading and trailing whitespace, newline included, to drop with it.
func (p *parser) standalone(kind nodeKind, start, end int) (lead, trail int, ok bool) {
	switch kind {
	case sectionNode, invertedNode, closeNode, commentNode:
	default:
		return 0, 0, false
	}
	lineStart := strings.LastIndexByte(p.src[:start], '\n') + 1
	if strings.Trim(p.src[lineStart:start], " \t") != "" {
		return 0, 0, false
	}
	rest := p.src[end:]
	k := len(rest) - len(strings.TrimLeft(rest, " \t"))
	switch {
	case strings.HasPrefix(rest[k:], "\r\n"):
		k += 2
	case strings.HasPrefix(rest[k:], "\n"):
		k++
	case k != len(rest):
		return 0, 0, false
	}
	return start - lineStart, k, true
}

// build assembles tokens into a tree. It returns at the closing tag of open
// (consuming it) or at the end of input, and hands back unconsumed tokens.
func (p *parser) build(tokens []node, open *node, depth int) ([]node, []node, error) {
	var out []node
	for len(tokens) > 0 {
		t := tokens[0]
		tokens = tokens[1:]
		switch t.kind {
		case sectionNode, invertedNode:
			if depth >= maxDepth {
				return nil, nil, p.errorAt(t.pos, "sections nested more than 20 deep")
			}
			children, rest, err := p.build(tokens, &t, depth+1)
			if err != nil {
				return nil, nil, err
			}
			t.children, tokens = children, rest
			out = append(out, t)
		case closeNode:
			if open == nil {
				return out, append([]node{t}, tokens...), nil
			}
			if t.text != open.text {
				return nil, nil, p.errorAt(t.pos, "closing tag for "+quote(t.text)+" does not match open section "+quote(open.text))
			}
			return out, tokens, nil
		default:
			out = append(out, t)
		}
	}
	if open != nil {
		return nil, nil, p.errorAt(open.pos, "unclosed section "+quote(open.text))
	}
	return out, nil, nil
}

func collectVars(nodes []node, seen map[string]bool, out *[]string) {
	for _, n := range nodes {
		if n.kind != textNode && n.path != nil && !seen[n.text] {
			seen[n.text] = true
			*out = append(*out, n.text)
		}
		collectVars(n.children, seen, out)
	}
}

func (p *parser) errorAt(pos int, detail string) *SyntaxError {
	lineStart := strings.LastIndexByte(p.src[:pos], '\n') + 1
	return &SyntaxError{
		Template: p.name,
		Line:     strings.Count(p.src[:pos], "\n") + 1,
		Col:      utf8.RuneCountInString(p.src[lineStart:pos]) + 1,
		Detail:   detail,
	}
}

func quote(s string) string { return strconv.Quote(s) }
