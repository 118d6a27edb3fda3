package main

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/version"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestJSONOutputKeysAreSnakeCase walks every type a command prints with
// --json: each key is snake_case, and each duration says its unit in its
// name (_seconds, a float) as docs/cli.md promises.
func TestJSONOutputKeysAreSnakeCase(t *testing.T) {
	first := func(fn any) reflect.Type { return reflect.TypeOf(fn).Out(0) }
	outputs := []reflect.Type{
		first(subscriptions.Inspect), first(subscriptions.List), reflect.TypeOf(ensureOutput{}),
		first(subscriptions.ListDeadLetters), first(subscriptions.GetDeadLetter), first(workers.Replay.Run),
		first(migrator.GatherStatus), first(migrator.DryRun), first(migrator.Backfill), first(migrator.Verify), first(migrator.RepairFindings),
		first((*flags.Store).Config), first((*flags.Store).ListClients), first((*flags.Store).History), first((*flags.Store).ConfigHistory),
		first((*flags.Store).SetStage), first((*flags.AuditLog).List), first((*flags.ShadowStats).ClientStats),
		reflect.TypeOf(flags.GateStatus{}), first(version.Get),
	}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ == reflect.TypeOf(time.Time{}) {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				walk(f.Type, path)
				continue
			}
			where := path + "." + f.Name
			if !snakeCase.MatchString(name) {
				t.Errorf("%s (%s): JSON key %q is not snake_case", where, typ, name)
			}
			if f.Type == reflect.TypeOf(time.Duration(0)) && !strings.HasSuffix(name, "_seconds") {
				t.Errorf("%s (%s): duration key %q must be in seconds and say so (_seconds)", where, typ, name)
			}
			walk(f.Type, where)
		}
	}
	for _, typ := range outputs {
		walk(typ, typ.String())
	}
}
