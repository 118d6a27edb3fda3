package migrator

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The cleanup record stores and prints each condition's finding as
// "state", as records written before the condition type was shared do.
func TestCleanupRecordConditionsKeepTheirStateField(t *testing.T) {
	rec := CleanupRecord{Stream: "EVENTS", Consumer: "legacy", At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Forced: true, Reason: "r",
		Conditions: []Condition{{Name: "backfill complete", OK: true, Detail: "3 of 3 entities"}, {Name: "last verify recent", Detail: "48h old"}}}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := `"conditions":[{"name":"backfill complete","ok":true,"state":"3 of 3 entities"},{"name":"last verify recent","ok":false,"state":"48h old"}]`
	if !strings.Contains(string(data), want) || strings.Contains(string(data), "detail") {
		t.Fatalf("record JSON %s, want conditions %s", data, want)
	}
	var back CleanupRecord
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rec) {
		t.Fatalf("round trip: %+v, want %+v", back, rec)
	}
	var buf bytes.Buffer
	if WriteReadiness(&buf, rec.Conditions) || !strings.Contains(buf.String(), "[FAIL] last verify recent") {
		t.Fatalf("readiness printed as %q", buf.String())
	}
}
