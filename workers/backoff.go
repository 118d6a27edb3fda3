package workers

import (
	"math/rand/v2"
	"time"
)

// Delay returns the wait after the n-th consecutive failure (n >= 1):
// Min*2^(n-1) capped at Max, with jitter. It assumes defaults were applied.
func (b Backoff) Delay(n int64) time.Duration {
	d := b.Min
	for i := int64(1); i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		spread := float64(d) * b.Jitter
		d += time.Duration(spread * (2*rand.Float64() - 1))
	}
	return max(d, time.Millisecond)
}
