package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/runstore"
)

// journal is ebs.Journal in the run bucket: one object per Apply
// invocation under the pair's run-time folder, so that no invocation
// overwrites another's record, and a takeover execution reads them too.
type journal struct {
	store runstore.Store
	dir   string
	self  string
}

var _ ebs.Journal = journal{}

func (d Deps) journal(ctx context.Context, t RegionTask) journal {
	dir := runstore.JournalDir(t.Account, t.Run.Prefix, t.Region, rules.RunTag(t.Run.Time))
	return journal{store: d.Store, dir: dir, self: invocationID(ctx)}
}

// invocationID names this invocation's record: the Lambda request id, or
// a random one outside Lambda.
func invocationID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (j journal) Load(ctx context.Context) (ebs.Made, error) {
	var all ebs.Made
	all.Merge(ebs.Made{})
	keys, err := j.store.List(ctx, j.dir)
	if err != nil {
		return all, err
	}
	for _, k := range keys {
		var m ebs.Made
		if err := j.store.Get(ctx, k, &m); err != nil {
			return all, err
		}
		all.Merge(m)
	}
	return all, nil
}

func (j journal) Save(ctx context.Context, m ebs.Made) error {
	return j.store.Put(ctx, j.dir+j.self+".json", m)
}
