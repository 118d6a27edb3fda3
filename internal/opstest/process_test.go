package opstest

import (
	"github.com/switchyard/switchyard/internal/testenv"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// startProcess starts the switchyard binary with args in its own process
// group and kills the group when the test ends.
func startProcess(t *testing.T, env []string, args ...string) (*exec.Cmd, *testenv.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start switchyard %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("output of switchyard %s:\n%s", strings.Join(args, " "), out.String())
		}
	})
	return cmd, out
}
