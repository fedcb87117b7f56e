// Package steps holds the Lambda handlers of the state machine. Each is a
// thin layer over input, fleet, region, runstore and report: it decodes the
// state, calls the library, records lists in the run bucket and returns a
// small state. The same handlers run in Lambda and in `snapper local`.
package steps

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/snapper/snapper/internal/accounts"
	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/errkind"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/runstore"
)

// Run is the validated run-wide input that travels through the state machine.
type Run struct {
	Prefix       string    `json:"tag_prefix"`
	Interval     int64     `json:"interval"`
	DryRun       bool      `json:"dry_run"`
	Time         time.Time `json:"time"`
	Start        time.Time `json:"start"`
	Execution    string    `json:"execution"`
	ScheduleName string    `json:"schedule_name"`
	SNSArn       string    `json:"sns_arn"`
	// Timezone is the IANA zone of the schedule's calendar (SPEC 2).
	Timezone string `json:"timezone,omitempty"`
	// ExecutionArn identifies who holds a pair's lease; Account is the
	// deployment's own account, whose functions need no member role.
	ExecutionArn string `json:"execution_arn,omitempty"`
	Account      string `json:"account,omitempty"`
	// MemberRole is the role assumed in every other account (SPEC 11).
	MemberRole string `json:"member_role,omitempty"`
	// CopyTags are the tag keys copied onto each new snapshot (SPEC 12).
	CopyTags []string `json:"copy_tags,omitempty"`
	// CopyKMSKeys and CopyConcurrency are the DR copies' settings (SPEC 12).
	CopyKMSKeys     map[string]string `json:"copy_kms_keys,omitempty"`
	CopyConcurrency int               `json:"copy_concurrency,omitempty"`
}

func (r Run) params() ebs.Params {
	p := ebs.Params{Prefix: r.Prefix, Interval: r.Interval, Run: r.Time, Execution: r.Execution, DryRun: r.DryRun, CopyTags: r.CopyTags,
		CopyKMSKeys: r.CopyKMSKeys, CopyConcurrency: r.CopyConcurrency}
	// The plan step validated the zone; an unknown one here means an old
	// state, which then counts in UTC as before.
	if loc, err := time.LoadLocation(r.Timezone); err == nil && r.Timezone != "" {
		p.Location = loc
	}
	return p
}

// PlanEvent is the plan step's input: the schedule input as given, and the
// execution's name and start time from the context object.
type PlanEvent struct {
	Input        json.RawMessage `json:"input"`
	Execution    string          `json:"execution"`
	ExecutionArn string          `json:"execution_arn"`
	StartTime    string          `json:"start_time"`
}

// PlanOutput is the run and where its pairs are: the list of account x
// region pairs stays in the run bucket (it grows with the fleet), and the
// Distributed Map reads it from there.
type PlanOutput struct {
	Run   Run         `json:"run"`
	Pairs PairsObject `json:"pairs"`
	// Count is how many pairs the map runs; Accounts how many accounts
	// they are in, and AccountsFailed how many could not be entered.
	Count          int `json:"count"`
	Accounts       int `json:"accounts"`
	AccountsFailed int `json:"accounts_failed"`
	// MaxConcurrency is how many pairs run at once (MaxConcurrencyPath):
	// the template's PairConcurrency.
	MaxConcurrency int `json:"max_concurrency"`
}

// PairsObject is the S3 object the map's ItemReader reads.
type PairsObject struct {
	Bucket string `json:"Bucket"`
	Key    string `json:"Key"`
}

// Pair is one item of the pairs list: one account x region.
type Pair struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// AccountFailure is an account Plan could not enter (its member role could
// not be assumed, or its regions not listed): one failed entry.
type AccountFailure struct {
	Account string `json:"account"`
	Error   string `json:"error"`
}

// RegionTask is the state of one pair's child execution. The cursors let
// a pair continue in the next invocation where the previous one stopped.
type RegionTask struct {
	Run     Run    `json:"run"`
	Account string `json:"account"`
	Region  string `json:"region"`
	Volumes int    `json:"volumes"`
	// Cursor is the index of the next volume of the plan to work on.
	Cursor int `json:"cursor"`
	// Round counts the region's successful Apply invocations.
	Round int  `json:"round"`
	Done  bool `json:"done"`
	// Buckets carry the client buckets from one invocation to the next.
	Buckets *ebs.BucketState `json:"buckets,omitempty"`
	// Deleted counts the region's deletions so far, for the ceiling.
	Deleted int        `json:"deleted"`
	Error   *TaskError `json:"error,omitempty"`
	// StoodDown names the execution that holds this pair's lease, when
	// this one left the pair to it.
	StoodDown string `json:"stood_down,omitempty"`
	// Copying is set once the pair's volumes are handled and its DR
	// copies are left: the next invocation makes them (SPEC 12).
	Copying bool `json:"copying,omitempty"`
}

// pairAccount is the task's account: a state without one (an event file
// from before accounts) is the deployment's own account, so that its
// lease and journal are the ones every other execution of it uses.
func (t RegionTask) pairAccount() RegionTask {
	if t.Account == "" {
		t.Account = cmp.Or(t.Run.Account, "self")
	}
	return t
}

// TaskError is what a Catch puts in the state (ResultPath $.error).
type TaskError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// ReportEvent is the report step's input: the run. The pairs and their
// summaries are read from the run bucket, so the input stays small
// whatever the number of pairs.
type ReportEvent struct {
	Run Run `json:"run"`
	// MapError is set when the pair map itself failed (its items or its
	// result files could not be read or written): the pairs' summaries
	// still say what was done, and the run is reported FAILED.
	MapError *TaskError `json:"map_error,omitempty"`
}

// SFN lists the Step Functions call the discover step makes: is the
// execution that holds a pair's lease still running?
type SFN interface {
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ SFN = (*sfn.Client)(nil)

// SNS lists the SNS call the report makes.
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ SNS = (*sns.Client)(nil)

// DefaultPairConcurrency is the template's PairConcurrency default: each
// running pair holds at most one Lambda at a time, so this stays well
// under an account's default 1,000 concurrent executions.
const DefaultPairConcurrency = 200

// Deps are what the handlers are built from; main.go and the local runner
// construct them once.
type Deps struct {
	// EC2 returns the client for a pair's discovery and apply: in the
	// deployment's own account with its own credentials, in any other
	// with the member role's session.
	EC2 func(account, region string) ebs.EC2
	// Regions answers the plan step's one EC2 question in an account:
	// which regions are enabled. Read-only.
	Regions func(account string) input.RegionLister
	// Enter checks that an account other than the deployment's can be
	// entered (its member role assumed); nil: every account can.
	Enter func(ctx context.Context, account string) error
	// Org lists the organization's accounts; nil when the deployment has
	// no Organizations access (OrganizationAccess Disabled).
	Org accounts.OrgReader
	// MemberRole is the deployment's MemberRoleName.
	MemberRole string
	// PairConcurrency is how many pairs' child executions run at once
	// (0: DefaultPairConcurrency).
	PairConcurrency int
	// SNS returns the client for the region of a topic.
	SNS   func(region string) SNS
	SFN   SFN
	Store runstore.Store
	// Region is the deployment's region; SNSArn the template's topic.
	Region string
	SNSArn string
	// Limits returns fresh client-side token buckets for one region's work.
	Limits      func() ebs.Limits
	Concurrency int
	// MaxDeletesPerRegion stops pruning in a region after this many
	// deletions in one run (0: no ceiling), so that a tag mistake cannot
	// wipe a fleet's backups in one go.
	MaxDeletesPerRegion int
	// TimeScale is how many seconds of Now pass per real second (the
	// simulator's scaled clock); 0 or 1 for real time.
	TimeScale float64
	// Now is the clock for deadlines and report times (the simulator's
	// clock in scaled runs); the run time never comes from it.
	Now func() time.Time
	// Sleep waits on the Now clock (nil: real time).
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock, when set, is a region's own clock, which its work and its
	// invocations' deadlines run on (the simulator's event clocks), and
	// Deadline the invocation's deadline on it.
	Clock    func(account, region string) ebs.Clock
	Deadline func(ctx context.Context) (time.Time, bool)
	Logger   *slog.Logger
	// Metrics receives the report's CloudWatch Embedded Metric Format
	// documents (the Lambda's stdout); nil writes none.
	Metrics          io.Writer
	MetricsNamespace string
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// limits are fresh client-side buckets for a pair's work, on its clock.
func (d Deps) limits(account, region string) ebs.Limits {
	l := ebs.AWSLimits(1)
	if d.Limits != nil {
		l = d.Limits()
	}
	if d.Clock != nil {
		l.Clock = d.Clock(account, region)
	}
	return l
}

// log is the step's logger: every line carries execution, region and step,
// and goes out with the invocation's context, from which the Lambda log
// handler (lambdacontext) takes the request id.
func (d Deps) log(ctx context.Context, run Run, account, regionName, step string) stepLog {
	l := d.Logger
	if l == nil {
		l = slog.Default()
	}
	return stepLog{ctx: ctx, l: l.With("execution", run.Execution, "account", account, "region", regionName, "step", step)}
}

// stepLog binds the context, so that no call can leave it out.
type stepLog struct {
	ctx context.Context
	l   *slog.Logger
}

func (s stepLog) Info(msg string, args ...any) { s.l.InfoContext(s.ctx, msg, args...) }
func (s stepLog) Warn(msg string, args ...any) { s.l.WarnContext(s.ctx, msg, args...) }

// stopAt is when a handler stops taking new work, and the drain time
// after it: a margin before the invocation's deadline, so that the work in
// flight finishes and is recorded and a cursor is returned. Times are on
// the clock now reads.
func (d Deps) stopAt(ctx context.Context, now func() time.Time) (time.Time, time.Duration) {
	var remaining time.Duration
	if d.Deadline != nil {
		dl, ok := d.Deadline(ctx)
		if !ok {
			return time.Time{}, 0
		}
		remaining = dl.Sub(now())
	} else {
		dl, ok := ctx.Deadline()
		if !ok {
			return time.Time{}, 0
		}
		remaining = time.Until(dl)
		if d.TimeScale > 0 {
			remaining = time.Duration(float64(remaining) * d.TimeScale)
		}
	}
	// Two minutes of a 15-minute Lambda, a fifth of less.
	margin := min(2*time.Minute, remaining/5)
	return now().Add(remaining - margin), margin
}

func (d Deps) worker(ctx context.Context, account, regionName string) (ebs.Worker, time.Time) {
	w := ebs.Worker{EC2: d.EC2(account, regionName), Limits: d.limits(account, regionName), Concurrency: max(d.Concurrency, 1), Now: d.Now, Sleep: d.Sleep}
	if d.Clock != nil {
		c := d.Clock(account, regionName)
		w.Now, w.Sleep = c.Now, c.Sleep
	}
	stopAt, drain := d.stopAt(ctx, w.NowFunc())
	w.Drain = drain
	return w, stopAt
}

// elsewhere is the account's other regions for a pair's DR copies. The
// partition's regions are listed once per invocation; without them a
// P_copy is checked by form only (its copy then fails, reported, if the
// region does not exist), so a failed listing costs no snapshot.
func (d Deps) elsewhere(ctx context.Context, account string, log stepLog) *ebs.Elsewhere {
	el := &ebs.Elsewhere{Region: func(region string) (ebs.Reader, ebs.Limits) { return d.EC2(account, region), d.limits(account, region) }}
	if d.Regions == nil {
		return el
	}
	out, err := d.Regions(account).DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		log.Warn("the partition's regions could not be listed: P_copy is checked by form only", "error", err.Error())
		return el
	}
	for _, r := range out.Regions {
		el.Partition = append(el.Partition, aws.ToString(r.RegionName))
	}
	return el
}

// failure returns the error the state machine routes.
func failure(step string, err error) error { return errkind.Classify(step, err) }
