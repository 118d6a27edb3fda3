package events_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/events"
)

// A dry run (no Publisher) counts valid and invalid lines, skips blank
// ones, and reports a line over the limit without holding it.
func TestLoadDryRun(t *testing.T) {
	good := `{"id":"e1","type":"task.created","entity":"tasks","key":"k1","client":"acme","op":"upsert","occurred_at":"2026-01-02T03:04:05Z","data":{"n":1}}`
	in := good + "\n\n   \nnot json\r\n" + strings.Repeat("x", 5000) + "\n" + strings.Replace(good, "e1", "e2", 1)
	var invalid []int
	res, err := events.Load(context.Background(), strings.NewReader(in), events.LoadConfig{
		MaxEventBytes: 4096, Invalid: func(n int, err error) { invalid = append(invalid, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lines != 4 || res.Invalid != 2 || res.Published != 2 {
		t.Errorf("result %+v, want 4 lines, 2 invalid, 2 valid", res)
	}
	if len(invalid) != 2 || invalid[0] != 4 || invalid[1] != 5 {
		t.Errorf("invalid lines %v, want [4 5]", invalid)
	}
}
