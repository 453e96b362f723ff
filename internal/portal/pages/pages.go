// Package pages owns the secure message portal's server-rendered HTML: the
// page types a handler fills in, the embedded templates that turn them into
// documents, and the single stylesheet those documents use.
//
// The pages are built for a strict Content-Security-Policy and for readers
// on any device: there is no script anywhere, no inline style, every form
// works as a plain HTML form, and all text is escaped by html/template. The
// only personal data a page shows is what its fields hold.
package pages

import "time"

// Brand is the organisation as it presents itself.
type Brand struct {
	Name    string // e.g. "Northside Clinic"
	LogoURL string // "" when the organisation has no logo; otherwise a same-origin path
}

// Page is what every page shares.
type Page struct {
	Brand  Brand
	Title  string // <title> is Title + " · " + Brand.Name; "Secure message" stands in for an empty Title
	Prefix string // URL prefix of this message, e.g. "/p/AbC123"; forms post to Prefix + "/code" etc.
	CSRF   string // hidden form field "csrf" on every POST form when non-empty
	Notice string // an informational banner (role="status"), e.g. "Your reply was sent securely."
	Error  string // an error banner (role="alert")
}

// Landing is GET {Prefix}: where the link in the notification email leads.
// It offers either "email me a code" or, when the sender chose one, a
// passphrase form.
type Landing struct {
	Page
	MaskedAddress string    // e.g. "p•••@example.org": who the code will be sent to
	Passphrase    bool      // show a passphrase form instead of the "Email me a code" button
	ExpiresAt     time.Time // shown as "Available until <date>" when set
}

// CodeEntry is GET {Prefix}/code, and the page shown again after a wrong code.
type CodeEntry struct {
	Page
	MaskedAddress string
	Sent          bool // a code was just sent: say where and how long it lasts
	CodeMinutes   int
	Digits        int // code length for maxlength/pattern hints, e.g. 6; 0 gives no hints
	AttemptsLeft  int // >0: say how many attempts remain after a wrong code; 0: say nothing
}

// Locked is shown after too many wrong attempts.
type Locked struct {
	Page
	Until time.Time // when the reader may try again; shown in UTC
}

// Reply is one reply in the thread, newest last.
type Reply struct {
	At          time.Time
	Text        string
	Attachments []string // file names
}

// File is one attachment of the message, offered for download.
type File struct {
	Name string
	Size string // already human readable, e.g. "2.1 MB"
	URL  string // download link
	Type string // e.g. "PDF document"
}

// Message is GET {Prefix}/m: the message itself, its attachments, the
// replies sent so far and a form to send another.
type Message struct {
	Page
	From, To, Subject string
	Date              time.Time
	ExpiresAt         time.Time
	Text              string // shown with its line breaks kept when HTMLURL == ""
	HTMLURL           string // when set, the body is shown in a sandboxed iframe loading this URL
	Files             []File
	Replies           []Reply
	MaxUploadMB       int
	// NoReply, when set, replaces the reply form: why no reply can be sent.
	NoReply string
}

// Gone is the one neutral page for a message that is unknown, expired or
// revoked. Only its Brand is used: the page never reveals which case applies.
type Gone struct {
	Page
}

// Problem is shown for a bad request, an expired session or a server error.
type Problem struct {
	Page
	Heading string
	Detail  string
	Back    string // optional link target, e.g. Prefix
}
