package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MessageQuery filters SearchMessages. Zero fields do not filter.
type MessageQuery struct {
	Statuses    []string          // recipient statuses: queued, deferred, delivered, bounced, expired, quarantined
	Methods     []string          // how a copy was secured: tls, pgp, smime, portal, none
	Recipient   string            // a recipient address
	From        string            // the from address
	Campaign    string            // a campaign name
	Tag         string            // a tag
	Metadata    map[string]string // metadata keys that must hold these values
	Quarantined *bool
	Since       time.Time // accepted at or after
	Until       time.Time // accepted before
	Cursor      string    // MessagePage.NextCursor of an earlier page
	Limit       int       // 1-200; the server's default is 50
}

// MessagePage is one page of a message search, newest first.
type MessagePage struct {
	Messages   []MessageSummary `json:"messages"`
	NextCursor string           `json:"next_cursor"`
	// HasMore is true when more messages follow: pass NextCursor as Cursor to read them.
	HasMore bool `json:"has_more"`
}

// MessageSummary is one message found by a search.
type MessageSummary struct {
	ID          string            `json:"id"`
	CreatedAt   time.Time         `json:"created_at"`
	From        string            `json:"from"`
	Subject     string            `json:"subject"`
	Tags        []string          `json:"tags"`
	Campaign    string            `json:"campaign,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Sandbox     bool              `json:"sandbox"`
	Quarantined bool              `json:"quarantined"`
	Recipients  []struct {
		ID     string `json:"id"`
		Email  string `json:"email"`
		Status string `json:"status"`
		Method string `json:"method,omitempty"`
	} `json:"recipients"`
}

// SearchMessages returns one page of the account's messages matching q.
func (c *Client) SearchMessages(ctx context.Context, q MessageQuery) (*MessagePage, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("status", strings.Join(q.Statuses, ","))
	set("method", strings.Join(q.Methods, ","))
	set("recipient", q.Recipient)
	set("from", q.From)
	set("campaign", q.Campaign)
	set("tag", q.Tag)
	for k, val := range q.Metadata {
		v.Set("metadata."+k, val)
	}
	if q.Quarantined != nil {
		v.Set("quarantined", strconv.FormatBool(*q.Quarantined))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339))
	}
	set("cursor", q.Cursor)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out MessagePage
	if err := c.do(ctx, http.MethodGet, withQuery("/v1/messages", v), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StatsQuery selects statistics: From and To are required; Interval (hour, day,
// week) adds a series; GroupBy is one of domain, campaign, tag, from, subject, method
// or metadata.KEY.
type StatsQuery struct {
	From, To          time.Time
	Interval, GroupBy string
}

// StatsCounts are one group's counts and rates.
type StatsCounts struct {
	Accepted       int64              `json:"accepted"`
	InQueue        *int64             `json:"in_queue,omitempty"`
	Delivered      int64              `json:"delivered"`
	Deferred       int64              `json:"deferred"`
	Bounced        int64              `json:"bounced"`
	Expired        int64              `json:"expired"`
	Failed         int64              `json:"failed"`
	Opened         int64              `json:"opened"`
	OpenedProxy    int64              `json:"opened_proxy"`
	OpenedMachine  int64              `json:"opened_machine"`
	Clicked        int64              `json:"clicked"`
	ClickedProxy   int64              `json:"clicked_proxy"`
	ClickedMachine int64              `json:"clicked_machine"`
	Unsubscribed   int64              `json:"unsubscribed"`
	Complained     int64              `json:"complained"`
	Secured        map[string]int64   `json:"secured"`
	Rates          map[string]float64 `json:"rates"`
}

// Stats is a statistics report.
type Stats struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Interval string    `json:"interval,omitempty"`
	GroupBy  string    `json:"group_by,omitempty"`
	Groups   []struct {
		Key    string      `json:"key"`
		Label  string      `json:"label"`
		Totals StatsCounts `json:"totals"`
		Series []struct {
			Start  time.Time   `json:"start"`
			Counts StatsCounts `json:"counts"`
		} `json:"series,omitempty"`
	} `json:"groups"`
}

// Stats reads the account's statistics.
func (c *Client) Stats(ctx context.Context, q StatsQuery) (*Stats, error) {
	v := url.Values{}
	v.Set("from", q.From.Format(time.RFC3339))
	v.Set("to", q.To.Format(time.RFC3339))
	if q.Interval != "" {
		v.Set("interval", q.Interval)
	}
	if q.GroupBy != "" {
		v.Set("group_by", q.GroupBy)
	}
	var out Stats
	if err := c.do(ctx, http.MethodGet, withQuery("/v1/stats", v), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
