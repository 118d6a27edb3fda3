package migrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// The text forms below are what the backfill, verify and repair commands
// print; their JSON forms are the types themselves.

// WriteText writes what the dry run found, one line per entity.
func (r DryRunReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "dry run: nothing written\nwatermark %d: %s", r.Watermark, r.WatermarkState)
	if !r.WatermarkPassed {
		fmt.Fprint(w, " (a backfill would wait)")
	}
	_, err := fmt.Fprintln(w)
	for _, e := range r.Entities {
		fmt.Fprintf(w, "%-20s %d source rows (%d tombstones): would insert %d, skip %d already in the target\n",
			e.Entity, e.Rows, e.Tombstones, e.WouldInsert, e.WouldSkip)
	}
	return err
}

// WriteText writes the run, one line per entity and the next step.
func (r BackfillReport) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "backfill %s complete (watermark %d); this process copied %d rows in %s\n",
		r.Run.ID, r.Run.Watermark, r.RowsThisProcess, r.Elapsed.Round(time.Millisecond))
	for _, p := range r.Entities {
		fmt.Fprintf(w, "%-20s %d rows: %d inserted, %d already in the target, %d tombstones, %d rejected\n",
			p.Entity, p.Scanned, p.Inserted, p.Skipped, p.Tombstones, p.Rejected)
	}
	fmt.Fprintln(w, "next: switchyard verify --source ... --target ... --entities", strings.Join(r.Run.Entities, ","))
	return err
}

// String says whether copiers run and at what rate cap.
func (c BackfillControl) String() string {
	running := "running"
	if c.Paused {
		running = "paused"
	}
	rateCap := "no rate cap"
	if c.MaxRate > 0 {
		rateCap = fmt.Sprintf("max %d rows/s per process", c.MaxRate)
	}
	return "backfill " + running + ", " + rateCap
}

// WriteText writes the counts and the kinds of the differences.
func (r VerifyResult) WriteText(w io.Writer) error {
	scope := "every client"
	if r.Client != "" {
		scope = "client " + r.Client
	}
	_, err := fmt.Fprintf(w, "verify of %v (%s): %d source rows, %d target rows, %d chunks (%d differed), %s\n",
		r.Entities, scope, r.RowsSource, r.RowsTarget, r.Chunks, r.ChunksDiffering, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	if r.Settled > 0 {
		fmt.Fprintf(w, "%d keys differed while events were in flight and agreed once the subscriptions caught up\n", r.Settled)
	}
	if r.Clean {
		fmt.Fprintln(w, "CLEAN: no differences")
		return err
	}
	fmt.Fprintf(w, "%d DIFFERENCES:", r.Differences)
	for _, k := range FindingKinds {
		if n := r.ByKind[string(k)]; n > 0 {
			fmt.Fprintf(w, " %s %d", k, n)
		}
	}
	fmt.Fprintln(w)
	return err
}

// WriteText writes the counts per outcome of a repair of findings
// findings, then each key that still differs.
func (r RepairReport) WriteText(w io.Writer, findings int) error {
	_, err := fmt.Fprintf(w, "%d findings, %d keys:", findings, len(r.Keys))
	for _, o := range []RepairOutcome{OutcomeRepaired, OutcomeInSync, OutcomeTargetAhead, OutcomeConflict, OutcomeExtraKept} {
		if c := r.Counts[o]; c > 0 {
			fmt.Fprintf(w, " %s %d", o, c)
		}
	}
	fmt.Fprintln(w)
	for _, f := range r.Remaining {
		fmt.Fprintf(w, "still differs: %s/%s (%s)\n", f.Entity, f.Key, f.Kind)
	}
	return err
}

// ErrFindingsFile matches every *FindingsFileError.
var ErrFindingsFile = errors.New("findings file")

// FindingsFileError is a findings file that cannot be opened (for writing
// by OpenFindingsFile, for reading by ReadFindingsFile).
type FindingsFileError struct{ Err error }

func (e *FindingsFileError) Error() string        { return e.Err.Error() }
func (e *FindingsFileError) Is(target error) bool { return target == ErrFindingsFile }
func (e *FindingsFileError) Unwrap() error        { return e.Err }

// OpenFindingsFile opens the findings file of a verify of entities (and
// client): appended to when the verify resumes from a checkpoint (unless
// restart), truncated otherwise. An error opening the file is a
// *FindingsFileError.
func OpenFindingsFile(ctx context.Context, state *State, path string, entities []string, client string, restart bool) (*os.File, error) {
	resuming := false
	if !restart {
		var err error
		if resuming, err = state.HasVerifyCheckpoint(ctx, VerifyScope(entities, client)); err != nil {
			return nil, err
		}
	}
	mode := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resuming {
		mode = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, mode, 0o644)
	if err != nil {
		return nil, &FindingsFileError{Err: err}
	}
	return f, nil
}
