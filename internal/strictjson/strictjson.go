// Package strictjson decodes JSON documents strictly — unknown fields, wrong types and
// trailing data are errors — and reports every problem at once, each with its full path
// in the document ("rules[0].if.categorys"). The API and the command line both decode
// with it, so a file the CLI accepts is exactly a body the API accepts.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Problem is one thing wrong with a document. Field is its path ("to[2]",
// "template_data.patient"); empty when the problem is the document as a whole.
type Problem struct {
	Field  string
	Detail string
}

// Error lists every problem found in one document.
type Error struct {
	// Syntax is set when the document is not JSON at all (Problems holds one entry).
	Syntax   bool
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Field == "" {
			parts[i] = p.Detail
		} else {
			parts[i] = p.Field + ": " + p.Detail
		}
	}
	return strings.Join(parts, "; ")
}

// Decode decodes data into v (a pointer). Any error is an *Error, and v is then left
// at its zero value.
//
// A valid document is decoded once, as encoding/json with DisallowUnknownFields would:
// acceptance is the hot path and bodies can be large. Only a refused document is read a
// second time, generically, to find every problem and its path.
func Decode(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Error{Syntax: true, Problems: []Problem{{Detail: "the document is empty; want JSON"}}}
	}
	fast := json.NewDecoder(bytes.NewReader(data))
	fast.DisallowUnknownFields()
	first := fast.Decode(v)
	if first == nil {
		if _, err := fast.Token(); err == io.EOF {
			return nil
		}
	}
	reflect.ValueOf(v).Elem().SetZero()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &Error{Syntax: true, Problems: []Problem{{Detail: fmt.Sprintf("malformed JSON at byte %d", se.Offset)}}}
		}
		return &Error{Syntax: true, Problems: []Problem{{Detail: "malformed JSON: the document ends too early"}}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Syntax: true, Problems: []Problem{{Detail: "trailing data after the JSON value"}}}
	}
	w := &walker{}
	w.walk(reflect.TypeOf(v).Elem(), doc, "")
	if len(w.problems) > 0 {
		return &Error{Problems: w.problems}
	}
	// The walk models encoding/json closely, so this is rare: report what it said.
	var te *json.UnmarshalTypeError
	if errors.As(first, &te) {
		return &Error{Problems: []Problem{{Field: rootIfEmpty(te.Field), Detail: "must be " + goKind(te.Type) + ", not " + te.Value}}}
	}
	return &Error{Problems: []Problem{{Detail: cleanDetail(first)}}}
}

type walker struct{ problems []Problem }

func (w *walker) add(path, format string, a ...any) {
	w.problems = append(w.problems, Problem{Field: rootIfEmpty(path), Detail: fmt.Sprintf(format, a...)})
}

func rootIfEmpty(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// walk checks value x (as decoded with UseNumber) against type t.
func (w *walker) walk(t reflect.Type, x any, path string) {
	if x == nil {
		return // null leaves any Go value as it is
	}
	if t == timeType {
		if s, ok := x.(string); !ok {
			w.add(path, "must be an RFC 3339 time, not %s", jsonKind(x))
		} else if _, err := time.Parse(time.RFC3339, s); err != nil {
			w.add(path, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		return
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		raw, _ := json.Marshal(x)
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			w.add(path, "%s", cleanDetail(err))
		}
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) && t.Kind() != reflect.Pointer {
		s, ok := x.(string)
		if !ok {
			w.add(path, "must be a string, not %s", jsonKind(x))
			return
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			w.add(path, "%s", cleanDetail(err))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(t.Elem(), x, path)
	case reflect.Interface:
	case reflect.String:
		if _, ok := x.(string); !ok {
			w.add(path, "must be a string, not %s", jsonKind(x))
		}
	case reflect.Bool:
		if _, ok := x.(bool); !ok {
			w.add(path, "must be true or false, not %s", jsonKind(x))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := x.(json.Number)
		if !ok {
			w.add(path, "must be a number, not %s", jsonKind(x))
		} else if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			w.add(path, "must be a whole number in range, not %s", n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := x.(json.Number)
		if !ok {
			w.add(path, "must be a number, not %s", jsonKind(x))
		} else if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			w.add(path, "must be a whole number from 0, in range, not %s", n)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := x.(json.Number); !ok {
			w.add(path, "must be a number, not %s", jsonKind(x))
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			s, ok := x.(string)
			if !ok {
				w.add(path, "must be a base64 string, not %s", jsonKind(x))
			} else if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				w.add(path, "must be base64 (RFC 4648, with padding)")
			}
			return
		}
		arr, ok := x.([]any)
		if !ok {
			w.add(path, "must be an array, not %s", jsonKind(x))
			return
		}
		if t.Kind() == reflect.Array && len(arr) > t.Len() {
			w.add(path, "at most %d items", t.Len())
		}
		for i, el := range arr {
			w.walk(t.Elem(), el, fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		obj, ok := x.(map[string]any)
		if !ok {
			w.add(path, "must be an object, not %s", jsonKind(x))
			return
		}
		for _, k := range sortedKeys(obj) {
			w.walk(t.Elem(), obj[k], join(path, k))
		}
	case reflect.Struct:
		obj, ok := x.(map[string]any)
		if !ok {
			w.add(path, "must be an object, not %s", jsonKind(x))
			return
		}
		fields := fieldsOf(t)
		for _, k := range sortedKeys(obj) {
			f, ok := lookup(fields, k)
			if !ok {
				if near := nearest(fields, k); near != "" {
					w.add(join(path, k), "unknown field (did you mean %q?)", near)
				} else {
					w.add(join(path, k), "unknown field")
				}
				continue
			}
			w.walk(f.typ, obj[k], join(path, k))
		}
	default:
		// Channels, functions and the like never come from JSON.
		w.add(path, "cannot be set from JSON")
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonKind(x any) string {
	switch x.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true or false"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// cleanDetail keeps a decoding error's message but not the Go package name some
// errors start with ("json: …").
func cleanDetail(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}
