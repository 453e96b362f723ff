package archive

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Export formats. Both arrive as one zip bundle: the messages (a .eml file each, or
// one mbox file), the list of their sums, and the signed manifest.
const (
	FormatZip  = "zip"
	FormatMbox = "mbox"
)

// Names inside an export bundle.
const (
	ManifestName  = "MANIFEST.sha256"     // sha256sum format; signed
	SignatureName = "MANIFEST.sha256.sig" // raw Ed25519 signature of the manifest
	KeyName       = "signing-key.pem"     // the public key, PKIX PEM
	SumsName      = "messages.sha256"     // sha256sum format, one line per .eml
	MboxName      = "archive.mbox"
	MessagesDir   = "messages/"
)

// exportPage is how many entries an export holds in memory at once.
const exportPage = 32

// ExportReport is what an export wrote.
type ExportReport struct {
	Messages int    `json:"messages"`
	Manifest string `json:"manifest_sha256"`
}

// Export streams the entries q selects into w as a zip bundle and records the export
// in the audit trail. Memory stays flat in the number of messages: entries are read a
// page at a time, the per-message sums go to a temporary file (hashes and ids only),
// only the short manifest is signed, and the zip's central directory (some 100 bytes a
// message: names, sizes, CRCs, offsets) is spooled to a second temporary file by
// zipWriter rather than held until the end as archive/zip does. ZIP64 is used only
// where it is needed: for the mbox entry, whose size is not known until it is written,
// a sums file of 4 GiB, and the end records of a bundle of more than 65,534 files or
// past 4 GiB. A zip-format bundle smaller than that is a classic zip file.
func (s *Service) Export(ctx context.Context, who Actor, q Query, format string, key ed25519.PrivateKey, w io.Writer) (*ExportReport, error) {
	if format != FormatZip && format != FormatMbox {
		return nil, &InvalidError{Fields: map[string]string{"format": "must be zip or mbox"}}
	}
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	sums, err := os.CreateTemp("", "sealpost-export-*.sha256")
	if err != nil {
		return nil, err
	}
	defer os.Remove(sums.Name())
	defer sums.Close()
	sumsW := bufio.NewWriter(sums)

	zw, err := newZipWriter(w)
	if err != nil {
		return nil, err
	}
	defer zw.discard()
	var manifest bytes.Buffer
	rep := &ExportReport{}
	var mbox io.Writer
	var mboxHash hash.Hash
	if format == FormatMbox {
		fw, err := zw.Create(MboxName, s.now(), zipLarge)
		if err != nil {
			return nil, err
		}
		mboxHash = sha256.New()
		mbox = bufio.NewWriterSize(io.MultiWriter(fw, mboxHash), 64<<10)
	}
	sq := store.ArchiveQuery{TenantID: who.TenantID, Terms: q.terms(keys), Since: q.Since, Until: q.Until, Limit: exportPage, WithContent: true}
	for {
		page, err := s.db.ArchiveSearch(ctx, sq)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			raw, err := OpenContent(ctx, s.db, keys, e)
			if err != nil {
				return nil, fmt.Errorf("open entry %s: %w", e.ID, err)
			}
			rep.Messages++
			sum := sha256.Sum256(raw)
			name := fmt.Sprintf("%s%06d-%s.eml", MessagesDir, rep.Messages, e.ID)
			if format == FormatZip {
				fw, err := zw.Create(name, e.At, zipSmall)
				if err != nil {
					return nil, err
				}
				if _, err := fw.Write(raw); err != nil {
					return nil, err
				}
			} else {
				if err := writeMbox(mbox, e.At, raw); err != nil {
					return nil, err
				}
				name = e.ID + ".eml" // the mbox's messages are listed by entry
			}
			fmt.Fprintf(sumsW, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		}
		if len(page) < exportPage {
			break
		}
		last := page[len(page)-1]
		sq.AfterAt, sq.AfterID = last.At, last.ID
	}
	if err := sumsW.Flush(); err != nil {
		return nil, err
	}
	if format == FormatMbox {
		if err := mbox.(*bufio.Writer).Flush(); err != nil {
			return nil, err
		}
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(mboxHash.Sum(nil)), MboxName)
	}
	// The sums file goes into the bundle and the manifest signs its sum. Its size is
	// known, so it is a ZIP64 entry only when it has to be.
	st, err := sums.Stat()
	if err != nil {
		return nil, err
	}
	fw, err := zw.Create(SumsName, s.now(), zipSizeFor(st.Size()))
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := sums.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.MultiWriter(fw, h), sums); err != nil {
		return nil, err
	}
	fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), SumsName)
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	files := []struct {
		name string
		data []byte
	}{
		{ManifestName, manifest.Bytes()},
		{SignatureName, ed25519.Sign(key, manifest.Bytes())},
		{KeyName, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})},
	}
	for _, f := range files {
		fw, err := zw.Create(f.name, s.now(), zipSmall)
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	msum := sha256.Sum256(manifest.Bytes())
	rep.Manifest = hex.EncodeToString(msum[:])
	err = s.db.AppendAudit(ctx, s.entry(who, ActionExport, "", fmt.Sprintf("format=%s fields=%s messages=%d manifest=%s", format, q.Fields(), rep.Messages, rep.Manifest)))
	return rep, err
}

// writeMbox appends one message in the mboxrd form (RFC 4155 and the mboxrd quoting):
// a From_ separator line, the message with LF line ends and every line that starts
// with zero or more '>' then "From " given one more '>', then a blank line.
func writeMbox(w io.Writer, at time.Time, raw []byte) error {
	if _, err := fmt.Fprintf(w, "From MAILER-DAEMON %s\n", at.UTC().Format("Mon Jan _2 15:04:05 2006")); err != nil {
		return err
	}
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) {
			if _, err := w.Write([]byte(">")); err != nil {
				return err
			}
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		if _, err := w.Write([]byte("\n")); err != nil {
			return err
		}
	}
	_, err := w.Write([]byte("\n"))
	return err
}

// ExportProblem is one thing wrong with an export bundle.
type ExportProblem struct {
	File   string `json:"file"`
	Detail string `json:"detail"`
}

// ExportCheck is what VerifyExport found.
type ExportCheck struct {
	KeyID    string          `json:"key_id"`
	Files    int             `json:"files"`
	Problems []ExportProblem `json:"problems"`
}

// maxManifest bounds the signed manifest and signature files read into memory.
const maxManifest = 1 << 20

// VerifyExport checks a bundle: the manifest's signature (by trusted when given, else
// by the bundle's own key, whose id is reported for the reader to compare), each
// listed file's sum, each message against the sums file, and that no message is
// there unlisted.
func VerifyExport(r io.ReaderAt, size int64, trusted ed25519.PublicKey) (*ExportCheck, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip bundle: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string, limit int64) ([]byte, error) {
		f := files[name]
		if f == nil {
			return nil, fmt.Errorf("bundle has no %s", name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, limit))
	}
	manifest, err := read(ManifestName, maxManifest)
	if err != nil {
		return nil, err
	}
	sig, err := read(SignatureName, maxManifest)
	if err != nil {
		return nil, err
	}
	pub := trusted
	if pub == nil {
		pemBytes, err := read(KeyName, maxManifest)
		if err != nil {
			return nil, err
		}
		if pub, err = parsePublicKey(pemBytes); err != nil {
			return nil, err
		}
	}
	chk := &ExportCheck{KeyID: KeyIDOf(pub), Problems: []ExportProblem{}}
	bad := func(file, format string, a ...any) {
		chk.Problems = append(chk.Problems, ExportProblem{File: file, Detail: fmt.Sprintf(format, a...)})
	}
	if !ed25519.Verify(pub, manifest, sig) {
		bad(ManifestName, "signature does not verify")
	}
	check := func(list []byte, prefix string, listed map[string]bool) {
		for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
			want, name, ok := strings.Cut(line, "  ")
			if !ok {
				bad(prefix, "malformed line")
				continue
			}
			listed[name] = true
			f := files[name]
			if f == nil {
				if strings.HasPrefix(name, MessagesDir) || prefix == ManifestName {
					bad(name, "listed but missing")
				}
				continue
			}
			chk.Files++
			rc, err := f.Open()
			if err != nil {
				bad(name, "cannot open: %v", err)
				continue
			}
			h := sha256.New()
			_, err = io.Copy(h, rc) // #nosec G110 -- streamed into a hash in constant memory: a bomb costs time, not memory
			rc.Close()
			if err != nil {
				bad(name, "cannot read: %v", err)
				continue
			}
			if hex.EncodeToString(h.Sum(nil)) != want {
				bad(name, "SHA-256 differs from the manifest")
			}
		}
	}
	listed := map[string]bool{}
	check(manifest, ManifestName, listed)
	if sums, err := read(SumsName, 1<<40); err == nil {
		check(sums, SumsName, listed)
	}
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, MessagesDir) && !listed[f.Name] {
			bad(f.Name, "in the bundle but not listed")
		}
	}
	return chk, nil
}

func parsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s is not PEM", KeyName)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an Ed25519 key", KeyName)
	}
	return pub, nil
}

// KeyIDOf names a public key: hex of the first 8 bytes of its SHA-256, as the audit
// checkpoints name theirs.
func KeyIDOf(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
