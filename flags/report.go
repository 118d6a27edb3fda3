package flags

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// The text forms below are what the flags command prints; the console shows
// the same values in HTML. Each writes a whole table or block and returns
// the first write error.

// Overview is the bucket-wide view: the configuration and how many known
// clients are in each stage.
type Overview struct {
	Config Config `json:"config"`
	// KnownClientsByStage counts the clients with an override or served
	// by a read router, by effective stage.
	KnownClientsByStage map[string]int `json:"known_clients_by_stage"`
	Revision            uint64         `json:"revision"`
}

// Overview returns the configuration, its revision and the stage counts.
func (s *Store) Overview(ctx context.Context) (Overview, error) {
	cfg, rev, err := s.Config(ctx)
	if err != nil {
		return Overview{}, err
	}
	counts, err := s.CountByStage(ctx)
	if err != nil {
		return Overview{}, err
	}
	return Overview{Config: cfg, Revision: rev, KnownClientsByStage: counts}, nil
}

// WriteText writes the overview as labelled lines, one per stage.
func (o Overview) WriteText(w io.Writer) error {
	cfg := o.Config
	fmt.Fprintf(w, "default stage:  %s\nrollout:        %s\nrevision:       %d\n", cfg.Default, RolloutText(cfg.Rollout), o.Revision)
	if cfg.Actor != "" {
		fmt.Fprintf(w, "last change:    %s by %s: %s\n", cfg.UpdatedAt.Format(time.RFC3339), cfg.Actor, cfg.Reason)
	}
	_, err := fmt.Fprintln(w, "known clients by stage:")
	for _, st := range Stages() {
		fmt.Fprintf(w, "  %-14s %d\n", st, o.KnownClientsByStage[string(st)])
	}
	return err
}

// RolloutText describes a rollout in words; "none" when there is none.
func RolloutText(r *Rollout) string {
	if r == nil || r.BasisPoints == 0 {
		return "none"
	}
	return fmt.Sprintf("%g%% of clients without override to %s", r.Percentage(), r.Stage)
}

// ClientReport is one client with its promotion gates and shadow counters.
type ClientReport struct {
	ClientView
	Gates GateStatus   `json:"gates"`
	Stats ShadowCounts `json:"shadow"`
}

// WriteText writes the report as labelled lines and one line per gate
// condition.
func (o ClientReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "client:    %s\nstage:     %s (%s)\nrevision:  %d\n", o.Client, o.Stage, o.Source, o.Revision)
	if ov := o.Override; ov != nil {
		forced := ""
		if ov.Forced {
			forced = " (forced past: " + strings.Join(ov.FailedGates, ", ") + ")"
		}
		fmt.Fprintf(w, "override:  set %s by %s: %s%s\n", ov.UpdatedAt.Format(time.RFC3339), ov.Actor, ov.Reason, forced)
	}
	fmt.Fprintf(w, "shadow:    %d compared, %d mismatched, %d errors, %d dropped, %d settled in flight, %d unsettled; target reads %d (%d failed)\n",
		o.Stats.Compared(), o.Stats.Mismatches, o.Stats.Errors, o.Stats.Dropped, o.Stats.Settled, o.Stats.Unsettled, o.Stats.TargetReads, o.Stats.TargetErrors)
	_, err := fmt.Fprintln(w, "gates:")
	for _, c := range o.Gates.Conditions {
		mark := "FAIL"
		if c.OK {
			mark = "ok"
		}
		fmt.Fprintf(w, "  %-4s %-18s %s\n", mark, c.Name, c.Detail)
	}
	return err
}

// ClientReports are several clients' reports.
type ClientReports []ClientReport

// ClientReports returns each client's report: its effective stage, its
// promotion gates and the shadow counters shadow sums over the routers.
func (s *Store) ClientReports(ctx context.Context, shadow ShadowSource, clients []string) (ClientReports, error) {
	out := make(ClientReports, 0, len(clients))
	for _, c := range clients {
		var r ClientReport
		var err error
		if r.ClientView, err = s.Client(ctx, c); err != nil {
			return nil, err
		}
		if r.Gates, err = s.GateStatus(ctx, c); err != nil {
			return nil, err
		}
		if r.Stats, err = shadow.ClientStats(ctx, c); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// WriteText writes each report, separated by a blank line.
func (rs ClientReports) WriteText(w io.Writer) error {
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := r.WriteText(w); err != nil {
			return err
		}
	}
	return nil
}

// WriteClientTable writes one row per client: stage, source, revision and
// when a router last served it.
func WriteClientTable(w io.Writer, views []ClientView) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tSTAGE\tSOURCE\tREVISION\tLAST SEEN")
	for _, v := range views {
		seen := "-"
		if !v.LastSeen.IsZero() {
			seen = v.LastSeen.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", v.Client, v.Stage, v.Source, v.Revision, seen)
	}
	return tw.Flush()
}

// WriteText writes the change on one line, what naming what changed
// ("client acme", "default", "rollout").
func (r ChangeResult) WriteText(w io.Writer, what string) error {
	forced := ""
	if r.Forced {
		forced = fmt.Sprintf(" (forced past %d failing gates)", len(r.FailedGates))
	}
	_, err := fmt.Fprintf(w, "%s: %s -> %s at revision %d, audit #%d%s\n", what, r.From, r.To, r.Revision, r.AuditSeq, forced)
	return err
}

// WriteConfigHistory writes one row per revision of the configuration.
func WriteConfigHistory(w io.Writer, revs []ConfigRevision) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tTIME\tDEFAULT\tROLLOUT\tACTOR\tREASON")
	for _, r := range revs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Revision, r.Time.Format(time.RFC3339), r.Config.Default, RolloutText(r.Config.Rollout), r.Config.Actor, r.Config.Reason)
	}
	return tw.Flush()
}

// WriteHistory writes one row per revision of a client's override.
func WriteHistory(w io.Writer, hist []HistoryEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tTIME\tSTAGE\tACTOR\tFORCED\tREASON")
	for _, h := range hist {
		if h.Cleared {
			fmt.Fprintf(tw, "%d\t%s\t(cleared)\t\t\t\n", h.Revision, h.Time.Format(time.RFC3339))
			continue
		}
		o := h.Override
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%s\n", h.Revision, h.Time.Format(time.RFC3339), o.Stage, o.Actor, o.Forced, o.Reason)
	}
	return tw.Flush()
}

// WriteAuditTable writes one row per audit entry, in the order given.
func WriteAuditTable(w io.Writer, entries []AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tSCOPE\tCLIENT\tFROM\tTO\tFORCED\tREASON")
	for _, e := range entries {
		forced := ""
		if e.Forced {
			forced = "yes: " + strings.Join(e.FailedGates, "; ")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.Actor, e.Scope, e.Client, e.From, e.To, forced, e.Reason)
	}
	return tw.Flush()
}

// BatchError says how many clients of a SetStages call were not changed.
// It matches ErrGateRefused when the promotion gates refused every one of
// them.
type BatchError struct {
	Failed, Refused, Total int
}

func (e *BatchError) Error() string {
	if e.Refused == e.Failed {
		return fmt.Sprintf("%d of %d clients not changed: promotion gates refused", e.Failed, e.Total)
	}
	return fmt.Sprintf("%d of %d clients not changed", e.Failed, e.Total)
}

// Is matches ErrGateRefused when only the gates refused.
func (e *BatchError) Is(target error) bool { return target == ErrGateRefused && e.Refused == e.Failed }

// SetStages sets the stage of each client in turn, as SetStage does with c
// for that client; a failure does not stop the others. done is called
// after each client with its result and error. The results are those of
// the applied changes, including applied ones the audit log missed
// (ErrAudit); the error is a *BatchError when any client was not changed.
func (s *Store) SetStages(ctx context.Context, clients []string, c Change, done func(client string, res ChangeResult, err error)) ([]ChangeResult, error) {
	var results []ChangeResult
	batch := BatchError{Total: len(clients)}
	for _, client := range clients {
		c.Client = client
		res, err := s.SetStage(ctx, c)
		done(client, res, err)
		if err == nil || errors.Is(err, ErrAudit) {
			results = append(results, res) // applied, audit missing: still report it
		}
		if err != nil {
			batch.Failed++
			if errors.Is(err, ErrGateRefused) {
				batch.Refused++
			}
		}
	}
	if batch.Failed > 0 {
		return results, &batch
	}
	return results, nil
}
