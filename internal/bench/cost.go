package bench

import (
	"time"

	"github.com/snapper/snapper/internal/localaws"
)

// Prices in US East (N. Virginia), November 2026:
// https://aws.amazon.com/lambda/pricing/ (arm64),
// https://aws.amazon.com/step-functions/pricing/ (standard workflows),
// https://aws.amazon.com/s3/pricing/ (S3 Standard requests).
const (
	lambdaPerGBSecond  = 0.0000133334
	lambdaPerRequest   = 0.20 / 1e6
	sfnPerTransition   = 0.025 / 1000
	s3PerWrite         = 0.005 / 1000 // PUT, COPY, POST, LIST
	s3PerRead          = 0.0004 / 1000
	journalWriteEvery  = time.Second // ebs: the journal is saved at most once a second
	costPerVolumeScale = 10000
)

// Cost is what a run costs in AWS, from what the local run measured.
type Cost struct {
	GBSeconds   float64 `json:"lambda_gb_seconds"`
	Invocations int     `json:"lambda_invocations"`
	Transitions int     `json:"state_transitions"`
	S3Writes    int64   `json:"s3_writes"`
	S3Reads     int64   `json:"s3_reads"`
	LambdaUSD   float64 `json:"lambda_usd"`
	SFNUSD      float64 `json:"step_functions_usd"`
	S3USD       float64 `json:"s3_usd"`
	TotalUSD    float64 `json:"total_usd"`
	Per10kUSD   float64 `json:"usd_per_10000_volumes"`
}

// costOf prices a run. Durations are on the clocks the invocations ran
// on, times scale for regional ones on a scaled clock. The journal's
// writes are priced at Lambda's rate, one a second of Apply while it has
// news, not at local mode's (once a real second).
func costOf(invs []localaws.Invocation, memoryMB map[string]int, scale float64, transitions int, s3 s3Counts, volumes int) Cost {
	c := Cost{Invocations: len(invs), Transitions: transitions, S3Reads: s3.reads}
	var applySeconds float64
	for _, inv := range invs {
		took := inv.End.Sub(inv.Start).Seconds()
		if inv.Region != "" {
			took *= scale
		}
		c.GBSeconds += took * float64(memoryMB[inv.Function]) / 1024
		if inv.Function == "ApplyFunction" {
			applySeconds += took
		}
	}
	c.S3Writes = s3.writes - s3.journal + int64(applySeconds/journalWriteEvery.Seconds())
	c.LambdaUSD = c.GBSeconds*lambdaPerGBSecond + float64(c.Invocations)*lambdaPerRequest
	c.SFNUSD = float64(c.Transitions) * sfnPerTransition
	c.S3USD = float64(c.S3Writes)*s3PerWrite + float64(c.S3Reads)*s3PerRead
	c.TotalUSD = c.LambdaUSD + c.SFNUSD + c.S3USD
	if volumes > 0 {
		c.Per10kUSD = c.TotalUSD * costPerVolumeScale / float64(volumes)
	}
	return c
}
