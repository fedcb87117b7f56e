package localaws

import (
	"net/http"
	"strings"
	"sync/atomic"
)

// S3Requests counts the S3 requests that reach the local endpoint in S3's
// price classes, for the benchmark's cost: PUT, COPY, POST and LIST are
// one class, GET and HEAD another. Journal writes are counted apart
// (also in Writes): local mode writes them once a real second, Lambda once
// a second of the invocation.
type S3Requests struct {
	Writes, Reads, JournalWrites atomic.Int64
}

func (c *S3Requests) count(r *http.Request) {
	if _, service := SigningScope(r); service != "s3" {
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
		c.Writes.Add(1)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		c.Reads.Add(1)
	default:
		c.Writes.Add(1)
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/journal/") {
			c.JournalWrites.Add(1)
		}
	}
}
