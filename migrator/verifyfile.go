package migrator

import (
	"context"
	"fmt"
	"os"
)

// VerifyToFile runs Verify writing its findings to cfg.FindingsFile, opened
// as OpenFindingsFile does (an error opening it is a *FindingsFileError),
// and makes them durable before it returns the result.
func VerifyToFile(ctx context.Context, cfg VerifyConfig) (VerifyResult, error) {
	f, err := OpenFindingsFile(ctx, cfg.State, cfg.FindingsFile, cfg.Entities, cfg.Client, cfg.Restart)
	if err != nil {
		return VerifyResult{}, err
	}
	defer f.Close()
	cfg.Findings = f
	res, err := Verify(ctx, cfg)
	if err != nil {
		return res, err
	}
	if err := f.Sync(); err != nil {
		return res, fmt.Errorf("findings file %s: %w", cfg.FindingsFile, err)
	}
	return res, nil
}

// ReadFindingsFile reads the findings file at path as ReadFindings does; a
// file that cannot be opened is a *FindingsFileError.
func ReadFindingsFile(path string) (map[string][]string, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, &FindingsFileError{Err: err}
	}
	defer f.Close()
	return ReadFindings(f)
}
