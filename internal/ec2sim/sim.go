// Package ec2sim is an in-process EC2 fleet simulator behind the same
// narrow interface the functions use (ebs.EC2 and DescribeRegions). It
// pages like EC2 (MaxResults bounds, NextToken), keeps snapshots pending
// for a while, refuses deletes of snapshots in use, enforces EC2's
// per-region token buckets and per-volume snapshot limits, and runs on a
// clock that can be scaled, for fleets that moto cannot hold and for cases
// moto cannot produce.
package ec2sim

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/snapper/snapper/internal/ec2limits"
)

// Regions are the regions a simulated account has enabled: twenty of
// AWS's commercial regions.
var Regions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
	"eu-north-1", "eu-south-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
	"ap-northeast-2", "ap-northeast-3", "ca-central-1", "sa-east-1", "me-south-1", "af-south-1",
}

// Sim is a simulated account: one fleet per region.
type Sim struct {
	Clock *Clock
	// Enabled are the regions DescribeRegions lists besides those with a
	// fleet (none by default: a region is enabled once it has a fleet).
	Enabled []string
	// RegionClocks gives every region its own event clock, forked from
	// Clock when the region is first used (set it before seeding): a
	// region's time then jumps over its EC2 waits whatever the others do.
	RegionClocks bool
	// Latency is added to every call, on the simulated clock.
	Latency time.Duration
	// PendingFor is how long a new snapshot stays pending.
	PendingFor time.Duration
	// CopyPendingFor is how long a CopySnapshot copy stays pending (0:
	// PendingFor); CopyLimit caps the copies pending per destination
	// region (0: DefaultCopyLimit).
	CopyPendingFor time.Duration
	CopyLimit      int
	// DescribeLag is how long a snapshot made by CreateSnapshot stays
	// invisible to DescribeSnapshots: EC2's describes are eventually
	// consistent. Seeded snapshots are visible at once.
	DescribeLag time.Duration
	// FailNew, when set, is asked at CreateSnapshot: a snapshot it picks
	// is accepted and ends in state error instead of completed.
	FailNew func(region, volumeID string) bool
	// Requests are EC2's buckets on the simulated clock (Factor 0, the
	// default, turns them off) and the count of calls and throttles.
	Requests *ec2limits.Account
	// MaxPage, when set, caps every page below EC2's own maximum, to make
	// pagination visible on small fleets.
	MaxPage int32
	// Fault, when set, is asked before every call; an error it returns is
	// the call's answer.
	Fault func(region, action string, in any) error
	// LoseAnswer, when set, is asked after a call took effect; an error it
	// returns replaces the answer (a 5xx or a reset on the way back).
	LoseAnswer func(region, action string, in any) error

	mu      sync.Mutex
	regions map[string]*fleet
	clocks  map[string]*Clock // RegionClocks
	seq     atomic.Int64
	// Retryer, when set, retries failed calls as the SDK's middleware
	// would, sleeping on the simulated clock (the simulator stands in for
	// the SDK client, so it also stands in for its retries).
	Retryer aws.Retryer
	// Retries counts the retried attempts.
	Retries atomic.Int64
}

type fleet struct {
	region    string
	instances map[string]*instance
	volumes   map[string]*volume
	snapshots map[string]*snapshot
	// Indexes for the filters a per-volume client (the naive baseline) uses.
	snapsByVolume  map[string]map[string]bool
	volsByInstance map[string]map[string]bool
	// copies holds the copies that may still be pending (copies.go).
	copies map[string]bool
}

func (f *fleet) addSnapshot(sn *snapshot) {
	f.snapshots[sn.id] = sn
	if f.snapsByVolume[sn.volume] == nil {
		f.snapsByVolume[sn.volume] = map[string]bool{}
	}
	f.snapsByVolume[sn.volume][sn.id] = true
}

func (f *fleet) deleteSnapshot(sn *snapshot) {
	delete(f.snapshots, sn.id)
	delete(f.snapsByVolume[sn.volume], sn.id)
}

// candidates narrows a describe to the ids an indexed filter names.
func candidates[T any](all map[string]T, index map[string]map[string]bool, filters []types.Filter, field string) []string {
	for _, f := range filters {
		if aws.ToString(f.Name) != field {
			continue
		}
		seen := map[string]bool{}
		for _, v := range f.Values {
			for id := range index[v] {
				seen[id] = true
			}
		}
		return sortedKeys(seen)
	}
	return sortedKeys(all)
}

// snapshotCandidates narrows a snapshot listing by an exact snapshot-id
// filter (the watch's batches), else by volume: a scan and sort of a
// region's every snapshot per call, under the simulator's one lock, would
// cost the other regions' calls their timing.
func snapshotCandidates(f *fleet, filters []types.Filter) []string {
	for _, fl := range filters {
		if aws.ToString(fl.Name) != "snapshot-id" || slices.ContainsFunc(fl.Values, func(v string) bool { return strings.ContainsAny(v, "*?") }) {
			continue
		}
		var ids []string
		for _, v := range fl.Values {
			if _, ok := f.snapshots[v]; ok {
				ids = append(ids, v)
			}
		}
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	return candidates(f.snapshots, f.snapsByVolume, filters, "volume-id")
}

type instance struct {
	id    string
	state string
	tags  map[string]string
	// root is the boot volume: the first volume added to the instance.
	root string
}

type volume struct {
	id       string
	instance string
	// others are further attachments (io2 Multi-Attach), in attach order.
	others []string
	tags   map[string]string
	// lastCreate is when the volume's last snapshot was started, for the
	// per-volume creation rate limit.
	lastCreate time.Time
}

type snapshot struct {
	id, volume  string
	description string
	start       time.Time
	state       string // "" = derived from the clock
	inUse       bool
	fails       bool      // ends in error when its pending time is over
	visibleAt   time.Time // describes see it from then on
	tags        map[string]string
	pendingFor  time.Duration // 0 = Sim.PendingFor
	encrypted   bool
	kmsKeyID    string
}

// New makes an empty simulated account on a real-time clock.
func New() *Sim {
	s := &Sim{Clock: NewClock(time.Now(), 1), regions: map[string]*fleet{}}
	s.Requests = ec2limits.NewAccount(0, func(region string) time.Time { return s.ClockOf(region).Now() })
	return s
}

func (s *Sim) fleet(region string) *fleet {
	f, ok := s.regions[region]
	if !ok {
		f = &fleet{instances: map[string]*instance{}, volumes: map[string]*volume{}, snapshots: map[string]*snapshot{},
			snapsByVolume: map[string]map[string]bool{}, volsByInstance: map[string]map[string]bool{}}
		f.region = region
		s.regions[region] = f
	}
	return f
}

func (s *Sim) id(prefix string) string {
	return fmt.Sprintf("%s-%017x", prefix, s.seq.Add(1))
}

// AddInstance adds a running instance and returns its id.
func (s *Sim) AddInstance(region string, tags map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id("i")
	s.fleet(region).instances[id] = &instance{id: id, state: "running", tags: copyTags(tags)}
	return id
}

// AddVolume adds a volume attached to instanceID ("" = unattached).
func (s *Sim) AddVolume(region, instanceID string, tags map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id("vol")
	f := s.fleet(region)
	f.volumes[id] = &volume{id: id, instance: instanceID, tags: copyTags(tags)}
	if inst := f.instances[instanceID]; inst != nil && inst.root == "" {
		inst.root = id
	}
	if f.volsByInstance[instanceID] == nil {
		f.volsByInstance[instanceID] = map[string]bool{}
	}
	f.volsByInstance[instanceID][id] = true
	return id
}

// Attach attaches a volume to a further instance (io2 Multi-Attach).
func (s *Sim) Attach(region, volumeID, instanceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fleet(region)
	v := f.volumes[volumeID]
	v.others = append(v.others, instanceID)
	if f.volsByInstance[instanceID] == nil {
		f.volsByInstance[instanceID] = map[string]bool{}
	}
	f.volsByInstance[instanceID][volumeID] = true
}

// SnapshotSpec describes a snapshot to seed.
type SnapshotSpec struct {
	Volume string
	Start  time.Time
	State  string // pending, completed or error; default completed
	InUse  bool
	Tags   map[string]string
}

// AddSnapshot seeds a snapshot and returns its id.
func (s *Sim) AddSnapshot(region string, spec SnapshotSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id("snap")
	state := spec.State
	if state == "" {
		state = "completed"
	}
	f := s.fleet(region)
	f.addSnapshot(&snapshot{id: id, volume: spec.Volume, start: spec.Start, state: state, inUse: spec.InUse, tags: copyTags(spec.Tags)})
	if spec.Volume == CopyVolumeID {
		f.addCopy(id)
	}
	return id
}

// SnapshotInfo is a snapshot as a test sees it.
type SnapshotInfo struct {
	ID, Volume, State, Description string
	Start                          time.Time
	Tags                           map[string]string
	Encrypted                      bool
	KmsKeyID                       string
}

// Snapshots lists a region's snapshots, oldest first.
func (s *Sim) Snapshots(region string) []SnapshotInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SnapshotInfo
	f := s.fleet(region)
	for _, sn := range f.snapshots {
		out = append(out, SnapshotInfo{ID: sn.id, Volume: sn.volume, State: s.stateOf(f, sn), Description: sn.description, Start: sn.start, Tags: copyTags(sn.tags),
			Encrypted: sn.encrypted, KmsKeyID: sn.kmsKeyID})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ClockOf is the clock of a region's EC2. A region clock is made on first
// use, apart from the region's fleet: a call to a region does not enable it.
func (s *Sim) ClockOf(region string) *Clock {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clockLocked(region)
}

func (s *Sim) clockLocked(region string) *Clock {
	if !s.RegionClocks {
		return s.Clock
	}
	c, ok := s.clocks[region]
	if !ok {
		if s.clocks == nil {
			s.clocks = map[string]*Clock{}
		}
		c = s.Clock.Fork()
		s.clocks[region] = c
	}
	return c
}

func (s *Sim) clockOf(f *fleet) *Clock { return s.clockLocked(f.region) }

// stateOf is a seeded snapshot's fixed state, or for one the tool
// created, pending for its pending time and then completed.
func (s *Sim) stateOf(f *fleet, sn *snapshot) string {
	if sn.state != "" {
		return sn.state
	}
	if s.clockOf(f).Now().Before(sn.start.Add(s.pendingOf(sn))) {
		return "pending"
	}
	if sn.fails {
		return "error"
	}
	return "completed"
}

// progressOf is what EC2 reports in Progress: a pending snapshot's share of
// its pending time, whole percent, rounded down; 100% once it is done.
func (s *Sim) progressOf(f *fleet, sn *snapshot) string {
	pendingFor := s.pendingOf(sn)
	if s.stateOf(f, sn) != "pending" || pendingFor <= 0 {
		return "100%"
	}
	age := s.clockOf(f).Now().Sub(sn.start)
	return fmt.Sprintf("%d%%", min(int64(99), int64(100*age/pendingFor)))
}

// pendingOf is how long a snapshot the tool made stays pending: a copy
// keeps the CopyPendingFor of its start, the others follow PendingFor.
func (s *Sim) pendingOf(sn *snapshot) time.Duration {
	if sn.pendingFor > 0 {
		return sn.pendingFor
	}
	return s.PendingFor
}

func copyTags(t map[string]string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// Region returns a client for one region.
func (s *Sim) Region(name string) *Client { return &Client{sim: s, region: name} }

// Client is one region's view of the simulator; it satisfies the
// functions' EC2 interfaces.
type Client struct {
	sim    *Sim
	region string
}

func apiError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

// call makes one API call through enter and the retryer: the sim's, or
// the one a per-call option sets, as the SDK's client does.
func call[T any](c *Client, ctx context.Context, action string, in any, fn func() (T, error), optFns ...func(*ec2.Options)) (T, error) {
	opts := ec2.Options{Retryer: c.sim.Retryer}
	for _, f := range optFns {
		f(&opts)
	}
	for attempt := 1; ; attempt++ {
		var out T
		err := c.enter(ctx, action, in)
		if err == nil {
			out, err = fn()
		}
		if err == nil && c.sim.LoseAnswer != nil {
			if lost := c.sim.LoseAnswer(c.region, action, in); lost != nil {
				var none T
				out, err = none, lost
			}
		}
		r := opts.Retryer
		if err == nil || r == nil || !r.IsErrorRetryable(err) || attempt >= r.MaxAttempts() {
			return out, err
		}
		delay, derr := r.RetryDelay(attempt, err)
		if derr != nil {
			return out, err
		}
		c.sim.Retries.Add(1)
		if serr := c.sim.ClockOf(c.region).Sleep(ctx, delay); serr != nil {
			return out, err
		}
	}
}

// enter counts a call, applies latency, faults and the token bucket.
func (c *Client) enter(ctx context.Context, action string, in any) error {
	c.sim.Requests.Count(c.region, action)
	if c.sim.Latency > 0 {
		if err := c.sim.ClockOf(c.region).Sleep(ctx, c.sim.Latency); err != nil {
			return err
		}
	}
	if c.sim.Fault != nil {
		if err := c.sim.Fault(c.region, action, in); err != nil {
			return err
		}
	}
	if !c.sim.Requests.Take(c.region, action) {
		return apiError("RequestLimitExceeded", "Request limit exceeded.")
	}
	return nil
}

// page cuts a sorted id list at the token, by max results within EC2's bounds.
func (c *Client) page(ids []string, token *string, maxResults *int32, lo, hi int32) ([]string, *string, error) {
	size := hi
	if maxResults != nil {
		if *maxResults < lo || *maxResults > hi {
			return nil, nil, apiError("InvalidParameterValue", fmt.Sprintf("MaxResults must be between %d and %d", lo, hi))
		}
		size = *maxResults
	}
	if c.sim.MaxPage > 0 && size > c.sim.MaxPage {
		size = c.sim.MaxPage
	}
	start := 0
	if token != nil && *token != "" {
		n, err := strconv.Atoi(*token)
		if err != nil || n < 0 || n > len(ids) {
			return nil, nil, apiError("InvalidParameterValue", "bad NextToken")
		}
		start = n
	}
	end := min(start+int(size), len(ids))
	var next *string
	if end < len(ids) {
		next = aws.String(strconv.Itoa(end))
	}
	return ids[start:end], next, nil
}

func matches(filters []types.Filter, field func(name string) []string) bool {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		have := field(name)
		ok := false
		for _, want := range f.Values {
			for _, h := range have {
				if h == want || (strings.HasPrefix(name, "tag:") && wildcard(want, h)) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// wildcard matches a filter value as EC2 does: * is any run of
// characters, ? exactly one, and a backslash escapes the next character.
func wildcard(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			re.WriteString(regexp.QuoteMeta(string(pattern[i])))
		case c == '*':
			re.WriteString("(?s:.*)")
		case c == '?':
			re.WriteString("(?s:.)")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString(re.String(), s)
	return ok
}

func tagField(tags map[string]string, name string) ([]string, bool) {
	if k, ok := strings.CutPrefix(name, "tag:"); ok {
		if v, ok := tags[k]; ok {
			return []string{v}, true
		}
		return nil, true
	}
	if name == "tag-key" {
		var keys []string
		for k := range tags {
			keys = append(keys, k)
		}
		return keys, true
	}
	return nil, false
}

func ec2Tags(m map[string]string) []types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Tag, 0, len(m))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DescribeRegions lists the enabled regions and any seeded ones; with
// AllRegions also every region of Regions, enabled or not.
func (c *Client) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	return call(c, ctx, "DescribeRegions", in, func() (*ec2.DescribeRegionsOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		out := &ec2.DescribeRegionsOutput{}
		names := slices.Concat(c.sim.Enabled, sortedKeys(c.sim.regions))
		if aws.ToBool(in.AllRegions) {
			names = append(names, Regions...)
		}
		slices.Sort(names)
		for _, r := range slices.Compact(names) {
			out.Regions = append(out.Regions, types.Region{RegionName: aws.String(r)})
		}
		return out, nil
	})
}

// DescribeInstances pages instances (MaxResults 5-1000).
func (c *Client) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return call(c, ctx, "DescribeInstances", in, func() (*ec2.DescribeInstancesOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		f := c.sim.fleet(c.region)
		var ids []string
		for _, id := range sortedKeys(f.instances) {
			inst := f.instances[id]
			if len(in.InstanceIds) > 0 && !slices.Contains(in.InstanceIds, id) {
				continue
			}
			if matches(in.Filters, func(name string) []string {
				if v, ok := tagField(inst.tags, name); ok {
					return v
				}
				if name == "instance-state-name" {
					return []string{inst.state}
				}
				return nil
			}) {
				ids = append(ids, id)
			}
		}
		pageIDs, next, err := c.page(ids, in.NextToken, in.MaxResults, 5, 1000)
		if err != nil {
			return nil, err
		}
		out := &ec2.DescribeInstancesOutput{NextToken: next}
		for _, id := range pageIDs {
			inst := f.instances[id]
			out.Reservations = append(out.Reservations, types.Reservation{Instances: []types.Instance{{
				InstanceId: aws.String(id), Tags: ec2Tags(inst.tags), State: &types.InstanceState{Name: types.InstanceStateName(inst.state)},
				RootDeviceName: aws.String(rootDevice), BlockDeviceMappings: f.mappings(inst),
			}}})
		}
		return out, nil
	})
}

// DescribeVolumes pages volumes (MaxResults 5-500).
func (c *Client) DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	return call(c, ctx, "DescribeVolumes", in, func() (*ec2.DescribeVolumesOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		f := c.sim.fleet(c.region)
		var ids []string
		for _, id := range candidates(f.volumes, f.volsByInstance, in.Filters, "attachment.instance-id") {
			v := f.volumes[id]
			if matches(in.Filters, func(name string) []string {
				if t, ok := tagField(v.tags, name); ok {
					return t
				}
				if name == "attachment.instance-id" {
					return append([]string{v.instance}, v.others...)
				}
				return nil
			}) {
				ids = append(ids, id)
			}
		}
		pageIDs, next, err := c.page(ids, in.NextToken, in.MaxResults, 5, 500)
		if err != nil {
			return nil, err
		}
		out := &ec2.DescribeVolumesOutput{NextToken: next}
		for _, id := range pageIDs {
			v := f.volumes[id]
			vol := types.Volume{VolumeId: aws.String(id), Tags: ec2Tags(v.tags), State: types.VolumeStateAvailable}
			if v.instance != "" {
				vol.State = types.VolumeStateInUse
				for _, inst := range append([]string{v.instance}, v.others...) {
					vol.Attachments = append(vol.Attachments, types.VolumeAttachment{InstanceId: aws.String(inst), VolumeId: aws.String(id), State: types.VolumeAttachmentStateAttached})
				}
			}
			out.Volumes = append(out.Volumes, vol)
		}
		return out, nil
	})
}

// DescribeSnapshots pages the account's snapshots (MaxResults 5-1000).
func (c *Client) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	return call(c, ctx, "DescribeSnapshots", in, func() (*ec2.DescribeSnapshotsOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		f := c.sim.fleet(c.region)
		var ids []string
		now := c.sim.clockOf(f).Now()
		for _, id := range in.SnapshotIds {
			if sn, ok := f.snapshots[id]; !ok || now.Before(sn.visibleAt) {
				return nil, apiError("InvalidSnapshot.NotFound", fmt.Sprintf("The snapshot '%s' does not exist.", id))
			}
		}
		for _, id := range snapshotCandidates(f, in.Filters) {
			sn := f.snapshots[id]
			if now.Before(sn.visibleAt) || (len(in.SnapshotIds) > 0 && !slices.Contains(in.SnapshotIds, id)) {
				continue
			}
			if matches(in.Filters, func(name string) []string {
				if t, ok := tagField(sn.tags, name); ok {
					return t
				}
				switch name {
				case "volume-id":
					return []string{sn.volume}
				case "snapshot-id":
					return []string{sn.id}
				case "status":
					return []string{c.sim.stateOf(f, sn)}
				}
				return nil
			}) {
				ids = append(ids, id)
			}
		}
		pageIDs, next, err := c.page(ids, in.NextToken, in.MaxResults, 5, 1000)
		if err != nil {
			return nil, err
		}
		out := &ec2.DescribeSnapshotsOutput{NextToken: next}
		for _, id := range pageIDs {
			sn := f.snapshots[id]
			out.Snapshots = append(out.Snapshots, types.Snapshot{
				SnapshotId: aws.String(id), VolumeId: aws.String(sn.volume), StartTime: aws.Time(sn.start),
				State: types.SnapshotState(c.sim.stateOf(f, sn)), Description: aws.String(sn.description), Tags: ec2Tags(sn.tags),
				Progress: aws.String(c.sim.progressOf(f, sn)), Encrypted: aws.Bool(sn.encrypted), KmsKeyId: optString(sn.kmsKeyID),
			})
		}
		return out, nil
	}, optFns...)
}

// Per-volume limits EC2 applies to snapshot creation.
const (
	PerVolumeCreateInterval = 15 * time.Second
	ConcurrentPerVolume     = 5
)

// CreateSnapshot starts a pending snapshot with the given tags.
func (c *Client) CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error) {
	return call(c, ctx, "CreateSnapshot", in, func() (*ec2.CreateSnapshotOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		f := c.sim.fleet(c.region)
		v, ok := f.volumes[aws.ToString(in.VolumeId)]
		if !ok {
			return nil, apiError("InvalidVolume.NotFound", fmt.Sprintf("The volume '%s' does not exist.", aws.ToString(in.VolumeId)))
		}
		now := c.sim.clockOf(f).Now()
		if err := c.sim.mayCreate(f, v, now); err != nil {
			return nil, err
		}
		sn := c.sim.start(f, v, aws.ToString(in.Description), specTags(in.TagSpecifications), now)
		return &ec2.CreateSnapshotOutput{SnapshotId: aws.String(sn.id), VolumeId: aws.String(v.id), StartTime: aws.Time(now),
			State: types.SnapshotState(c.sim.stateOf(f, sn)), Tags: ec2Tags(sn.tags)}, nil
	}, optFns...)
}

// mayCreate applies EC2's per-volume limits to a new snapshot of v.
func (s *Sim) mayCreate(f *fleet, v *volume, now time.Time) error {
	if !v.lastCreate.IsZero() && now.Sub(v.lastCreate) < PerVolumeCreateInterval {
		return apiError("SnapshotCreationPerVolumeRateExceeded", "The maximum per volume CreateSnapshot request rate has been exceeded.")
	}
	pending := 0
	for id := range f.snapsByVolume[v.id] {
		if s.stateOf(f, f.snapshots[id]) == "pending" {
			pending++
		}
	}
	if pending >= ConcurrentPerVolume {
		return apiError("ConcurrentSnapshotLimitExceeded", "Maximum number of concurrent snapshots reached for this volume.")
	}
	return nil
}

// start adds a pending snapshot of v, invisible to describes for
// DescribeLag.
func (s *Sim) start(f *fleet, v *volume, description string, tags map[string]string, now time.Time) *snapshot {
	v.lastCreate = now
	fails := s.FailNew != nil && s.FailNew(f.region, v.id)
	sn := &snapshot{id: s.id("snap"), volume: v.id, description: description, start: now, tags: tags, fails: fails, visibleAt: now.Add(s.DescribeLag)}
	f.addSnapshot(sn)
	return sn
}

func specTags(specs []types.TagSpecification) map[string]string {
	tags := map[string]string{}
	for _, spec := range specs {
		for _, t := range spec.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags
}

// DeleteSnapshot deletes a snapshot unless an image uses it.
func (c *Client) DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	return call(c, ctx, "DeleteSnapshot", in, func() (*ec2.DeleteSnapshotOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		f := c.sim.fleet(c.region)
		id := aws.ToString(in.SnapshotId)
		sn, ok := f.snapshots[id]
		if !ok {
			return nil, apiError("InvalidSnapshot.NotFound", fmt.Sprintf("The snapshot '%s' does not exist.", id))
		}
		if sn.inUse {
			return nil, apiError("InvalidSnapshot.InUse", fmt.Sprintf("The snapshot %s is currently in use by ami-00000000", id))
		}
		f.deleteSnapshot(sn)
		return &ec2.DeleteSnapshotOutput{}, nil
	}, optFns...)
}

// CreateTags tags resources (the naive baseline tags after creating, as
// aws-snapper did).
func (c *Client) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	return call(c, ctx, "CreateTags", in, func() (*ec2.CreateTagsOutput, error) {
		c.sim.mu.Lock()
		defer c.sim.mu.Unlock()
		f := c.sim.fleet(c.region)
		for _, id := range in.Resources {
			sn, ok := f.snapshots[id]
			if !ok {
				return nil, apiError("InvalidSnapshot.NotFound", fmt.Sprintf("The snapshot '%s' does not exist.", id))
			}
			for _, t := range in.Tags {
				sn.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		return &ec2.CreateTagsOutput{}, nil
	})
}

// RemoveTag removes a tag from an instance or a volume, as a user does.
func (s *Sim) RemoveTag(region, id, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fleet(region)
	if inst, ok := f.instances[id]; ok {
		delete(inst.tags, key)
	}
	if v, ok := f.volumes[id]; ok {
		delete(v.tags, key)
	}
}
