package strictjson

import (
	"github.com/sealpost/sealpost/internal/suggest"
	"reflect"
	"strings"
)

// field is one JSON member a struct accepts.
type field struct {
	name string
	typ  reflect.Type
}

// fieldsOf lists the members encoding/json would fill in t: exported fields by their
// tag name, with untagged embedded structs' fields promoted.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, fieldsOf(ft)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, field{name, ft})
	}
	return out
}

// lookup finds a member as encoding/json does: the exact name first, then ignoring case.
func lookup(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return field{}, false
}

// nearest suggests the member an unknown key was probably meant to be: one at most two
// edits away (a typo), or empty.
func nearest(fields []field, key string) string {
	best, bestD := "", 3
	for _, f := range fields {
		if d := suggest.Distance(strings.ToLower(key), strings.ToLower(f.name)); d < bestD {
			best, bestD = f.name, d
		}
	}
	return best
}
