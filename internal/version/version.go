// Package version holds the build's version information, set at link time
// with -ldflags "-X github.com/switchyard/switchyard/internal/version.Version=…"
// (see deploy/Dockerfile). Builds without it report the module version Go
// recorded, or "dev".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the linker.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is the version of a build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
}

// Get returns the version of the running binary.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Commit == "":
				info.Commit = s.Value
			case s.Key == "vcs.time" && info.Date == "":
				info.Date = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}

// String is the one-line form printed by `switchyard version`.
func (i Info) String() string {
	return fmt.Sprintf("switchyard %s (commit %s, built %s, %s)", i.Version, i.Commit, i.Date, i.GoVersion)
}
