package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// The form verbs end to end, on SQLite and PostgreSQL: a bad definition refused with
// every problem named, create printing the URL and the iframe snippet, list and show,
// a submission (made through the same service the hosted page calls) listed and — only
// on request — unsealed, and delete taking the URL and the stored submissions with it.
func TestFormCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) { formCommands(t, dbURL) })
}

func formCommands(t *testing.T, dbURL string) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sealpost.toml")
	os.WriteFile(cfg, []byte("data_dir = \""+dir+"\"\ndatabase_url = \""+dbURL+"\"\n"), 0o600)
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, append(args, "--config", cfg)...)
		if code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errOut)
		}
		return out
	}
	mustRun("masterkey", "init")
	mustRun("tenant", "create", "clinic")
	mustRun("domain", "add", "--tenant", "clinic", "clinic.example", "--verified")

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"name": "", "title": "Intake", "from": "nope", "fields": [{"name": "Bad Name", "label": "", "type": "colour"}], "destinations": {}}`), 0o600)
	code, out, errOut := run(t, "form", "create", "--tenant", "clinic", bad, "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "invalid form") || !strings.Contains(errOut, "name:") ||
		!strings.Contains(errOut, "from:") || !strings.Contains(errOut, "fields[0].type:") {
		t.Fatalf("bad definition: %d %q %q", code, out, errOut)
	}
	if out := mustRun("form", "list", "--tenant", "clinic"); strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("a refused form was stored: %q", out)
	}

	good := filepath.Join(dir, "intake.json")
	os.WriteFile(good, []byte(`{"name": "Intake", "title": "New patient intake", "from": "forms@clinic.example",
 "fields": [{"name": "full_name", "label": "Full name", "type": "text", "required": true}],
 "destinations": {"store": true}, "retention": "30d", "allowed_origins": ["https://clinic.example"]}`), 0o600)
	lines := strings.Split(strings.TrimSpace(mustRun("form", "create", "--tenant", "clinic", good)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "/f/") || !strings.HasPrefix(lines[1], `<iframe src="`+lines[0]+`"`) {
		t.Fatalf("create printed %q", lines)
	}
	link := lines[0]
	out = mustRun("form", "list", "--tenant", "clinic")
	fields := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])
	if len(fields) != 5 || fields[1] != "Intake" || fields[2] != "1" || fields[4] != link {
		t.Fatalf("list: %q", out)
	}
	id := fields[0]
	if out := mustRun("form", "show", "--tenant", "clinic", id); !strings.Contains(out, `"url": "`+link+`"`) ||
		!strings.Contains(out, `"embed_html": "<iframe`) || !strings.Contains(out, `"https://clinic.example"`) {
		t.Fatalf("show: %q", out)
	}

	// One submission, through the service the hosted page calls.
	canary := "Pat-" + id[len(id)-8:]
	func() {
		e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		a, _, err := openTenant(e, cfg, "clinic")
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		svc := a.forms(e)
		h, err := svc.ByToken(context.Background(), link[strings.LastIndex(link, "/")+1:])
		if err != nil {
			t.Fatal(err)
		}
		if _, fe, err := svc.Submit(context.Background(), h, &forms.Input{Values: map[string]string{"full_name": canary}}); err != nil || fe != nil {
			t.Fatalf("submit: %v %v", fe, err)
		}
	}()
	out = mustRun("form", "submissions", "--tenant", "clinic", id)
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 2 || !strings.HasPrefix(rows[1], "fsb") || strings.Contains(out, canary) {
		t.Fatalf("submissions (without --values the values stay sealed): %q", out)
	}
	if out := mustRun("form", "submissions", "--tenant", "clinic", id, "--values"); !strings.Contains(out, canary) {
		t.Fatalf("submissions --values: %q", out)
	}

	if out := mustRun("form", "delete", "--tenant", "clinic", id); !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %q", out)
	}
	for _, verb := range []string{"show", "submissions", "delete"} {
		if code, _, _ := run(t, "form", verb, "--tenant", "clinic", id, "--config", cfg); code == 0 {
			t.Fatalf("%s after delete succeeded", verb)
		}
	}
	if out := mustRun("form", "list", "--tenant", "clinic"); strings.Contains(out, id) {
		t.Fatalf("still listed: %q", out)
	}
	if code, _, _ := run(t, "form", "create", "--config", cfg, good); code == 0 {
		t.Fatal("create without --tenant succeeded")
	}
}
