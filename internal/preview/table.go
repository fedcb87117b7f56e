package preview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Table writes the plan for people: a summary row per region, then the
// volumes and snapshots by name, and every entry that failed. With more
// than one account, each account's regions come under an `Account <id>`
// heading.
func Table(w io.Writer, p Plan) {
	fmt.Fprintf(w, "What a run of tag prefix %q at %s would do (nothing has been changed):\n", p.TagPrefix, p.RunTime.Format(time.RFC3339))
	if len(p.Accounts) <= 1 {
		fmt.Fprintln(w)
		regions(w, p.Regions)
		return
	}
	for _, account := range p.Accounts {
		fmt.Fprintf(w, "\nAccount %s\n", account)
		var in []Region
		for _, r := range p.Regions {
			if r.Account == account {
				in = append(in, r)
			}
		}
		regions(w, in)
	}
}

// regions writes one account's regions: the summary of those previewed,
// then each region's details; an account that could not be entered is
// one line.
func regions(w io.Writer, rs []Region) {
	var ok []Region
	for _, r := range rs {
		switch {
		case r.Region == WholeAccount:
			fmt.Fprintf(w, "  failed: %s\n", r.Error)
		case r.Error == "":
			ok = append(ok, r)
		}
	}
	if len(ok) > 0 {
		summary(w, ok)
	}
	for _, r := range rs {
		if r.Region != WholeAccount {
			details(w, r)
		}
	}
}

func summary(w io.Writer, rs []Region) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tINSTANCES\tVOLUMES\tCREATE\tKEEP\tDELETE\tPROBLEMS")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Region, r.InstancesManaged, r.VolumesManaged, len(r.Create), r.Keep, len(r.Delete), len(r.Problems))
	}
	tw.Flush()
}

// details lists what a region's run would do by name, or why the region
// could not be previewed.
func details(w io.Writer, r Region) {
	if r.Error == "" && len(r.Create)+len(r.Delete)+len(r.KeptBy)+len(r.Problems) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", r.Region)
	if r.Error != "" {
		fmt.Fprintf(w, "  failed: %s\n", r.Error)
		return
	}
	if len(r.Create) > 0 {
		fmt.Fprintf(w, "  create a snapshot of: %s\n", strings.Join(r.Create, " "))
	}
	for _, d := range r.Delete {
		when := ""
		if d.Displaced {
			when = " once its new snapshot is completed"
		}
		fmt.Fprintf(w, "  delete %s (of %s)%s\n", d.SnapshotID, d.VolumeID, when)
	}
	for _, k := range r.KeptBy {
		fmt.Fprintf(w, "  keep %s (of %s), kept: %s\n", k.SnapshotID, k.VolumeID, k.By)
	}
	for _, pr := range r.Problems {
		fmt.Fprintf(w, "  problem %s: %s\n", pr.VolumeID, pr.Reason)
	}
}
