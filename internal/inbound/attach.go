package inbound

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/sealpost/sealpost/internal/dlp"
)

// Reasons an attachment is held, as codes.
const (
	ReasonExecutable = "attachment_executable"
	ReasonMacro      = "attachment_macro"
	ReasonEncrypted  = "attachment_encrypted_archive"
	ReasonDMARC      = "dmarc_fail"
	ReasonDLP        = "dlp"
	ReasonMalformed  = "malformed"
)

// Executable file types by extension: programs and scripts Windows, macOS or a
// browser will run when opened.
var executableExt = map[string]bool{
	".exe": true, ".com": true, ".scr": true, ".pif": true, ".bat": true, ".cmd": true, ".cpl": true, ".dll": true,
	".msi": true, ".msp": true, ".msc": true, ".jar": true, ".js": true, ".jse": true, ".vbs": true, ".vbe": true,
	".wsf": true, ".wsh": true, ".hta": true, ".ps1": true, ".lnk": true, ".reg": true, ".iso": true, ".img": true,
	".app": true, ".dmg": true, ".sh": true, ".apk": true,
}

// Office formats that carry macros by definition (the "m" variants of OOXML).
var macroExt = map[string]bool{
	".docm": true, ".dotm": true, ".xlsm": true, ".xltm": true, ".xlam": true, ".pptm": true, ".potm": true, ".ppsm": true, ".ppam": true, ".sldm": true,
}

const (
	maxParts     = 200
	maxZipDepth  = 3
	maxZipEntry  = 1000
	maxPartBytes = 64 << 20
)

// content is what the judgement needs from a message body.
type content struct {
	from, subject string
	attachments   []string // file names (sealed if kept)
	reasons       map[string]bool
	dlp           dlp.Input
}

// inspect reads the MIME structure: From and Subject, each part's text for DLP, and
// what makes an attachment dangerous. A structure that cannot be read is itself a
// reason to hold the message: whatever hides in it was not inspected.
func inspect(raw []byte) *content {
	c := &content{reasons: map[string]bool{}}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		c.reasons[ReasonMalformed] = true
		return c
	}
	defer mr.Close()
	if from, err := mr.Header.AddressList("From"); err == nil && len(from) == 1 {
		c.from = from[0].Address
	}
	c.subject, _ = mr.Header.Subject()
	c.dlp.Subject = c.subject
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if n >= maxParts || (err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err)) || p == nil {
			c.reasons[ReasonMalformed] = true
			break
		}
		body, err := io.ReadAll(io.LimitReader(p.Body, maxPartBytes))
		if err != nil {
			c.reasons[ReasonMalformed] = true
			break
		}
		name := ""
		ct := ""
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ = h.ContentType()
			switch {
			case ct == "text/plain" && c.dlp.Text == "":
				c.dlp.Text = string(body)
				continue
			case ct == "text/html" && c.dlp.HTML == "":
				c.dlp.HTML = string(body)
				continue
			}
			if _, params, err := h.ContentDisposition(); err == nil {
				name = params["filename"]
			}
			if name == "" {
				_, params, _ := h.ContentType()
				name = params["name"]
			}
		case *mail.AttachmentHeader:
			ct, _, _ = h.ContentType()
			name, _ = h.Filename()
		}
		c.attachments = append(c.attachments, name)
		c.dlp.Attachments = append(c.dlp.Attachments, dlp.Attachment{Filename: name, ContentType: ct, Data: body})
		c.judge(name, body, 0)
	}
	return c
}

// judge marks what makes one file dangerous: by name, and by its first bytes whatever
// its name says; inside a zip archive, each entry the same way.
func (c *content) judge(name string, data []byte, depth int) {
	ext := strings.ToLower(path.Ext(strings.TrimSpace(name)))
	switch {
	case executableExt[ext]:
		c.reasons[ReasonExecutable] = true
	case macroExt[ext]:
		c.reasons[ReasonMacro] = true
	}
	switch {
	case bytes.HasPrefix(data, []byte("MZ")), // PE (Windows)
		bytes.HasPrefix(data, []byte("\x7fELF")),                                                                     // ELF
		bytes.HasPrefix(data, []byte{0xcf, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(data, []byte{0xca, 0xfe, 0xba, 0xbe}): // Mach-O
		c.reasons[ReasonExecutable] = true
	case bytes.HasPrefix(data, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}):
		// An OLE compound file (.doc, .xls): its macros live in a _VBA_PROJECT stream.
		if bytes.Contains(data, utf16("_VBA_PROJECT")) || bytes.Contains(data, []byte("_VBA_PROJECT")) {
			c.reasons[ReasonMacro] = true
		}
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		c.zip(data, depth)
	}
}

// zip looks inside an archive (an OOXML document is one): an encrypted entry, a macro
// project, or a dangerous file within.
func (c *content) zip(data []byte, depth int) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		c.reasons[ReasonMalformed] = true
		return
	}
	if len(zr.File) > maxZipEntry || depth >= maxZipDepth {
		c.reasons[ReasonMalformed] = true
		return
	}
	for _, f := range zr.File {
		// APPNOTE 4.4.4: general purpose flag bit 0 marks an encrypted entry; what it
		// holds cannot be inspected.
		if f.Flags&1 != 0 {
			c.reasons[ReasonEncrypted] = true
			continue
		}
		if strings.EqualFold(path.Base(f.Name), "vbaProject.bin") {
			c.reasons[ReasonMacro] = true
			continue
		}
		ext := strings.ToLower(path.Ext(f.Name))
		if executableExt[ext] || macroExt[ext] {
			c.judge(f.Name, nil, depth+1)
			continue
		}
		if ext != ".zip" && !strings.HasSuffix(ext, "x") && !strings.HasSuffix(ext, "m") {
			continue // a plain file: its name was enough
		}
		rc, err := f.Open()
		if err != nil {
			c.reasons[ReasonMalformed] = true
			continue
		}
		inner, err := io.ReadAll(io.LimitReader(rc, maxPartBytes))
		rc.Close()
		if err != nil {
			c.reasons[ReasonMalformed] = true
			continue
		}
		c.judge(f.Name, inner, depth+1)
	}
}

func utf16(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i], 0)
	}
	return out
}
