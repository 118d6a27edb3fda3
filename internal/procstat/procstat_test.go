package procstat

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCPUTime(t *testing.T) {
	cpu, err := CPUTime(os.Getpid())
	if err != nil || cpu < 0 {
		t.Fatalf("CPUTime of the test process: %v, %v", cpu, err)
	}
	if _, err := CPUTime(-1); err == nil {
		t.Fatal("CPUTime of no process succeeded")
	}
	if _, found := CommandCPU("no-such-command-here"); found {
		t.Fatal("CommandCPU found a process that does not exist")
	}
	self := filepath.Base(os.Args[0])
	if len(self) > 15 {
		self = self[:15] // the kernel keeps 15 bytes of the command name
	}
	if _, found := CommandCPU(self); !found {
		t.Fatalf("CommandCPU did not find this process (%q)", self)
	}
	if d := StartCommandCPU("no-such-command-here")(); d != 0 {
		t.Fatalf("StartCommandCPU of nothing measured %v", d)
	}
}
