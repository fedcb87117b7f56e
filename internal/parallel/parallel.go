// Package parallel runs one function per index, a bounded number at a
// time: how Plan enters accounts, Report reads summaries and the preview
// walks accounts.
package parallel

import "sync"

// Each calls f(i) for every i in [0, n), at most width at once, and
// returns when every call has returned. f writes its result at index i
// of a slice the caller made, so no result is shared.
func Each(n, width int, f func(i int)) {
	sem := make(chan struct{}, max(width, 1))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}
