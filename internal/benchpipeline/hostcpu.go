package benchpipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// commandCPU sums the user and system time used so far by every process of
// this host whose command name is comm (for example "postgres": the server
// and its backends), so a run can say how much of its time the database
// itself spent. Processes that end between two readings drop out of the
// sum, so a delta is a lower bound. It returns false when no such process
// is visible (a database on another host).
func commandCPU(comm string) (time.Duration, bool) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	found := false
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != comm {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		cpu, err := cpuTime(pid)
		if err != nil {
			continue
		}
		total += cpu
		found = true
	}
	return total, found
}
