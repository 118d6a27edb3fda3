package subscriptions

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/internal/jsonout"
	"github.com/switchyard/switchyard/internal/textlimit"
)

// WriteDeadLetters prints list for an operator (switchyard dlq list): a
// table with one dead letter a line, or, asJSON, an indented JSON array of
// summaries without headers and payloads (WriteDeadLetter has the rest).
func WriteDeadLetters(w io.Writer, list []DeadLetter, asJSON bool) error {
	if asJSON {
		summaries := append([]DeadLetter(nil), list...)
		for i := range summaries {
			summaries[i].Header, summaries[i].Payload = nil, nil
		}
		return jsonout.Write(w, summaries)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tFAILED AT\tKIND\tORIGINAL SEQ\tSUBJECT\tDELIVERIES\tREASON")
	for _, dl := range list {
		failed := "-"
		if !dl.FailedAt.IsZero() {
			failed = dl.FailedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%d\t%s\n", dl.Seq, failed, dl.Kind, dl.OriginalSeq, dl.OriginalSubject, dl.Deliveries, textlimit.OneLine(dl.Reason))
	}
	return tw.Flush()
}

// WriteDeadLetter prints dl for an operator (switchyard dlq show): every
// header, then the payload; or, asJSON, dl as indented JSON.
func WriteDeadLetter(w io.Writer, dl DeadLetter, asJSON bool) error {
	if asJSON {
		return jsonout.Write(w, dl)
	}
	fmt.Fprintf(w, "dead letter %d of %s on %s\n\n", dl.Seq, dl.Consumer, dl.Stream)
	names := make([]string, 0, len(dl.Header))
	for k := range dl.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range dl.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintf(w, "\n%s\n", dl.Payload)
	return nil
}
