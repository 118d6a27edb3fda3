package cli

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

type textReport struct{ N int }

func (r textReport) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, "text\n")
	return err
}

func TestPrintReport(t *testing.T) {
	var out bytes.Buffer
	if err := PrintReport(&out, true, textReport{N: 1}, nil); err != nil || out.String() != "{\n  \"N\": 1\n}\n" {
		t.Fatalf("json: %v %q", err, out.String())
	}
	out.Reset()
	if err := PrintReport(&out, false, textReport{}, nil); err != nil || out.String() != "text\n" {
		t.Fatalf("text: %v %q", err, out.String())
	}
	out.Reset()
	boom := errors.New("boom")
	if err := PrintReport(&out, false, textReport{}, boom); err != boom || out.Len() != 0 {
		t.Fatalf("failed call: %v %q", err, out.String())
	}
}
