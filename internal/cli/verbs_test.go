package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A command's verbs made from their table: --help shows the verb's usage line, text
// and flags beside --config and --tenant; a wrong argument count prints the usage;
// a run gets the tenant --tenant names, its arguments and its own flags (fresh on
// every run), and its error passes through explain.
func TestTenantVerbsFromATable(t *testing.T) {
	cfg := writeConfig(t)
	for _, args := range [][]string{{"masterkey", "init"}, {"tenant", "create", "clinic"}} {
		if code, out, errOut := run(t, append(args, "--config", cfg)...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errOut)
		}
	}
	var got []string
	verbs := tenantVerbs("thing", func(*admin, *env) string { return "the service" }, func(err error) error {
		if err != nil {
			return fmt.Errorf("explained: %w", err)
		}
		return nil
	}, map[string]tenantVerb[string]{
		"show": {usage: "thing show --tenant T ID", about: "Shows a thing.", nargs: 1, run: func(c *verbCall[string]) error {
			got = append(got, c.s+" "+c.tenant.Name+" "+strings.Join(c.args, ","))
			return nil
		}},
		"tag": {usage: "thing tag --tenant T ID [--colour C]", about: "Tags a thing.", nargs: 1, flags: func(fs *flagSet) func(*verbCall[string]) error {
			colour := fs.String("colour", "red", "the tag's colour")
			return func(c *verbCall[string]) error {
				got = append(got, c.args[0]+" "+*colour)
				if *colour == "none" {
					return errors.New("no colour")
				}
				return nil
			}
		}},
	})
	call := func(verb string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := verbs[verb](&env{stdout: &out, stderr: &errOut}, args)
		return out.String(), err
	}

	out, err := call("tag", "--help")
	for _, want := range []string{"Usage: sealpost thing tag --tenant T ID [--colour C]\n\nTags a thing.\n", "-colour", "-config", "-tenant"} {
		if err == nil || !strings.Contains(out, want) {
			t.Fatalf("tag --help: %v, %q lacks %q", err, out, want)
		}
	}
	if out, err := call("show", "--config", cfg, "--tenant", "clinic"); !errors.Is(err, errUsage) || !strings.HasPrefix(out, "Usage: sealpost thing show --tenant T ID") {
		t.Fatalf("no ID: %v %q", err, out)
	}
	if _, err := call("show", "--config", cfg, "--tenant", "nobody", "th_1"); err == nil || !strings.Contains(err.Error(), `no tenant "nobody"`) {
		t.Fatalf("unknown tenant: %v", err)
	}
	if _, err := call("show", "th_1", "--config", cfg, "--tenant", "clinic"); err != nil {
		t.Fatal(err)
	}
	if _, err := call("tag", "--config", cfg, "--tenant", "clinic", "--colour", "none", "th_1"); err == nil || err.Error() != "explained: no colour" {
		t.Fatalf("tag with no colour: %v", err)
	}
	if _, err := call("tag", "--config", cfg, "--tenant", "clinic", "th_2"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"the service clinic th_1", "th_1 none", "th_2 red"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("runs saw %q, want %q", got, want)
	}
}
