package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/sealpost/sealpost/internal/suggest"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// decodeFile reads the TOML file at path into c. A file that cannot be read or parsed
// is one error (err); otherwise every unknown key and every value of the wrong type is
// reported (problems) and the good settings are still applied, so validation can
// report its findings alongside.
func decodeFile(path string, c *Config) (problems []error, err error) {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config %s: line %d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	for _, p := range checkTable(reflect.TypeOf(*c), raw, "") {
		problems = append(problems, fmt.Errorf("config %s: %s", path, p))
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(raw); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if _, err := toml.Decode(buf.String(), c); err != nil {
		// checkTable removed everything of the wrong type; this is not expected.
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return problems, nil
}

// checkTable compares a table with the struct it fills, deletes the keys that cannot be
// used and says why, with each key's full dotted name.
func checkTable(t reflect.Type, table map[string]any, prefix string) []string {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		fields[f.Tag.Get("toml")] = f
	}
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		name := prefix + k
		f, ok := fields[k]
		if !ok {
			out = append(out, fmt.Sprintf("unknown setting %s%s", name, didYouMean(fields, k, prefix)))
			delete(table, k)
			continue
		}
		v := table[k]
		if f.Type.Kind() == reflect.Struct {
			sub, ok := v.(map[string]any)
			if !ok {
				out = append(out, fmt.Sprintf("%s must be a table ([%s]), not %s", name, name, tomlKind(v)))
				delete(table, k)
				continue
			}
			out = append(out, checkTable(f.Type, sub, name+".")...)
			continue
		}
		if want := fits(f.Type, v); want != "" {
			out = append(out, fmt.Sprintf("%s must be %s, not %s", name, want, tomlKind(v)))
			delete(table, k)
		}
	}
	return out
}

// fits returns "" when v can fill a field of type t, else what the field wants.
func fits(t reflect.Type, v any) string {
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return `a string (in quotes, e.g. "30s")`
		}
	case reflect.Int, reflect.Int64:
		if _, ok := v.(int64); !ok {
			return "a whole number"
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return "true or false"
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return `a list of strings, e.g. ["1m", "5m"]`
		}
		for _, el := range list {
			if _, ok := el.(string); !ok {
				return `a list of strings, e.g. ["1m", "5m"]`
			}
		}
	}
	return ""
}

func tomlKind(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case int64:
		return fmt.Sprintf("the number %d", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("%v", v)
	case []any, []map[string]any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

// didYouMean names the setting an unknown key was probably meant to be.
func didYouMean(fields map[string]reflect.StructField, key, prefix string) string {
	best, bestD := "", 3
	for name := range fields {
		if d := suggest.Distance(strings.ToLower(key), name); d < bestD || d == bestD && name < best {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s%s?)", prefix, best)
}
