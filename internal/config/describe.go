package config

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// secret reports the settings that are never printed, only whether they are set.
func secret(name string) bool {
	return name == "master_key" || name == "delivery.smart_host_password"
}

// Write prints c as a TOML file: every setting in order, each under a comment with
// what it does and its environment variable. Secrets show only whether they are set;
// a database URL's password is masked.
func (c *Config) Write(w io.Writer) error {
	var b strings.Builder
	var write func(v reflect.Value, env, section string)
	write = func(v reflect.Value, env, section string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			key := f.Tag.Get("toml")
			if f.Type.Kind() == reflect.Struct {
				continue
			}
			name := section + key
			fmt.Fprintf(&b, "# %s (%s_%s)\n", f.Tag.Get("help"), env, strings.ToUpper(key))
			val := v.Field(i)
			switch {
			case secret(name) && val.String() != "":
				fmt.Fprintf(&b, "# %s = (set; not shown)\n", key)
			case secret(name):
				fmt.Fprintf(&b, "# %s = (not set)\n", key)
			case name == "database_url":
				fmt.Fprintf(&b, "%s = %s\n", key, strconv.Quote(redactURL(val.String())))
			default:
				fmt.Fprintf(&b, "%s = %s\n", key, tomlValue(val))
			}
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Type.Kind() != reflect.Struct {
				continue
			}
			key := f.Tag.Get("toml")
			fmt.Fprintf(&b, "\n[%s]\n", key)
			write(v.Field(i), env+"_"+strings.ToUpper(key), key+".")
		}
	}
	write(reflect.ValueOf(c).Elem(), "SEALPOST", "")
	_, err := io.WriteString(w, b.String())
	return err
}

func tomlValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = strconv.Quote(v.Index(i).String())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
