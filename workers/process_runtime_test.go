package workers

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestSetRuntime checks that a worker process takes its GOMAXPROCS and
// garbage collection target from its configuration unless the environment
// sets them, and leaves them alone when they are zero.
func TestSetRuntime(t *testing.T) {
	procs, gc := runtime.GOMAXPROCS(0), debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs); debug.SetGCPercent(gc) })
	unset := func(name string) {
		t.Setenv(name, "") // restored after the test
		os.Unsetenv(name)
	}
	unset("GOMAXPROCS")
	unset("GOGC")

	runtime.GOMAXPROCS(2)
	setRuntime(ProcessConfig{MaxProcs: 1, GCPercent: 300})
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS %d after MaxProcs 1, want 1", got)
	}
	if got := debug.SetGCPercent(300); got != 300 {
		t.Errorf("GC percent %d after GCPercent 300, want 300", got)
	}

	runtime.GOMAXPROCS(2)
	setRuntime(ProcessConfig{})
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS %d after MaxProcs 0, want Go's 2 left alone", got)
	}

	t.Setenv("GOMAXPROCS", "2")
	t.Setenv("GOGC", "100")
	debug.SetGCPercent(100)
	setRuntime(ProcessConfig{MaxProcs: 1, GCPercent: 300})
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS %d with GOMAXPROCS=2 in the environment, want 2", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d with GOGC=100 in the environment, want 100", got)
	}
}
