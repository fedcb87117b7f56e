package report

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"
)

// Metric names published in CloudWatch Embedded Metric Format.
var metricNames = []string{"SnapshotsCreated", "SnapshotsDeleted", "SnapshotsSkippedInUse", "SnapshotsFailed", "ProblemVolumes",
	"OverdueVolumes", "OrphanedSnapshots"}

// metricValues are the figures of counts and coverage. SnapshotsFailed
// counts the errors list (failed deletes, DR copies' among them, tag cuts,
// ceiling stops); snapshots and DR copies not made fail the execution,
// which the ExecutionsFailed alarm reports, so they have no metric of
// their own. Unknown coverage
// (no pair of the region finished its work) publishes no coverage metric:
// a zero would tell the overdue alarm that all is well.
func metricValues(c Counts, cov *Coverage) map[string]int {
	values := map[string]int{
		"SnapshotsCreated":      c.Created,
		"SnapshotsDeleted":      c.Deleted,
		"SnapshotsSkippedInUse": c.SkippedInUse,
		"SnapshotsFailed":       c.Errors,
		"ProblemVolumes":        c.Problems,
	}
	if cov != nil {
		values["OverdueVolumes"] = cov.OverdueVolumes
		values["OrphanedSnapshots"] = cov.OrphanedSnapshots
	}
	return values
}

// WriteMetrics writes the report's figures as CloudWatch Embedded Metric
// Format documents, one per region (dimensions Schedule, Region) and one
// for the run (Schedule), one JSON object a line: written to the Lambda's
// output, CloudWatch turns them into metrics with no API call. Metrics
// never carry the account (SPEC 6: per-account figures are in the report,
// and an Account dimension would multiply the metrics by the accounts), so
// a region's document sums that region over every account.
func WriteMetrics(w io.Writer, namespace string, r Report, now time.Time) error {
	enc := json.NewEncoder(w)
	doc := func(dims []string, values map[string]int, extra map[string]any) map[string]any {
		var defs []map[string]string
		for _, n := range metricNames {
			if _, ok := values[n]; ok {
				defs = append(defs, map[string]string{"Name": n, "Unit": "Count"})
			}
		}
		out := map[string]any{
			"_aws": map[string]any{
				"Timestamp":         now.UnixMilli(),
				"CloudWatchMetrics": []any{map[string]any{"Namespace": namespace, "Dimensions": [][]string{dims}, "Metrics": defs}},
			},
			"Schedule":  r.ScheduleName,
			"Execution": r.Execution,
		}
		for k, v := range values {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	for _, reg := range byRegion(r.Regions) {
		if err := enc.Encode(doc([]string{"Schedule", "Region"}, metricValues(reg.Counts, reg.Coverage), map[string]any{"Region": reg.Region})); err != nil {
			return err
		}
	}
	failed := len(r.FailedRegions) + r.MoreFailedRegions
	return enc.Encode(doc([]string{"Schedule"}, metricValues(r.Totals, r.Coverage), map[string]any{"RegionsFailed": failed}))
}

// byRegion sums each region's counts and coverage over the accounts, in
// region order.
// An account that could not be entered (region "*") is no region: it
// counts in the run's RegionsFailed only.
func byRegion(regions []Region) []Region {
	var out []Region
	at := map[string]int{}
	for _, reg := range regions {
		if reg.Region == "*" || strings.HasPrefix(reg.Region, "(") {
			continue // an account not entered, or the pair map itself
		}
		i, ok := at[reg.Region]
		if !ok {
			i = len(out)
			at[reg.Region] = i
			out = append(out, Region{Region: reg.Region})
		}
		out[i].Counts.add(reg.Counts)
		out[i].Coverage = addCoverage(out[i].Coverage, reg.Coverage)
	}
	slices.SortFunc(out, func(a, b Region) int { return cmp.Compare(a.Region, b.Region) })
	return out
}
