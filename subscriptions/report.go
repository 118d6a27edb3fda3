package subscriptions

import (
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"
)

// The text forms below are what the subs command prints and the workers
// log.

// EnsureReport is what ensuring a stream, its dead-letter stream and a
// consumer did, with the consumer's status afterwards.
type EnsureReport struct {
	Stream      StreamReport `json:"stream"`
	DeadLetters StreamReport `json:"dead_letter_stream"`
	Consumer    Status       `json:"consumer"`
}

// WriteText writes both stream reports, a line saying the consumer was
// ensured and its status table.
func (r EnsureReport) WriteText(w io.Writer) error {
	r.Stream.WriteText(w)
	r.DeadLetters.WriteText(w)
	fmt.Fprintf(w, "consumer %s on %s ensured (start_seq %d)\n", r.Consumer.Consumer, r.Stream.Stream, r.Consumer.StartSeq)
	return WriteStatusTable(w, []Status{r.Consumer})
}

// WriteText says whether the stream was created, and where an existing one
// differs from the declaration (left alone) or was updated.
func (r StreamReport) WriteText(w io.Writer) {
	switch {
	case r.Created:
		fmt.Fprintf(w, "stream %s created\n", r.Stream)
	case len(r.Differences) == 0 && len(r.Updated) == 0:
		fmt.Fprintf(w, "stream %s exists and matches the declaration\n", r.Stream)
	default:
		fmt.Fprintf(w, "stream %s exists and is usable\n", r.Stream)
	}
	for _, d := range r.Differences {
		if d.Updatable {
			fmt.Fprintf(w, "  %s: %s (declared %s; left as it is, --update-stream=%s changes it)\n", d.Field, d.Existing, d.Declared, d.Field)
		} else {
			fmt.Fprintf(w, "  %s: %s (declared %s; left as it is)\n", d.Field, d.Existing, d.Declared)
		}
	}
	for _, d := range r.Updated {
		fmt.Fprintf(w, "  %s: %s -> %s (updated)\n", d.Field, d.Existing, d.Declared)
	}
}

// Log logs what WriteText writes, for long-running processes.
func (r StreamReport) Log(log *slog.Logger) {
	if r.Created {
		log.Info("stream created", "stream", r.Stream)
	}
	for _, d := range r.Differences {
		log.Warn("stream differs from the declaration; left as it is", "stream", r.Stream, "field", d.Field, "existing", d.Existing, "declared", d.Declared)
	}
	for _, d := range r.Updated {
		log.Info("stream updated", "stream", r.Stream, "field", d.Field, "from", d.Existing, "to", d.Declared)
	}
}

// WriteStatusTable writes one row per consumer: position, lag, dead
// letters and when it was last active.
func WriteStatusTable(w io.Writer, all []Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tROLE\tSTART\tDELIVERED\tACK FLOOR\tPENDING\tACK PENDING\tREDELIVERED\tLAG\tWAITING\tDEAD LETTERS\tLAST ACTIVE")
	for _, st := range all {
		last := "-"
		if st.LastActive != nil && !st.LastActive.IsZero() {
			last = st.LastActive.UTC().Format(time.RFC3339)
		}
		role := st.Role
		if role == "" {
			role = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", st.Consumer, role, st.StartSeq, st.Delivered,
			st.AckFloor, st.Pending, st.AckPending, st.Redelivered, st.Lag, st.Waiting, st.DeadLetters, last)
	}
	return tw.Flush()
}
