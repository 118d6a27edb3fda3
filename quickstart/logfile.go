package quickstart

import (
	"fmt"
	"os"
	"path/filepath"
)

// LogFile is the file in dir the quickstart's log goes to, next to what
// it keeps, so the live display stays readable.
const LogFile = "dev.log"

// OpenLog creates dir when missing and opens its LogFile for appending.
func OpenLog(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--dir %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LogFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}
