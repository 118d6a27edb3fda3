package deploy

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dockerBuildCommand returns the go build command of the Dockerfile's build
// stage, with its build arguments substituted.
func dockerBuildCommand(t *testing.T, args map[string]string) string {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build") {
			found = append(found, strings.TrimPrefix(line, "RUN "))
		}
	}
	if len(found) != 1 {
		t.Fatalf("the Dockerfile has %d go build steps, want exactly 1", len(found))
	}
	cmd := found[0]
	for k, v := range args {
		cmd = strings.ReplaceAll(cmd, "${"+k+"}", v)
	}
	if strings.Contains(cmd, "${") {
		t.Fatalf("unsubstituted build argument in %q", cmd)
	}
	return cmd
}

// TestStaticBinaryAsDockerfileBuildsIt runs the Dockerfile's own go build
// command and checks that the result is a static executable that reports the
// version baked into it: what the runtime image (distroless static, no libc)
// needs.
func TestStaticBinaryAsDockerfileBuildsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: the static build takes a while")
	}
	out := filepath.Join(t.TempDir(), "switchyard")
	cmdline := dockerBuildCommand(t, map[string]string{"VERSION": "v9.8.7-test", "COMMIT": "abc1234", "DATE": "2026-01-02T03:04:05Z"})
	if !strings.HasPrefix(cmdline, "CGO_ENABLED=0 ") {
		t.Fatalf("the Dockerfile must build with CGO_ENABLED=0: %q", cmdline)
	}
	cmdline = strings.Replace(cmdline, "-o /out/switchyard", "-o "+out, 1)
	build := exec.Command("sh", "-c", cmdline)
	build.Dir = ".."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, b)
	}

	bin, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader: it is not static")
		}
	}
	if libs, _ := bin.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links shared libraries: %v", libs)
	}

	got, err := exec.Command(out, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("switchyard version: %v\n%s", err, got)
	}
	for _, want := range []string{"v9.8.7-test", "abc1234", "2026-01-02T03:04:05Z"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("switchyard version = %q, lacks %q", got, want)
		}
	}
}

// TestDockerfileRuntimeStage checks the runtime stage: minimal base, non-root.
func TestDockerfileRuntimeStage(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	last := df[strings.LastIndex(df, "\nFROM "):]
	if !strings.Contains(last, "distroless/static") {
		t.Errorf("the runtime stage is not a minimal static image:\n%s", last)
	}
	if !strings.Contains(last, "USER 65532:65532") {
		t.Errorf("the runtime stage does not run as non-root:\n%s", last)
	}
}
