package ec2sim

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

func TestScratchRegionsListed(t *testing.T) {
	s := New()
	s.AddVolume("eu-west-1", s.AddInstance("eu-west-1", nil), nil)
	out, err := s.Region("us-east-1").DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Regions {
		t.Logf("listed %s", aws.ToString(r.RegionName))
	}
	_, _ = s.Region("sa-east-1").DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{})
	out, _ = s.Region("us-east-1").DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{})
	for _, r := range out.Regions {
		t.Logf("after: listed %s", aws.ToString(r.RegionName))
	}
}

// Many sleepers, random cancels, concurrent readers: each wakes at or
// after its time, never early, and none hang.
func TestScratchEventClockStress(t *testing.T) {
	c := NewClock(time.Now(), 1).Fork()
	var wg sync.WaitGroup
	var mu sync.Mutex
	early, late := 0, time.Duration(0)
	for g := 0; g < 200; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				d := time.Duration(rand.IntN(5000)) * time.Millisecond
				ctx, cancel := context.WithCancel(context.Background())
				if rand.IntN(4) == 0 {
					go func() { time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond); cancel() }()
				}
				start := c.Now()
				err := c.Sleep(ctx, d)
				end := c.Now()
				cancel()
				if err == nil {
					mu.Lock()
					if end.Sub(start) < d {
						early++
					}
					late = max(late, end.Sub(start)-d)
					mu.Unlock()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("hang")
	}
	c.mu.Lock()
	t.Logf("early=%d maxlate=%v jumps=%d left=%d advancing=%v", early, late, c.ev.jumps, len(c.ev.sleepers), c.ev.advancing)
	c.mu.Unlock()
}
