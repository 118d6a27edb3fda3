package migrator

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// StatusConfig says where to gather a migration status from.
type StatusConfig struct {
	JS    jetstream.JetStream
	State *State
	// Stream is the event stream whose subscriptions are listed.
	Stream string
	// ReadStages, when set, counts clients per read stage (flags in use).
	ReadStages ReadStages
	// Source and Target are shown with passwords redacted (optional).
	Source, Target string
}

// BackfillStatus is the backfill part of a status.
type BackfillStatus struct {
	Run      BackfillRun      `json:"run"`
	Entities []EntityProgress `json:"entities"`
	Control  BackfillControl  `json:"control"`
	Complete bool             `json:"complete"`
	Summary  string           `json:"summary"`
}

// VerifyStatus is the last whole verify and its age.
type VerifyStatus struct {
	Result     VerifyResult `json:"result"`
	AgeSeconds int64        `json:"age_seconds"`
}

// MigrationStatus is everything an operator needs on one screen.
type MigrationStatus struct {
	GatheredAt time.Time   `json:"gathered_at"`
	Bucket     string      `json:"bucket"`
	Phase      PhaseRecord `json:"phase"`
	Source     string      `json:"source,omitempty"`
	Target     string      `json:"target,omitempty"`
	Stream     string      `json:"stream"`
	// Subscriptions lists every consumer of the stream with its lag,
	// redeliveries and dead-letter depth.
	Subscriptions []subscriptions.Status `json:"subscriptions"`
	// Problems lists what could not be gathered; the rest is still shown.
	Problems []string        `json:"problems,omitempty"`
	Backfill *BackfillStatus `json:"backfill,omitempty"`
	Verify   *VerifyStatus   `json:"verify,omitempty"`
	// ReadStages counts clients per read stage; nil when flags are not in
	// use.
	ReadStages map[string]int `json:"read_stages,omitempty"`
	Cleanup    *CleanupRecord `json:"cleanup,omitempty"`
}

// GatherStatus reads the migration status. A part that cannot be read (a
// missing stream, an unreachable flags bucket) is listed in Problems and
// the rest is still returned; only an unreadable state bucket is an error.
func GatherStatus(ctx context.Context, cfg StatusConfig) (MigrationStatus, error) {
	st := MigrationStatus{GatheredAt: time.Now().UTC(), Bucket: cfg.State.Bucket(), Stream: cfg.Stream,
		Source: redactOptional(cfg.Source), Target: redactOptional(cfg.Target)}
	var err error
	if st.Phase, err = cfg.State.Phase(ctx); err != nil {
		return st, err
	}
	if cfg.Stream != "" {
		subs, err := subscriptions.List(ctx, cfg.JS, cfg.Stream)
		if err != nil {
			st.Problems = append(st.Problems, "subscriptions: "+err.Error())
		}
		st.Subscriptions = subs
	}
	run, progress, found, err := cfg.State.BackfillProgress(ctx)
	if err != nil {
		return st, err
	}
	if found {
		bs := &BackfillStatus{Run: run, Entities: progress}
		if bs.Control, err = cfg.State.BackfillControl(ctx); err != nil {
			return st, err
		}
		if bs.Complete, bs.Summary, err = cfg.State.BackfillComplete(ctx); err != nil {
			return st, err
		}
		st.Backfill = bs
		if st.Source == "" {
			st.Source = run.Source
		}
		if st.Target == "" {
			st.Target = run.Target
		}
	}
	if res, ok, err := cfg.State.LastVerify(ctx, ""); err != nil {
		return st, err
	} else if ok {
		st.Verify = &VerifyStatus{Result: res, AgeSeconds: int64(res.Age(st.GatheredAt) / time.Second)}
	}
	if cfg.ReadStages != nil {
		counts, err := cfg.ReadStages.CountByStage(ctx)
		if err != nil {
			st.Problems = append(st.Problems, "read stages: "+err.Error())
		} else {
			st.ReadStages = counts
		}
	}
	if rec, ok, err := cfg.State.Cleanup(ctx); err != nil {
		return st, err
	} else if ok {
		st.Cleanup = &rec
	}
	return st, nil
}

func redactOptional(dsn string) string {
	if dsn == "" {
		return ""
	}
	return stores.Redact(dsn)
}

// WriteText renders the status as one screen of text.
func (s MigrationStatus) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	since := ""
	if !s.Phase.Since.IsZero() {
		since = fmt.Sprintf(" (since %s, %s ago)", s.Phase.Since.Format(time.RFC3339), ago(s.GatheredAt, s.Phase.Since))
	}
	ew.printf("Migration phase: %s%s\n", s.Phase.Phase, since)
	ew.printf("  %s\n", phaseLine(s.Phase.Phase))
	if s.Source != "" || s.Target != "" {
		ew.printf("Source: %s\nTarget: %s\n", orDash(s.Source), orDash(s.Target))
	}

	ew.printf("\nSubscriptions on %s:\n", orDash(s.Stream))
	if len(s.Subscriptions) == 0 {
		ew.printf("  (none)\n")
	} else {
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  CONSUMER\tROLE\tSTART\tACK FLOOR\tLAG\tREDELIVERED\tDEAD LETTERS\tWORKERS")
		for _, c := range s.Subscriptions {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", c.Consumer, orDash(c.Role), c.StartSeq, c.AckFloor, c.Lag, c.Redelivered, c.DeadLetters, c.Waiting)
		}
		_ = tw.Flush()
	}

	ew.printf("\nBackfill:\n")
	if s.Backfill == nil {
		ew.printf("  not started\n")
	} else {
		b := s.Backfill
		state := "running"
		switch {
		case b.Complete && b.Control.Paused:
			state = "complete, paused" // a later run would start paused
		case b.Complete:
			state = "complete"
		case b.Control.Paused:
			state = "PAUSED"
		}
		rate := "no rate cap"
		if b.Control.MaxRate > 0 {
			rate = fmt.Sprintf("max %d rows/s per process", b.Control.MaxRate)
		}
		ew.printf("  run %s, %s, watermark %d, %s\n", b.Run.ID, state, b.Run.Watermark, rate)
		if !b.Complete {
			if rate, eta := averageRate(b.Entities); rate > 0 {
				ew.printf("  %.0f rows/s on average since the start, about %s left\n", rate, eta)
			}
		}
		if b.Run.WatermarkSkipped {
			ew.printf("  WARNING: started without waiting for the watermark\n")
		}
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ENTITY\tPROGRESS\tROWS\tINSERTED\tSKIPPED\tTOMBSTONES\tCHUNKS\tLAST KEY")
		for _, p := range b.Entities {
			prog := fmt.Sprintf("%5.1f%%", p.Fraction()*100)
			if p.Done {
				prog = "done"
			}
			planned := fmt.Sprint(p.Planned)
			if !p.PlanDone {
				planned += "+"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d/%d\t%d\t%d\t%d\t%d/%s\t%s\n", p.Entity, prog, p.Scanned, max(p.Estimate, p.Scanned),
				p.Inserted, p.Skipped, p.Tombstones, p.ChunksDone, planned, orDash(p.LastKey))
		}
		_ = tw.Flush()
	}

	ew.printf("\nLast verify:\n")
	if s.Verify == nil {
		ew.printf("  never\n")
	} else {
		r := s.Verify.Result
		verdict := "CLEAN"
		if !r.Clean {
			verdict = fmt.Sprintf("%d DIFFERENCES %s", r.Differences, kindsLine(r.ByKind))
		}
		ew.printf("  %s, %s ago (finished %s), %s: %d source rows, %d target rows compared\n", verdict,
			(time.Duration(s.Verify.AgeSeconds) * time.Second).String(), r.FinishedAt.Format(time.RFC3339),
			strings.Join(r.Entities, ","), r.RowsSource, r.RowsTarget)
		if r.FindingsFile != "" && !r.Clean {
			ew.printf("  findings: %s\n", r.FindingsFile)
		}
	}

	ew.printf("\nRead stages:\n")
	if s.ReadStages == nil {
		ew.printf("  flags not in use\n")
	} else {
		for _, stage := range gate.Stages() {
			ew.printf("  %-14s %d clients\n", stage, s.ReadStages[string(stage)])
		}
		for _, k := range sortedKeys(s.ReadStages) {
			if !gate.Stage(k).Valid() {
				ew.printf("  %-14s %d clients\n", k, s.ReadStages[k])
			}
		}
	}
	if s.Cleanup != nil {
		c := s.Cleanup
		forced := ""
		if c.Forced {
			forced = fmt.Sprintf(" (FORCED: %s)", c.Reason)
		}
		ew.printf("\nCleanup: removed %s on %s at %s%s\n", c.Consumer, c.Stream, c.At.Format(time.RFC3339), forced)
	}
	for _, p := range s.Problems {
		ew.printf("\nproblem: %s\n", p)
	}
	return ew.err
}

// averageRate is the rows per second of a backfill since its entities
// started, and the time the rest of the estimate takes at that rate.
func averageRate(entities []EntityProgress) (float64, time.Duration) {
	var scanned, total int64
	var first, last time.Time
	for _, p := range entities {
		scanned += p.Scanned
		total += max(p.Estimate, p.Scanned)
		if !p.StartedAt.IsZero() && (first.IsZero() || p.StartedAt.Before(first)) {
			first = p.StartedAt
		}
		if p.UpdatedAt.After(last) {
			last = p.UpdatedAt
		}
	}
	secs := last.Sub(first).Seconds()
	if scanned == 0 || secs <= 0 {
		return 0, 0
	}
	rate := float64(scanned) / secs
	return rate, time.Duration(float64(total-scanned) / rate * float64(time.Second)).Round(time.Second)
}

func phaseLine(p Phase) string {
	parts := make([]string, len(Phases))
	for i, q := range Phases {
		parts[i] = string(q)
		if q == p {
			parts[i] = "[" + string(q) + "]"
		}
	}
	return strings.Join(parts, " → ")
}

func kindsLine(byKind map[string]int64) string {
	var parts []string
	for _, k := range FindingKinds {
		if n := byKind[string(k)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func ago(now, t time.Time) string { return now.Sub(t).Round(time.Second).String() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { _, _ = fmt.Fprintf(e, format, args...) }
