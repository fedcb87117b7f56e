package main

import (
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func benchSpecsOf(t *testing.T, args ...string) (benchOptions, error) {
	t.Helper()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o benchOptions
	o.register(fs)
	require.NoError(t, fs.Parse(args))
	_, err := o.specs()
	return o, err
}

// --accounts runs on the simulator only, and reaches its spec there.
func TestBenchAccounts(t *testing.T) {
	o, err := benchSpecsOf(t, "--ec2", "sim", "--accounts", "3", "--regions", "2", "--volumes", "200")
	require.NoError(t, err)
	specs, _ := o.specs()
	require.Len(t, specs, 1)
	assert.Equal(t, 3, specs[0].Accounts)
	assert.Equal(t, 2, specs[0].Regions)

	for _, args := range [][]string{{"--ec2", "moto", "--accounts", "3"}, {"--accounts", "3"}, {"--ec2", "sim", "--accounts", "-1"}} {
		_, err := benchSpecsOf(t, args...)
		assert.ErrorIs(t, err, errUsage, "%v", args)
	}
	_, err = benchSpecsOf(t, "--ec2", "moto", "--accounts", "3")
	assert.ErrorContains(t, err, "--ec2 sim")

	o, err = benchSpecsOf(t)
	require.NoError(t, err)
	specs, _ = o.specs()
	for _, s := range specs {
		assert.Zero(t, s.Accounts, "no --accounts: one account, as before")
	}
}

// --consistent makes every fleet's instances sets; without it none are.
func TestBenchConsistent(t *testing.T) {
	o, err := benchSpecsOf(t, "--ec2", "sim", "--per-instance", "4", "--consistent")
	require.NoError(t, err)
	specs, _ := o.specs()
	require.Len(t, specs, 1)
	assert.True(t, specs[0].Consistent)
	assert.Equal(t, 4, specs[0].VolumesPerInstance)

	o, err = benchSpecsOf(t)
	require.NoError(t, err)
	specs, _ = o.specs()
	for _, s := range specs {
		assert.False(t, s.Consistent, "no --consistent: no sets, as before")
	}
}
