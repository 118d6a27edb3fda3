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
	for _, c := range []struct {
		name            string
		env             map[string]string // unset when absent
		cfg             ProcessConfig
		wantProcs, want int
	}{
		{"configured", nil, ProcessConfig{MaxProcs: 1, GCPercent: 300}, 1, 300},
		{"zero leaves Go's", nil, ProcessConfig{}, 2, 100},
		{"the environment wins", map[string]string{"GOMAXPROCS": "2", "GOGC": "100"}, ProcessConfig{MaxProcs: 1, GCPercent: 300}, 2, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range []string{"GOMAXPROCS", "GOGC"} {
				t.Setenv(name, c.env[name]) // restored after the subtest
				if _, set := c.env[name]; !set {
					os.Unsetenv(name)
				}
			}
			runtime.GOMAXPROCS(2)
			debug.SetGCPercent(100)
			setRuntime(c.cfg)
			if got := runtime.GOMAXPROCS(0); got != c.wantProcs {
				t.Errorf("GOMAXPROCS %d, want %d", got, c.wantProcs)
			}
			if got := debug.SetGCPercent(100); got != c.want {
				t.Errorf("GC percent %d, want %d", got, c.want)
			}
		})
	}
}
