package lifecycle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/lifecycle"
)

// TestDefaultBackoff: 100 ms doubling up to 5 s, exactly (no jitter), and
// a delay never under a millisecond.
func TestDefaultBackoff(t *testing.T) {
	var got []time.Duration
	for n := int64(1); n <= 8; n++ {
		got = append(got, lifecycle.DefaultBackoff.Delay(n))
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms", got, want)
		}
	}
	if d := (lifecycle.Backoff{Min: time.Microsecond, Max: time.Microsecond, Jitter: 1}).Delay(1); d != time.Millisecond {
		t.Fatalf("tiny delay %v, want the 1 ms floor", d)
	}
}

func TestBackoffOrAndValidate(t *testing.T) {
	b := lifecycle.Backoff{Max: time.Second}.Or(lifecycle.Backoff{Min: time.Millisecond, Max: time.Hour, Jitter: 0.5})
	if b != (lifecycle.Backoff{Min: time.Millisecond, Max: time.Second, Jitter: 0.5}) {
		t.Fatalf("Or = %+v", b)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []lifecycle.Backoff{{}, {Min: time.Second, Max: time.Millisecond}, {Min: 1, Max: 1, Jitter: 2}} {
		if bad.Validate() == nil {
			t.Fatalf("%+v passed validation", bad)
		}
	}
}

func TestSleepReturnsContextError(t *testing.T) {
	if err := lifecycle.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lifecycle.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep after cancel = %v", err)
	}
}

var errFlaky = errors.New("flaky")

func fastPolicy() lifecycle.Policy {
	return lifecycle.Policy{Backoff: lifecycle.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}}
}

func TestRetryUntilSuccess(t *testing.T) {
	calls := 0
	v, err := lifecycle.RetryValue(context.Background(), fastPolicy(), func() (int, error) {
		calls++
		if calls < 3 {
			return 0, errFlaky
		}
		return 7, nil
	})
	if err != nil || v != 7 || calls != 3 {
		t.Fatalf("got %d, %v after %d calls", v, err, calls)
	}
}

func TestRetryStopsForGood(t *testing.T) {
	fatal := errors.New("fatal")
	p := fastPolicy()
	p.Retryable = func(err error) bool { return !errors.Is(err, fatal) }
	calls := 0
	err := lifecycle.Retry(context.Background(), p, func() error { calls++; return fatal })
	if err != fatal || calls != 1 {
		t.Fatalf("not retryable: %v after %d calls", err, calls)
	}
	calls = 0
	err = lifecycle.Retry(context.Background(), fastPolicy(), func() error { calls++; return lifecycle.Permanent(fatal) })
	if err != fatal || calls != 1 {
		t.Fatalf("permanent: %v after %d calls", err, calls)
	}
	p = fastPolicy()
	p.MaxAttempts = 3
	calls = 0
	err = lifecycle.Retry(context.Background(), p, func() error { calls++; return errFlaky })
	if err != errFlaky || calls != 3 {
		t.Fatalf("max attempts: %v after %d calls", err, calls)
	}
}

func TestRetryInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := fastPolicy()
	p.Backoff = lifecycle.Backoff{Min: time.Hour, Max: time.Hour}
	time.AfterFunc(10*time.Millisecond, cancel)
	err := lifecycle.Retry(ctx, p, func() error { return errFlaky })
	var ie *lifecycle.InterruptedError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ie) || ie.Last != errFlaky {
		t.Fatalf("interrupted retry = %v", err)
	}
	if want := "context canceled (last error: flaky)"; err.Error() != want {
		t.Fatalf("text %q, want %q", err.Error(), want)
	}
}

func TestDrainFinishInTime(t *testing.T) {
	soft, stop := context.WithCancel(context.Background())
	d := lifecycle.StartDrain(soft, time.Hour)
	stop()
	if d.Hard().Err() != nil {
		t.Fatal("hard ended with soft")
	}
	if d.Finish() {
		t.Fatal("grace expired before it was over")
	}
	if d.Hard().Err() == nil {
		t.Fatal("hard outlived Finish")
	}
	d.Finish() // a second call is harmless
}

func TestDrainGraceExpires(t *testing.T) {
	soft, stop := context.WithCancel(context.Background())
	d := lifecycle.StartDrain(soft, 10*time.Millisecond)
	stop()
	select {
	case <-d.Hard().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("hard did not end after the grace period")
	}
	if !d.Finish() {
		t.Fatal("Finish does not report the expired grace period")
	}
}

func TestDrainWithoutStop(t *testing.T) {
	d := lifecycle.StartDrain(context.Background(), time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if d.Hard().Err() != nil {
		t.Fatal("hard ended though soft did not")
	}
	if d.Finish() {
		t.Fatal("expired without a stop")
	}
}
