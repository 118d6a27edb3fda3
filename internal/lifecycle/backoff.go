package lifecycle

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential delay policy: the n-th consecutive failure
// waits Min*2^(n-1), capped at Max, with up to Jitter of it added or
// removed at random so a fleet does not retry in lockstep.
type Backoff struct {
	// Min is the first delay.
	Min time.Duration
	// Max caps the delay.
	Max time.Duration
	// Jitter is the random fraction (0..1) of the delay; zero or a
	// negative value means none.
	Jitter float64
}

// DefaultBackoff is the wait of a process for a dependency to come back (a
// store, NATS): 100 ms doubling up to 5 s, without jitter.
var DefaultBackoff = Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}

// Delay returns the wait after the n-th consecutive failure (n >= 1):
// Min*2^(n-1) capped at Max, with jitter, and never below a millisecond.
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

// Or returns b with every zero field taken from defaults.
func (b Backoff) Or(defaults Backoff) Backoff {
	if b.Min == 0 {
		b.Min = defaults.Min
	}
	if b.Max == 0 {
		b.Max = defaults.Max
	}
	if b.Jitter == 0 {
		b.Jitter = defaults.Jitter
	}
	return b
}

// Validate returns an error naming the first field that is wrong: Min must
// be positive, Max at least Min, Jitter at most 1.
func (b Backoff) Validate() error {
	switch {
	case b.Min <= 0:
		return fmt.Errorf("Backoff.Min %v must be positive", b.Min)
	case b.Max < b.Min:
		return fmt.Errorf("Backoff.Max %v must be at least Backoff.Min %v", b.Max, b.Min)
	case b.Jitter > 1:
		return fmt.Errorf("Backoff.Jitter %v must be at most 1", b.Jitter)
	}
	return nil
}
