// Package procstat reads the CPU time of processes from /proc, so that
// benchmarks can say what a worker process and a local database server
// spent per event, apart from wall-clock time that load on a shared
// machine decides.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CommandCPU sums the user and system time used so far by every process of
// this host whose command name is comm (for example "postgres": the server
// and its backends), so a run can say how much of its time the database
// itself spent. Processes that end between two readings drop out of the
// sum, so a delta is a lower bound. It returns false when no such process
// is visible (a database on another host).
func CommandCPU(comm string) (time.Duration, bool) {
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
		cpu, err := CPUTime(pid)
		if err != nil {
			continue
		}
		total += cpu
		found = true
	}
	return total, found
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// CPUTime reads the user and system time a process has used so far from
// /proc/<pid>/stat (fields 14 and 15, after the parenthesised command).
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// StartCommandCPU starts measuring the CPU time of the processes named
// comm on this host (for example "postgres": a local database server);
// the returned function reports what they used since (zero when none is
// on this host).
func StartCommandCPU(comm string) func() time.Duration {
	before, ok := CommandCPU(comm)
	return func() time.Duration {
		after, ok2 := CommandCPU(comm)
		if !ok || !ok2 || after < before {
			return 0
		}
		return after - before
	}
}
