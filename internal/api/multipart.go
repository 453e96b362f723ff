package api

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// A message may also be sent as multipart/form-data: a "message" part holding the
// same JSON as POST /v1/messages takes, and one file part per attachment, which the
// JSON names with "part" instead of giving base64 "content". Files then travel as
// their own bytes: a 40 MiB report costs 40 MiB, not 53 MiB of base64 plus its
// decoding. The draft goes through exactly the same validation and pipeline.

const maxMessagePart = 1 << 20 // the JSON part: everything but the files

// filePart is one uploaded file.
type filePart struct {
	filename, contentType string
	data                  []byte
	used                  bool
}

func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// readMultipart reads the form: the JSON part into req, the files into memory (one
// copy each, sized from the request's length), and returns them by part name with
// the hash of the request's content for Idempotency-Key conflicts. The hash covers
// the parts, not the boundary a client chose, so a retry with another boundary is
// the same request.
func readMultipart(r *http.Request, req *SendRequest) (map[string]*filePart, []byte, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, nil, problem(400, "Invalid request", "a multipart/form-data request needs a boundary parameter")
	}
	remaining := r.ContentLength
	mr := multipart.NewReader(r.Body, params["boundary"])
	files := map[string]*filePart{}
	h := sha256.New()
	sawMessage := false
	var fp []FieldProblem
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, bodyProblem(err, "the multipart body is malformed")
		}
		name := p.FormName()
		switch {
		case name == "message": // a field, or a file such as curl's -F message=@msg.json
			if sawMessage {
				fp = append(fp, FieldProblem{"message", "only one message part"})
				continue
			}
			sawMessage = true
			b, err := io.ReadAll(io.LimitReader(p, maxMessagePart+1))
			if err != nil {
				return nil, nil, bodyProblem(err, "the multipart body is malformed")
			}
			if len(b) > maxMessagePart {
				return nil, nil, problem(413, "Request too large", fmt.Sprintf("the message part exceeds %d bytes; send files as their own parts", maxMessagePart))
			}
			if err := decodeJSON(b, req); err != nil {
				return nil, nil, err
			}
			hashPart(h, "message", "", "", b)
		case name == "" || p.FileName() == "":
			fp = append(fp, FieldProblem{"parts", "every part other than message must be a file, with a name and a filename"})
		case files[name] != nil:
			fp = append(fp, FieldProblem{"parts", "two file parts have the same name"})
		default:
			data, err := readPart(p, remaining)
			if err != nil {
				return nil, nil, bodyProblem(err, "the multipart body is malformed")
			}
			remaining -= int64(len(data))
			f := &filePart{filename: p.FileName(), contentType: p.Header.Get("Content-Type"), data: data}
			files[name] = f
			hashPart(h, name, f.filename, f.contentType, data)
		}
	}
	if !sawMessage {
		fp = append(fp, FieldProblem{"message", "required: a part named message holding the message as JSON"})
	}
	if len(fp) > 0 {
		return nil, nil, problem(400, "Invalid request", fp[0].Field+": "+fp[0].Detail, fp...)
	}
	return files, h.Sum(nil), nil
}

// readPart reads one file. Its buffer is sized from what is left of the request, so
// a large file is read into one allocation rather than a series of doublings; a
// buffer left mostly empty (several files in one request) is trimmed.
func readPart(p io.Reader, remaining int64) ([]byte, error) {
	size := int64(64 << 10)
	if remaining > size {
		size = remaining
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := p.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if cap(buf)-len(buf) > 1<<20 && cap(buf) > 2*len(buf) {
		buf = append([]byte(nil), buf...)
	}
	return buf, nil
}

func hashPart(h io.Writer, name, filename, contentType string, data []byte) {
	for _, s := range []string{name, filename, contentType} {
		binary.Write(h, binary.BigEndian, uint64(len(s)))
		io.WriteString(h, s)
	}
	binary.Write(h, binary.BigEndian, uint64(len(data)))
	h.Write(data)
}

// bodyProblem tells a body over the size limit from a malformed one.
func bodyProblem(err error, detail string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem(413, "Request too large", fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit))
	}
	return problem(400, "Invalid request", detail)
}

// attachFiles resolves the attachments that name a file part, and reports every file
// part no attachment names: an unused upload is a mistake, not something to drop.
func attachFiles(req *SendRequest, files map[string]*filePart) []FieldProblem {
	var fp []FieldProblem
	for i := range req.Attachments {
		a := &req.Attachments[i]
		if a.Part == "" {
			continue
		}
		f := files[a.Part]
		switch {
		case files == nil:
			fp = append(fp, FieldProblem{fmt.Sprintf("attachments[%d].part", i), "only in a multipart/form-data request; send content as base64 here"})
			continue
		case f == nil:
			fp = append(fp, FieldProblem{fmt.Sprintf("attachments[%d].part", i), "names no file part of this request"})
			continue
		case f.used:
			fp = append(fp, FieldProblem{fmt.Sprintf("attachments[%d].part", i), "names a file part another attachment uses"})
			continue
		case a.Content.data != nil || a.Content.bad:
			fp = append(fp, FieldProblem{fmt.Sprintf("attachments[%d]", i), "give content or part, not both"})
			continue
		}
		f.used = true
		a.Content = base64Content{data: f.data}
		if a.Filename == "" {
			a.Filename = f.filename
		}
		if a.ContentType == "" {
			a.ContentType = strings.TrimSpace(f.contentType)
		}
	}
	unused := 0
	for _, f := range files {
		if !f.used {
			unused++
		}
	}
	if unused > 0 {
		fp = append(fp, FieldProblem{"parts", fmt.Sprintf("%d file part(s) not named by any attachment's part", unused)})
	}
	return fp
}
