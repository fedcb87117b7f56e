package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/localaws"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	env, err := localaws.Up(ctx, localaws.Options{Log: os.Stderr})
	require.NoError(t, err)
	defer env.Close()
	cfg := env.Config()
	e := ec2.NewFromConfig(cfg)
	_, err = e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("autosnap"), Value: aws.String("1")}, {Key: aws.String("autosnap_retain"), Value: aws.String("2")}}}}})
	require.NoError(t, err)
	for i, name := range []string{"one", "two"} {
		r, err := localaws.Execute(ctx, sfn.NewFromConfig(cfg), env.StateMachineArn, name, `{"time":"2026-01-0`+string(rune('1'+i))+`T03:00:00Z"}`, os.Stderr)
		require.NoError(t, err)
		t.Log(r.Status, r.Output)
	}
	time.Sleep(0)
}
