package render

import (
	"encoding/json"
	"errors"
	"html"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// state is the per-Execute rendering state.
type state struct {
	tmpl  *Template
	mode  Mode
	stack []any // innermost context last
	out   []byte
	steps int
	// missing lists the variables the data lacks, each once, in order of first use:
	// rendering goes on past a missing variable so every one is reported together.
	missing []string
}

// miss records a missing variable; its tag renders as nothing and a section over it
// is skipped.
func (s *state) miss(err error) error {
	var me *MissingError
	if !errors.As(err, &me) {
		return err
	}
	if !slices.Contains(s.missing, me.Variable) {
		s.missing = append(s.missing, me.Variable)
	}
	return nil
}

func (s *state) walk(nodes []node) error {
	for i := range nodes {
		n := &nodes[i]
		if err := s.step(); err != nil {
			return err
		}
		switch n.kind {
		case textNode:
			if err := s.emit(n.text); err != nil {
				return err
			}
		case varNode, rawNode:
			v, err := s.lookup(n)
			if err != nil {
				if err := s.miss(err); err != nil {
					return err
				}
				continue
			}
			text, ok := format(v)
			if !ok {
				return s.typeError(n, v, "cannot be inserted as text")
			}
			if n.kind == varNode && s.mode == HTML {
				text = html.EscapeString(text)
			}
			if err := s.emit(text); err != nil {
				return err
			}
		case sectionNode, invertedNode:
			if err := s.section(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// section renders {{#x}} once per list item or once for another truthy
// value, and {{^x}} once when x is falsy.
func (s *state) section(n *node) error {
	v, err := s.lookup(n)
	if err != nil {
		return s.miss(err)
	}
	items, isList := list(v)
	truthy, ok := isList && len(items) > 0, true
	if !isList {
		truthy, ok = truth(v)
	}
	if !ok {
		return s.typeError(n, v, "cannot be used as a section")
	}
	if n.kind == invertedNode {
		if truthy {
			return nil
		}
		return s.walk(n.children)
	}
	if !truthy {
		return nil
	}
	if !isList {
		items = []any{v}
	}
	for _, item := range items {
		// Counted here too: an empty body visits no nodes.
		if err := s.step(); err != nil {
			return err
		}
		s.stack = append(s.stack, item)
		err := s.walk(n.children)
		s.stack = s.stack[:len(s.stack)-1]
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *state) step() error {
	if s.steps++; s.steps > maxSteps {
		return &LimitError{Template: s.tmpl.name, Detail: "rendering takes too many steps"}
	}
	return nil
}

func (s *state) emit(text string) error {
	if len(s.out)+len(text) > maxOutput {
		return &LimitError{Template: s.tmpl.name, Detail: "rendered output exceeds 10 MiB"}
	}
	s.out = append(s.out, text...)
	return nil
}

// lookup resolves a name: "." is the current item; otherwise the first
// segment is looked up from the innermost context outwards and the rest
// descend from there, as in Mustache.
func (s *state) lookup(n *node) (any, error) {
	if n.path == nil {
		return s.stack[len(s.stack)-1], nil
	}
	var cur any
	found := false
	for i := len(s.stack) - 1; i >= 0 && !found; i-- {
		cur, found = member(s.stack[i], n.path[0])
	}
	for _, seg := range n.path[1:] {
		if !found {
			break
		}
		cur, found = member(cur, seg)
	}
	if !found {
		return nil, &MissingError{Template: s.tmpl.name, Variable: n.text}
	}
	return cur, nil
}

func (s *state) typeError(n *node, v any, detail string) error {
	return &TypeError{Template: s.tmpl.name, Variable: n.text, Detail: "is " + kindOf(v) + " and " + detail}
}

// kindOf names a value's kind in the terms of the JSON data it came from.
func kindOf(v any) string {
	if _, ok := list(v); ok {
		return "a list"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16,
		reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value JSON cannot hold"
}

// member returns m[key] when v is a map with string keys.
func member(v any, key string) (any, bool) {
	switch m := v.(type) {
	case map[string]any:
		x, ok := m[key]
		return x, ok
	case map[string]string:
		x, ok := m[key]
		return x, ok
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	x := rv.MapIndex(reflect.ValueOf(key).Convert(rv.Type().Key()))
	if !x.IsValid() {
		return nil, false
	}
	return x.Interface(), true
}

// list returns the elements of a slice or array.
func list(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case nil, string, json.Number:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	items := make([]any, rv.Len())
	for i := range items {
		items[i] = rv.Index(i).Interface()
	}
	return items, true
}

// truth gives the truthiness of a non-list value: nil, false, "" and zero
// are false, maps are true. ok is false for types outside the data model.
func truth(v any) (truthy, ok bool) {
	switch x := v.(type) {
	case nil:
		return false, true
	case bool:
		return x, true
	case string:
		return x != "", true
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		return true, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint() != 0, true
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0, true
	}
	return false, false
}

// format renders a scalar: strings as they are, numbers in their shortest
// natural form (no trailing ".0"), bools as true/false, nil as nothing.
func format(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return formatNumber(string(x)), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), true
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return formatFloat(rv.Float(), rv.Type().Bits()), true
	}
	return "", false
}

// formatFloat writes plain decimals in the range people read as such and
// exponent form outside it, like JavaScript's Number#toString.
func formatFloat(f float64, bits int) string {
	if f == 0 {
		return "0" // also for negative zero
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// formatNumber keeps a JSON number's own digits, so large integers lose no
// precision, and only drops an all-zero fraction ("5.0" becomes "5").
func formatNumber(s string) string {
	if dot := strings.IndexByte(s, '.'); dot > 0 && strings.Trim(s[dot+1:], "0") == "" {
		return s[:dot]
	}
	return s
}
