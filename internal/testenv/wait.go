package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond every 10 ms until it returns true, and fails the test
// with msg (and the last state cond reported) after timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, string), msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var state string
	for {
		var ok bool
		ok, state = cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v (last state: %s)", msg, timeout, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
