package localaws

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/snapper/snapper/internal/runstore"
)

// ObjectLister is the S3 call that follows the pairs.
type ObjectLister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ ObjectLister = (*s3.Client)(nil)

// PairStep is one step of a pair, as its record in the run bucket shows
// it: the pairs run in child executions of the Distributed Map, whose
// states the parent's history does not hold (SPEC 7).
type PairStep struct {
	T               float64
	State           string
	Account, Region string
}

// PairWatch follows an execution's pairs through their records in the run
// bucket: a plan (Discover done), each Apply invocation's part, the summary.
type PairWatch struct {
	S3     ObjectLister
	Bucket string
	seen   map[string]bool
	Steps  []PairStep
}

// poll lists the execution's records and reports the new ones.
func (w *PairWatch) poll(ctx context.Context, execution string, s *streamer) {
	if w == nil {
		return
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	prefix := runstore.ExecutionPrefix(execution)
	pages := s3.NewListObjectsV2Paginator(w.S3, &s3.ListObjectsV2Input{Bucket: aws.String(w.Bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return // progress only: the execution's own status decides
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if w.seen[key] {
				continue
			}
			w.seen[key] = true
			w.report(strings.TrimPrefix(key, prefix), s)
		}
	}
}

// report names the step a record stands for.
func (w *PairWatch) report(rel string, s *streamer) {
	parts := strings.Split(rel, "/")
	if len(parts) != 3 {
		return // run-wide records
	}
	account, region, name := parts[0], parts[1], parts[2]
	if r, err := url.PathUnescape(region); err == nil {
		region = r
	}
	state := ""
	switch {
	case name == "plan.json":
		state = "Discover"
	case strings.HasPrefix(name, "apply-"):
		state = "Apply"
	case name == "summary.json":
		state = "PairDone"
	default:
		return
	}
	pair := region
	if account != Account {
		pair = account + "/" + region
	}
	elapsed := time.Since(s.start).Seconds()
	w.Steps = append(w.Steps, PairStep{T: elapsed, State: state, Account: account, Region: region})
	fmt.Fprintf(s.w, "%8.2fs  > %-14s %s\n", elapsed, state, pair)
}
