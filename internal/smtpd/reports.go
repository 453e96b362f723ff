package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"strings"

	gomessage "github.com/emersion/go-message"
)

// report is what a bounce or complaint says about the recipient it came back for.
type report struct {
	Kind         string // "bounced" or "complained"; "" when the message is neither (or a delay notice)
	Status       string // RFC 3463 status of a failed delivery, e.g. 5.1.1
	FeedbackType string // RFC 5965 Feedback-Type, e.g. abuse
}

// parseReport reads an RFC 3464 delivery status notification or an RFC 5965 ARF
// feedback report. A DSN counts as a bounce only when a recipient's Action is failed
// (RFC 3464 2.3.3); delayed, delivered, relayed and expanded notices are not bounces.
func parseReport(raw []byte) (report, error) {
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && !isUnknownCharset(err) {
		return report{}, errors.New("the message cannot be parsed")
	}
	mt, params, _ := e.Header.ContentType()
	if mt != "multipart/report" {
		return report{}, nil
	}
	want := map[string]string{"delivery-status": "message/delivery-status", "feedback-report": "message/feedback-report"}[strings.ToLower(params["report-type"])]
	if want == "" {
		return report{}, nil
	}
	mr := e.MultipartReader()
	if mr == nil {
		return report{}, nil
	}
	for n := 0; n < maxParts; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !isUnknownCharset(err) {
			return report{}, errors.New("the report cannot be parsed")
		}
		pt, _, _ := p.Header.ContentType()
		if pt != want && !(want == "message/delivery-status" && pt == "message/global-delivery-status") {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(p.Body, 1<<20))
		if err != nil {
			return report{}, errors.New("the report cannot be read")
		}
		blocks := fieldBlocks(body)
		if want == "message/feedback-report" {
			if len(blocks) == 0 {
				return report{}, nil
			}
			return report{Kind: "complained", FeedbackType: strings.ToLower(strings.TrimSpace(blocks[0].Get("Feedback-Type")))}, nil
		}
		// The first block is per message; each further block is one recipient.
		for _, b := range blocks[min(1, len(blocks)):] {
			if strings.EqualFold(strings.TrimSpace(b.Get("Action")), "failed") {
				status := strings.TrimSpace(b.Get("Status"))
				if i := strings.IndexAny(status, " ("); i > 0 {
					status = status[:i]
				}
				return report{Kind: "bounced", Status: status}, nil
			}
		}
		return report{}, nil
	}
	return report{}, nil
}

// fieldBlocks splits a delivery-status or feedback-report body into its groups of
// header-style fields, separated by blank lines.
func fieldBlocks(body []byte) []textproto.MIMEHeader {
	var out []textproto.MIMEHeader
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
	for len(out) < 1000 {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 {
			out = append(out, h)
		}
		if err != nil {
			break
		}
	}
	return out
}
