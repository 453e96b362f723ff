package formpages

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/sealpost/sealpost/internal/forms"
)

// input is a submission as the browser sent it.
type input struct {
	forms.Input
	csrf, honeypot string
}

const maxTextPart = 64 << 10

// readInput reads the body in memory, never on disk: parts are read one by one with
// the form's own limits instead of through ParseMultipartForm, whose files past a
// threshold go to temporary files in the clear. status is non-zero for a body the
// form cannot take.
func readInput(w http.ResponseWriter, r *http.Request, d *forms.Definition) (*input, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, d.MaxUpload())
	in := &input{Input: forms.Input{Values: map[string]string{}, Files: map[string]*forms.File{}}}
	set := func(name, value string) {
		switch name {
		case "csrf":
			in.csrf = value
		case forms.Honeypot:
			in.honeypot = value
		case "copy":
			in.Copy = value != ""
		case "consent":
			in.Consent = value != ""
		default:
			in.Values[name] = value
		}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		// A urlencoded body is parsed in memory; its size is capped above.
		if err := r.ParseForm(); err != nil {
			return nil, tooLarge(err), nil
		}
		for k, vs := range r.PostForm {
			if len(vs) > 0 {
				set(k, vs[0])
			}
		}
		return in, 0, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, nil
	}
	files := map[string]forms.Field{}
	for _, f := range d.Fields {
		if f.Type == forms.TypeFile {
			files[f.Name] = f
		}
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, tooLarge(err), nil
		}
		name := p.FormName()
		if f, ok := files[name]; ok {
			// One more byte than allowed tells "too large" apart from "exactly the limit".
			b, err := io.ReadAll(io.LimitReader(p, f.MaxBytes+1))
			if err != nil {
				return nil, tooLarge(err), nil
			}
			if p.FileName() != "" || len(b) > 0 {
				in.Files[name] = &forms.File{Name: fileName(p.FileName()), ContentType: partType(p.Header.Get("Content-Type")), Content: b}
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, maxTextPart))
		if err != nil {
			return nil, tooLarge(err), nil
		}
		if _, dup := in.Values[name]; !dup {
			set(name, string(b))
		}
	}
	return in, 0, nil
}

func tooLarge(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func partType(ct string) string {
	if t, _, err := mime.ParseMediaType(ct); err == nil && !strings.ContainsAny(ct, "\r\n") {
		return t
	}
	return "application/octet-stream"
}

func fileName(n string) string {
	n = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, n)
	if n == "" {
		return "upload"
	}
	return n
}
