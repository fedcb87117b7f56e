package report

import (
	"encoding/json"
	"io"
	"time"
)

// Metric names published in CloudWatch Embedded Metric Format.
var metricNames = []string{"SnapshotsCreated", "SnapshotsDeleted", "SnapshotsSkippedInUse", "SnapshotsFailed", "ProblemVolumes"}

func metricValues(c Counts) map[string]int {
	return map[string]int{
		"SnapshotsCreated":      c.Created,
		"SnapshotsDeleted":      c.Deleted,
		"SnapshotsSkippedInUse": c.SkippedInUse,
		"SnapshotsFailed":       c.Errors,
		"ProblemVolumes":        c.Problems,
	}
}

// WriteMetrics writes the report's figures as CloudWatch Embedded Metric
// Format documents, one per region (dimensions Schedule, Region) and one
// for the run (Schedule), one JSON object a line: written to the Lambda's
// output, CloudWatch turns them into metrics with no API call.
func WriteMetrics(w io.Writer, namespace string, r Report, now time.Time) error {
	enc := json.NewEncoder(w)
	doc := func(dims []string, values map[string]int, extra map[string]any) map[string]any {
		var defs []map[string]string
		for _, n := range metricNames {
			defs = append(defs, map[string]string{"Name": n, "Unit": "Count"})
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
	for _, reg := range r.Regions {
		if err := enc.Encode(doc([]string{"Schedule", "Region"}, metricValues(reg.Counts), map[string]any{"Region": reg.Region})); err != nil {
			return err
		}
	}
	return enc.Encode(doc([]string{"Schedule"}, metricValues(r.Totals), map[string]any{"RegionsFailed": len(r.FailedRegions)}))
}
