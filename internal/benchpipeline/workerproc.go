package benchpipeline

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/procstat"
)

// workerRun is what one run of worker processes did.
type workerRun struct {
	Events  uint64
	Elapsed time.Duration
	PeakRSS uint64        // bytes, VmHWM of the largest process
	CPU     time.Duration // user + system time of the worker processes
	// DatabaseCPU is the local PostgreSQL server's CPU time during the run,
	// read while the worker's connections are still open.
	DatabaseCPU time.Duration
	// BrokerCPU is this process's CPU time during the run: the embedded
	// NATS server delivering and taking acks, plus the 50 ms polls of the
	// ack floor.
	BrokerCPU time.Duration
	Finished  bool // reached the target before the time limit
}

// EventsPerSec is the apply rate of the run.
func (r workerRun) EventsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Events) / r.Elapsed.Seconds()
}

// runWorker starts procs `switchyard worker` processes on consumer into
// dsn, waits until the consumer's ack floor reaches target or limit passes,
// samples the processes' peak RSS and CPU time, and stops them with
// SIGTERM. The time counts from the processes' start, connection set-up
// included. CPU is the sum over the processes, PeakRSS the largest one's.
func runWorker(ctx context.Context, cfg Config, b *broker, consumer, dsn string, target uint64, limit time.Duration, procs int) (workerRun, error) {
	type proc struct {
		cmd    *exec.Cmd
		out    bytes.Buffer
		exited chan error
		rss    uint64
		cpu    time.Duration
	}
	ps := make([]*proc, procs)
	stopAll := func() {
		for _, p := range ps {
			if p != nil {
				_ = p.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		for _, p := range ps {
			if p == nil {
				continue
			}
			select {
			case <-p.exited:
			case <-time.After(30 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
			}
		}
	}
	begin := time.Now()
	for i := range ps {
		p := &proc{exited: make(chan error, 1)}
		p.cmd = exec.CommandContext(ctx, cfg.WorkerBinary, "worker",
			"--nats", b.url,
			"--stream", streamName,
			"--consumer", consumer,
			"--sink", dsn,
			"--batch-size", strconv.Itoa(cfg.BatchSize),
			"--concurrency", strconv.Itoa(cfg.Concurrency),
			"--version-source", "stream",
			"--http", "",
			"--log-level", "warn",
		)
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		if err := p.cmd.Start(); err != nil {
			stopAll()
			return workerRun{}, fmt.Errorf("start the worker: %w", err)
		}
		go func() { p.exited <- p.cmd.Wait() }()
		ps[i] = p
	}

	var run workerRun
	db := startDatabaseCPU()
	broker := startOwnCPU()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := begin.Add(limit)
	for {
		select {
		case <-ctx.Done():
			stopAll()
			return run, ctx.Err()
		case <-tick.C:
		}
		run.PeakRSS, run.CPU = 0, 0
		for _, p := range ps {
			select {
			case err := <-p.exited:
				p.exited <- err // for stopAll
				stopAll()
				return run, fmt.Errorf("a worker exited early (%v):\n%s", err, lastLines(p.out.String(), 20))
			default:
			}
			if rss, err := peakRSS(p.cmd.Process.Pid); err == nil {
				p.rss = rss
			}
			if cpu, err := procstat.CPUTime(p.cmd.Process.Pid); err == nil {
				p.cpu = cpu
			}
			run.PeakRSS = max(run.PeakRSS, p.rss)
			run.CPU += p.cpu
		}
		floor, err := b.ackFloor(ctx, consumer)
		if err != nil {
			stopAll()
			return run, err
		}
		run.Events, run.Elapsed = floor, time.Since(begin)
		if floor >= target || time.Now().After(deadline) {
			run.Finished = floor >= target
			run.DatabaseCPU, run.BrokerCPU = db(), broker()
			stopAll()
			return run, nil
		}
	}
}

// peakRSS reads VmHWM, the peak resident set size, of a process.
func peakRSS(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startOwnCPU starts measuring this process's CPU time; the returned
// function reports what it used since (zero when /proc cannot tell).
func startOwnCPU() func() time.Duration {
	start, err := procstat.CPUTime(os.Getpid())
	return func() time.Duration {
		now, err2 := procstat.CPUTime(os.Getpid())
		if err != nil || err2 != nil {
			return 0
		}
		return now - start
	}
}
