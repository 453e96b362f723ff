package archive

import (
	"bytes"
	"context"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestExportReadBackIndependently exports a corpus both ways, has Python's mailbox
// module and zipfile read every message back, verifies the manifest with openssl and
// sha256sum as the README shows, and checks that a changed file fails.
func TestExportReadBackIndependently(t *testing.T) {
	for _, tool := range []string{"python3", "openssl", "unzip", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to check exports independently: %v", tool, err)
		}
	}
	storetest.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		r := rand.New(rand.NewPCG(3, 3))
		c := newCorpus(r)
		msgs := make([]*msg, 300)
		for i := range msgs {
			msgs[i] = c.gen(r, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 365*24*time.Hour)
		}
		// Lines an mbox must quote, and a message without a final line end.
		msgs[0].body = append(msgs[0].body, "\r\nFrom the lab\r\n>From here")
		w.journal(t, msgs)
		_, key, _ := ed25519.GenerateKey(crand.Reader)

		for _, format := range []string{FormatMbox, FormatZip} {
			dir := t.TempDir()
			x := exportReadBack(t, w, msgs, format, key, dir)
			// A changed message fails both verifiers.
			victim := filepath.Join(x, MboxName)
			if format == FormatZip {
				names, _ := filepath.Glob(filepath.Join(x, MessagesDir, "*.eml"))
				victim = names[len(names)/2]
			}
			b, _ := os.ReadFile(victim)
			b[len(b)/2] ^= 0x20
			os.WriteFile(victim, b, 0o600)
			check := exec.Command("sha256sum", "--quiet", "-c", ManifestName)
			if format == FormatZip {
				check = exec.Command("sha256sum", "--quiet", "-c", SumsName)
			}
			check.Dir = x
			if err := check.Run(); err == nil {
				t.Errorf("%s: sha256sum accepted a changed file", format)
			}
			rezip := filepath.Join(dir, "changed.zip")
			run(t, x, "python3", "-c", repack, rezip)
			f, _ := os.ReadFile(rezip)
			chk, err := VerifyExport(bytes.NewReader(f), int64(len(f)), key.Public().(ed25519.PublicKey))
			if err != nil || len(chk.Problems) != 1 || !strings.Contains(chk.Problems[0].Detail, "differs") {
				t.Errorf("%s: changed bundle: %+v %v", format, chk, err)
			}
			// A manifest edited to match fails the signature.
			m, _ := os.ReadFile(filepath.Join(x, ManifestName))
			os.WriteFile(filepath.Join(x, ManifestName), append(m, []byte("0  extra\n")...), 0o600)
			if err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", filepath.Join(x, KeyName), "-rawin",
				"-in", filepath.Join(x, ManifestName), "-sigfile", filepath.Join(x, SignatureName)).Run(); err == nil {
				t.Errorf("%s: openssl accepted an edited manifest", format)
			}
		}
	})
}

// exportReadBack exports everything w holds in format into dir/export.zip, checks it
// with VerifyExport, then has independent tools read it: unzip unpacks it (into
// dir/x, which it returns), openssl verifies the manifest's signature, sha256sum its
// sums, and Python (mailbox for mbox, zipfile for .eml files) reads every message,
// which must be msgs, byte for byte but for line ends.
func exportReadBack(t *testing.T, w *world, msgs []*msg, format string, key ed25519.PrivateKey, dir string) string {
	t.Helper()
	ctx := context.Background()
	bundle := filepath.Join(dir, "export.zip")
	f, err := os.Create(bundle)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.svc.Export(ctx, w.who, Query{}, format, key, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != len(msgs) {
		t.Fatalf("%s: exported %d of %d", format, rep.Messages, len(msgs))
	}
	raw, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	chk, err := VerifyExport(bytes.NewReader(raw), int64(len(raw)), key.Public().(ed25519.PublicKey))
	if err != nil || len(chk.Problems) != 0 {
		t.Fatalf("%s: own verifier: %+v %v", format, chk, err)
	}
	// Independent readers: the bundle unpacked by unzip, the manifest checked by
	// openssl and sha256sum, the messages read by Python.
	run(t, dir, "unzip", "-q", "export.zip", "-d", "x")
	x := filepath.Join(dir, "x")
	run(t, x, "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", KeyName, "-rawin", "-in", ManifestName, "-sigfile", SignatureName)
	run(t, x, "sha256sum", "--quiet", "-c", ManifestName)
	if format == FormatZip {
		run(t, x, "sha256sum", "--quiet", "-c", SumsName)
	}
	out := run(t, x, "python3", "-c", readBack, format)
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("python output: %v", err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("%s: python read %d messages, want %d", format, len(got), len(msgs))
	}
	for _, m := range msgs {
		// Python gives each message as bytes with LF line ends (mbox) or as stored.
		norm := strings.ReplaceAll(string(m.raw()), "\r\n", "\n")
		if g := strings.ReplaceAll(got[m.raw2key()], "\r\n", "\n"); strings.TrimRight(g, "\n") != strings.TrimRight(norm, "\n") {
			t.Fatalf("%s: message %s differs after reading back:\n%q\nwant\n%q", format, m.id, g, norm)
		}
	}
	return x
}

// raw2key is how the Python reader names a message: by its Message-ID header.
func (m *msg) raw2key() string { return strings.SplitN(string(m.raw()), "Message-ID: <", 2)[1][:30] }

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", name, args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// readBack prints {message-id prefix: message text} for every message of the export.
const readBack = `
import json, mailbox, os, re, sys
out = {}
def add(raw):
    text = raw.decode("utf-8")
    key = text.split("Message-ID: <", 1)[1][:30]
    out[key] = text
if sys.argv[1] == "mbox":
    box = mailbox.mbox("archive.mbox", create=False)
    for key in box.keys():
        # mailbox reads the container; the mboxrd quoting is undone here, as any
        # mboxrd reader does: one '>' off every line of '>'s followed by "From ".
        add(re.sub(rb"(?m)^>(>*From )", rb"\1", box.get_bytes(key)))
else:
    for name in sorted(os.listdir("messages")):
        with open(os.path.join("messages", name), "rb") as f:
            add(f.read())
print(json.dumps(out))
`

// repack zips the unpacked directory again, changed file and all.
const repack = `
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for root, _, files in os.walk("."):
        for f in files:
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, "."))
`
