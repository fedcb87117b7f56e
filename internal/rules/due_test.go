package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDue(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	sydney, err := time.LoadLocation("Australia/Sydney")
	require.NoError(t, err)
	ptr := func(s string) *time.Time { v := at(s); return &v }
	tests := []struct {
		name     string
		run      string
		newest   *time.Time
		interval int64
		every    int64
		loc      *time.Location
		due      bool
	}{
		{"no snapshot yet", "2026-11-25T03:00:00Z", nil, 86400, 1, nil, true},
		{"daily, yesterday's", "2026-11-25T03:00:00Z", ptr("2026-11-24T03:00:05Z"), 86400, 1, nil, true},
		{"daily, late last night counts as a calendar day", "2026-11-25T00:10:00Z", ptr("2026-11-24T23:50:00Z"), 86400, 1, nil, true},
		{"daily, already today", "2026-11-25T23:00:00Z", ptr("2026-11-25T00:01:00Z"), 86400, 1, nil, false},
		{"every 3 days, 2 days on", "2026-11-25T03:00:00Z", ptr("2026-11-23T03:00:00Z"), 86400, 3, nil, false},
		{"every 3 days, 3 days on", "2026-11-25T03:00:00Z", ptr("2026-11-22T23:59:59Z"), 86400, 3, nil, true},
		{"hourly interval, next hour", "2026-11-25T04:00:00Z", ptr("2026-11-25T03:00:07Z"), 3600, 1, nil, true},
		{"hourly interval, same hour", "2026-11-25T03:59:59Z", ptr("2026-11-25T03:00:00Z"), 3600, 1, nil, false},
		{"every 6 hours", "2026-11-25T06:00:00Z", ptr("2026-11-25T00:00:01Z"), 3600, 6, nil, true},
		{"newest in the future (clock skew) is not due", "2026-11-25T03:00:00Z", ptr("2026-11-26T03:00:00Z"), 86400, 1, nil, false},
		// cron(30 1 * * ? *) Europe/Berlin: Sunday 01:30 CET is 00:30Z, Monday 01:30 CEST is 23:30Z the same UTC day.
		{"daily 01:30 Berlin, Monday after the spring change", "2026-03-29T23:30:00Z", ptr("2026-03-29T00:30:00Z"), 86400, 1, berlin, true},
		{"daily 01:30 Berlin, Sunday of the autumn change", "2026-10-25T00:30:00Z", ptr("2026-10-23T23:30:00Z"), 86400, 1, berlin, true},
		{"daily 01:30 Berlin, Monday after the autumn change", "2026-10-26T00:30:00Z", ptr("2026-10-25T00:30:00Z"), 86400, 1, berlin, true},
		{"daily Berlin, twice on one local day is not due", "2026-03-29T23:30:00Z", ptr("2026-03-29T22:30:00Z"), 86400, 1, berlin, false},
		{"daily Sydney, 23:00Z is the next local morning", "2026-11-25T23:00:00Z", ptr("2026-11-25T01:00:00Z"), 86400, 1, sydney, true},
		{"hourly ignores the zone across the spring change", "2026-03-29T01:00:00Z", ptr("2026-03-29T00:00:00Z"), 3600, 1, berlin, true},
		{"hourly ignores the zone across the autumn change", "2026-10-25T01:00:00Z", ptr("2026-10-25T00:00:00Z"), 3600, 1, berlin, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Schedule{Run: at(tc.run), Interval: tc.interval, Location: tc.loc}
			assert.Equal(t, tc.due, s.Due(tc.newest, tc.every))
		})
	}
}
