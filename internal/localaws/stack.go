package localaws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/snapper/snapper/internal/asl"
	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/input"
	"github.com/snapper/snapper/internal/steps"
	"github.com/snapper/snapper/internal/wiring"
)

// What local mode creates in place of the stack's resources.
const (
	Account          = "123456789012"
	DefaultRegion    = "us-east-1"
	BucketName       = "snapper-runs"
	TopicName        = "snapper-report"
	StateMachineName = "snapper"
)

// Options configure Up.
type Options struct {
	// Root is the project directory holding template.yaml; default: RepoRoot.
	Root string
	// Port of the front endpoint; 0 picks a free one.
	Port int
	// Region is the "deployment" region.
	Region string
	// Log receives moto's output and the handlers' JSON logs; nil discards.
	Log io.Writer
	// Concurrency of EC2 calls within a region.
	Concurrency int
	// EC2Limits emulates EC2's token buckets at the front endpoint with
	// AWS's refill rates times this factor; 0 turns them off.
	EC2Limits float64
	// EC2Sim, when set, is the EC2 the handlers see (--ec2 sim): an
	// in-process fleet simulator on its own, possibly scaled, clock. The
	// state machine, S3 and SNS stay on moto.
	EC2Sim *ec2sim.Sim
	// EC2SimAccounts are the simulated fleets of other accounts (bench
	// --accounts), each with its own buckets and clocks; an account that
	// has none cannot be entered, as if its member role were missing.
	EC2SimAccounts map[string]*ec2sim.Sim
	// FunctionTimeouts replace functions' timeouts (real time), by logical
	// id: tests give Apply a tiny budget to force continuations.
	FunctionTimeouts map[string]time.Duration
	// Faults are injected at the front endpoint (see Fault).
	Faults []*Fault
}

// Env is a running local AWS with the stack in it.
type Env struct {
	Endpoint        string
	Region          string
	StateMachineArn string
	TopicArn        string
	Bucket          string
	Moto            *Moto
	Front           *Front
	// EC2 counts EC2 calls per region and action and enforces --ec2-limits.
	EC2 *EC2Limiter
	// MemoryMB is each function's memory size in the template.
	MemoryMB map[string]int
	faults   atomic.Pointer[[]*Fault]
	server   *http.Server
	// simAccounts are the other accounts' simulated fleets.
	simAccounts map[string]*ec2sim.Sim
}

// Config returns an aws.Config pointed at the local endpoint.
func (e *Env) Config() aws.Config { return ClientConfig(e.Endpoint, e.Region) }

// ClientConfig is an aws.Config for a local endpoint.
func ClientConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("ak", "sk", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      awsconf.NewRetryer,
	}
}

// PathStyle is the S3 option local endpoints need.
func PathStyle(o *s3.Options) { o.UsePathStyle = true }

// Up starts moto and the front endpoint and creates the stack's resources:
// the run bucket, the report topic and the state machine from
// statemachine/ with template.yaml's substitutions resolved.
func Up(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Root == "" {
		if opts.Root, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	tmpl, err := asl.ReadTemplate(filepath.Join(opts.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	def, err := os.ReadFile(filepath.Join(opts.Root, tmpl.DefinitionURI))
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", opts.Port))
	if err != nil {
		return nil, err
	}
	frontPort := listener.Addr().(*net.TCPAddr).Port
	moto, err := StartMoto(ctx, MotoOptions{LambdaPort: frontPort, Log: opts.Log})
	if err != nil {
		listener.Close()
		return nil, err
	}
	env := &Env{
		Endpoint:    fmt.Sprintf("http://127.0.0.1:%d", frontPort),
		Region:      opts.Region,
		Bucket:      BucketName,
		TopicArn:    fmt.Sprintf("arn:aws:sns:%s:%s:%s", opts.Region, Account, TopicName),
		Moto:        moto,
		simAccounts: opts.EC2SimAccounts,
	}
	defer func() {
		if err != nil {
			env.Close()
		}
	}()
	deps, scale := env.deps(opts)
	env.MemoryMB = tmpl.FunctionMemoryMB
	functions, err := env.functions(tmpl, deps, scale, opts.EC2Sim, opts.FunctionTimeouts)
	if err != nil {
		return nil, err
	}
	if err := env.serve(listener, functions, opts); err != nil {
		return nil, err
	}
	if err := env.resources(ctx, tmpl, string(def)); err != nil {
		return nil, err
	}
	return env, nil
}

// deps wires the handlers to the local endpoint, or to the simulator for
// EC2; scale is the simulated clock's speed (1 on moto).
func (e *Env) deps(opts Options) (deps steps.Deps, scale float64) {
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	deps = wiring.New(e.Config(), wiring.Deployment{Bucket: e.Bucket, Topic: e.TopicArn, Account: Account, Organizations: true}, max(opts.Concurrency, 16), PathStyle)
	deps.Logger = slog.New(requestIDHandler{slog.NewJSONHandler(logOut, nil)})
	deps.Limits = func() ebs.Limits { return ebs.Limits{} }
	if opts.EC2Limits > 0 {
		deps.Limits = func() ebs.Limits { return ebs.AWSLimits(opts.EC2Limits) }
	}
	scale = 1.0
	if sim := opts.EC2Sim; sim != nil {
		scale = sim.Clock.Scale()
		sim.Retryer = awsconf.NewRetryer()
		if opts.EC2Limits > 0 {
			sim.Requests.Factor = opts.EC2Limits
		}
		sims := simAccounts{self: sim, others: opts.EC2SimAccounts}
		deps.EC2 = func(account, region string) ebs.EC2 { return sims.of(account).Region(region) }
		deps.Regions = func(account string) input.RegionLister { return sims.of(account).Region(deps.Region) }
		deps.Enter = sims.enter
		deps.Now = sim.Clock.Now
		deps.Sleep = sim.Clock.Sleep
		deps.Limits = func() ebs.Limits { return ebs.Limits{} }
		if sim.RegionClocks {
			deps.Clock = func(account, region string) ebs.Clock { return sims.of(account).ClockOf(region) }
			deps.Deadline = ClockDeadline
			if opts.EC2Limits > 0 {
				deps.Limits = func() ebs.Limits { return ebs.AWSLimits(opts.EC2Limits) }
			}
			return deps, scale
		}
		deps.TimeScale = scale
		if opts.EC2Limits > 0 {
			// Client-side buckets run on real time: scale their rates.
			deps.Limits = func() ebs.Limits { return ebs.AWSLimits(opts.EC2Limits * scale) }
		}
	}
	return deps, scale
}

// functions serves every function of the template in-process, with its
// timeout (scaled to the simulated clock) and the function fault rules.
func (e *Env) functions(tmpl asl.Template, deps steps.Deps, scale float64, sim *ec2sim.Sim, timeouts map[string]time.Duration) (map[string]Function, error) {
	functions := map[string]Function{}
	handlers := map[string]any{
		"PlanFunction": deps.Plan, "DiscoverFunction": deps.Discover, "ApplyFunction": deps.Apply,
		"ReportFunction": deps.Report,
	}
	for id, typ := range tmpl.Resources {
		if typ != "AWS::Serverless::Function" {
			continue
		}
		h, ok := handlers[id]
		if !ok {
			return nil, fmt.Errorf("template.yaml has function %s, which local mode does not know", id)
		}
		timeout := time.Duration(float64(tmpl.FunctionTimeouts[id]) / scale)
		if t, ok := timeouts[id]; ok {
			timeout = t
		}
		fn := Function{Handler: WrapFunction(e.Faults, id, lambda.NewHandler(h)), Timeout: timeout}
		if sim != nil && sim.RegionClocks {
			fn.Timeout = cmp.Or(timeouts[id], tmpl.FunctionTimeouts[id])
			sims := simAccounts{self: sim, others: e.simAccounts}
			fn.Clock = func(payload []byte) *ec2sim.Clock {
				if account, r := pairOfPayload(payload); r != "" {
					return sims.of(account).ClockOf(r)
				}
				return nil
			}
		}
		functions[id] = fn
	}
	return functions, nil
}

// simAccounts are the simulated fleets by account: the deployment's own
// ("self", or its id) and the others'.
type simAccounts struct {
	self   *ec2sim.Sim
	others map[string]*ec2sim.Sim
}

// of is an account's fleet; one that has none (enter refused it) gets an
// empty fleet, never another account's.
func (s simAccounts) of(account string) *ec2sim.Sim {
	if account == "self" || account == Account {
		return s.self
	}
	if sim, ok := s.others[account]; ok {
		return sim
	}
	return ec2sim.New()
}

func (s simAccounts) enter(_ context.Context, account string) error {
	if _, ok := s.others[account]; ok || account == "self" || account == Account {
		return nil
	}
	return fmt.Errorf("account %s has no simulated fleet (AccessDenied)", account)
}

// serve starts the front endpoint: Lambda Invoke in-process, faults and
// EC2's buckets intercepted, everything else to moto.
func (e *Env) serve(listener net.Listener, functions map[string]Function, opts Options) error {
	front, err := NewFront(e.Moto.URL, functions)
	if err != nil {
		return err
	}
	e.Front = front
	frontLimits := opts.EC2Limits
	if opts.EC2Sim != nil {
		frontLimits = 0 // the simulator keeps EC2's buckets itself
	}
	e.EC2 = NewEC2Limiter(frontLimits)
	// The front learns accounts from AssumeRole answers; faults and EC2's
	// buckets read them to tell accounts apart.
	e.EC2.Accounts = front.Accounts
	e.SetFaults(opts.Faults)
	faults := InterceptAWS(e.Faults, front.Accounts, e.Front.Moto())
	e.Front.Intercept = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		return faults(w, r, body) || e.EC2.Intercept(w, r, body)
	}
	e.server = &http.Server{Handler: e.Front, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = e.server.Serve(listener) }()
	return nil
}

// resources makes what the template's state machine needs: the run
// bucket, the report topic and the state machine itself.
func (e *Env) resources(ctx context.Context, tmpl asl.Template, def string) error {
	values, err := e.substitutions(tmpl)
	if err != nil {
		return err
	}
	resolved, err := asl.Resolve(def, values)
	if err != nil {
		return err
	}
	cfg := e.Config()
	if _, err := s3.NewFromConfig(cfg, PathStyle).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.Bucket)}); err != nil {
		return fmt.Errorf("create the run bucket: %w", err)
	}
	if _, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(TopicName)}); err != nil {
		return fmt.Errorf("create the report topic: %w", err)
	}
	sm, err := sfn.NewFromConfig(cfg).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(StateMachineName),
		Definition: aws.String(resolved),
		RoleArn:    aws.String(fmt.Sprintf("arn:aws:iam::%s:role/snapper-state-machine", Account)),
	})
	if err != nil {
		return fmt.Errorf("create the state machine: %w", err)
	}
	e.StateMachineArn = aws.ToString(sm.StateMachineArn)
	return nil
}

// substitutions resolves template.yaml's DefinitionSubstitutions to the
// local resources: functions by logical id, the bucket and the topic.
func (e *Env) substitutions(t asl.Template) (map[string]string, error) {
	values := map[string]string{}
	for name, s := range t.Substitutions {
		typ := t.Resources[s.Resource]
		switch {
		case s.Kind == "Literal":
			values[name] = s.Literal
		case s.Kind == "GetAtt" && typ == "AWS::Serverless::Function" && s.Attr == "Arn",
			s.Kind == "Ref" && typ == "AWS::Serverless::Function":
			values[name] = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", e.Region, Account, s.Resource)
		case s.Kind == "Ref" && typ == "AWS::S3::Bucket":
			values[name] = e.Bucket
		case s.Kind == "Ref" && typ == "AWS::SNS::Topic":
			values[name] = e.TopicArn
		default:
			return nil, fmt.Errorf("substitution %s: local mode cannot resolve %s %s.%s (%s)", name, s.Kind, s.Resource, s.Attr, typ)
		}
	}
	return values, nil
}

// SetFaults replaces the injected faults (nil: none).
func (e *Env) SetFaults(f []*Fault) { e.faults.Store(&f) }

// Faults are the injected faults in force.
func (e *Env) Faults() []*Fault {
	if p := e.faults.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the front endpoint and moto.
func (e *Env) Close() {
	if e.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := e.server.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			_ = e.server.Close()
		}
		cancel()
	}
	e.Moto.Stop()
}

// requestIDHandler adds the invocation's request id from the context, as
// the Lambda log handler (lambdacontext) does, so local logs read the same.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
