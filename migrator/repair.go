package migrator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// RepairOutcome says what repair did with one key.
type RepairOutcome string

// The outcomes of a key repair.
const (
	// OutcomeRepaired: the source's state was written to the target.
	OutcomeRepaired RepairOutcome = "repaired"
	// OutcomeInSync: the stores already agree; nothing written.
	OutcomeInSync RepairOutcome = "in-sync"
	// OutcomeTargetAhead: the target holds a higher version than the source.
	// The legacy subscription has not applied a newer event (or lost it);
	// the target is left alone, and the legacy subscription's lag and
	// dead letters are where to look.
	OutcomeTargetAhead RepairOutcome = "target-ahead"
	// OutcomeConflict: both hold the same version with different content.
	// The version fence cannot order them; RepairPolicy.OverwriteConflicts
	// writes the source's state one version above the target's.
	OutcomeConflict RepairOutcome = "conflict"
	// OutcomeExtraKept: the target has a live row the source never had.
	// RepairPolicy.DeleteExtra tombstones it one version above the target's.
	OutcomeExtraKept RepairOutcome = "extra-kept"
)

// RepairPolicy chooses what repair may do beyond copying the source's newer
// state. Both options write a version the event stream never produced,
// one above the target's: an event for that key carrying exactly that
// version would then be dropped by the fence. They are off by default.
type RepairPolicy struct {
	// DeleteExtra tombstones rows that exist only in the target.
	DeleteExtra bool
	// OverwriteConflicts writes the source's state over a target row with
	// the same version and different content.
	OverwriteConflicts bool
	// BatchRows bounds the writes of one Apply (default 500).
	BatchRows int
	// Log receives the keys repair leaves alone (nil: discarded).
	Log *slog.Logger
}

// KeyRepair is what repair did with one key.
type KeyRepair struct {
	Entity  string        `json:"entity"`
	Key     string        `json:"key"`
	Outcome RepairOutcome `json:"outcome"`
	// Version is the version written, for OutcomeRepaired.
	Version int64 `json:"version,omitempty"`
}

// RepairReport is the outcome of a repair: per key, the counts per
// outcome, and the keys that still differ when checked again afterwards.
type RepairReport struct {
	Keys      []KeyRepair           `json:"keys"`
	Counts    map[RepairOutcome]int `json:"counts"`
	Remaining []Finding             `json:"remaining"`
}

func (r *RepairReport) add(other RepairReport) {
	r.Keys = append(r.Keys, other.Keys...)
	if r.Counts == nil {
		r.Counts = map[RepairOutcome]int{}
	}
	for k, n := range other.Counts {
		r.Counts[k] += n
	}
	r.Remaining = append(r.Remaining, other.Remaining...)
}

// RepairKeys re-copies keys of one entity from the source (the legacy
// store, the truth during a migration) to the target with the default
// policy, then compares them again. It is what a shadow read calls after a
// mismatch. Per key:
//
//   - the source holds a higher version, or the target has nothing: the
//     source's row or tombstone is written at its version (version-fenced,
//     so a newer live event that lands first still wins);
//   - the stores agree (a tombstone and no row agree): nothing;
//   - the target holds a higher version: left alone (OutcomeTargetAhead);
//   - same version, different content: left alone (OutcomeConflict);
//   - a live row only in the target: left alone (OutcomeExtraKept).
//
// Each key costs one Get per store (repairs are targeted); the writes go
// out in batches. Store errors are returned as they are.
func RepairKeys(ctx context.Context, source stores.Reader, target Target, entity string, keys []string) (RepairReport, error) {
	return Repair(ctx, source, target, entity, keys, RepairPolicy{})
}

// Repair is RepairKeys with a policy.
func Repair(ctx context.Context, source stores.Reader, target Target, entity string, keys []string, policy RepairPolicy) (RepairReport, error) {
	if policy.BatchRows <= 0 {
		policy.BatchRows = 500
	}
	log := policy.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	rep := RepairReport{Counts: map[RepairOutcome]int{}}
	for start := 0; start < len(keys); start += policy.BatchRows {
		batch := keys[start:min(start+policy.BatchRows, len(keys))]
		var writes []stores.Write
		var planned []KeyRepair
		for _, key := range batch {
			src, err := getOptional(ctx, source, entity, key)
			if err != nil {
				return rep, fmt.Errorf("repair %s/%s: read source: %w", entity, key, err)
			}
			tgt, err := getOptional(ctx, target, entity, key)
			if err != nil {
				return rep, fmt.Errorf("repair %s/%s: read target: %w", entity, key, err)
			}
			kr, w, err := decideRepair(entity, key, src, tgt, policy)
			if err != nil {
				return rep, err
			}
			if w != nil {
				writes = append(writes, *w)
			} else if kr.Outcome != OutcomeInSync {
				log.Warn("repair leaves a key alone", "entity", entity, "key", key, "outcome", kr.Outcome)
			}
			planned = append(planned, kr)
		}
		if len(writes) > 0 {
			if _, err := target.Apply(ctx, writes); err != nil {
				return rep, fmt.Errorf("repair %s: write %d keys: %w", entity, len(writes), err)
			}
		}
		for _, kr := range planned {
			rep.Keys = append(rep.Keys, kr)
			rep.Counts[kr.Outcome]++
		}
		// Check the batch again.
		for _, key := range batch {
			src, err := getOptional(ctx, source, entity, key)
			if err != nil {
				return rep, fmt.Errorf("re-check %s/%s: %w", entity, key, err)
			}
			tgt, err := getOptional(ctx, target, entity, key)
			if err != nil {
				return rep, fmt.Errorf("re-check %s/%s: %w", entity, key, err)
			}
			f, ok, err := compareRecords(entity, src, tgt)
			if err != nil {
				return rep, err
			}
			if !ok {
				rep.Remaining = append(rep.Remaining, f)
			}
		}
	}
	return rep, nil
}

// decideRepair picks what to do with one key; w is nil when nothing is
// written.
func decideRepair(entity, key string, src, tgt *stores.Record, policy RepairPolicy) (KeyRepair, *stores.Write, error) {
	kr := KeyRepair{Entity: entity, Key: key}
	_, agree, err := compareRecords(entity, src, tgt)
	if err != nil {
		return kr, nil, fmt.Errorf("repair %s/%s: %w", entity, key, err)
	}
	copyAt := func(r *stores.Record, version int64) *stores.Write {
		w := stores.Write{Entity: entity, Key: key, Client: r.Client, Version: version, Deleted: r.Deleted}
		if !r.Deleted {
			w.Data = r.Data
		}
		kr.Outcome, kr.Version = OutcomeRepaired, version
		return &w
	}
	switch {
	case agree:
		kr.Outcome = OutcomeInSync
		return kr, nil, nil
	case src == nil:
		// Only the target has a live row.
		if !policy.DeleteExtra {
			kr.Outcome = OutcomeExtraKept
			return kr, nil, nil
		}
		tomb := stores.Record{Key: key, Client: tgt.Client, Deleted: true}
		return kr, copyAt(&tomb, tgt.Version+1), nil
	case tgt == nil || src.Version > tgt.Version:
		return kr, copyAt(src, src.Version), nil
	case src.Version < tgt.Version:
		kr.Outcome = OutcomeTargetAhead
		return kr, nil, nil
	default:
		if !policy.OverwriteConflicts {
			kr.Outcome = OutcomeConflict
			return kr, nil, nil
		}
		return kr, copyAt(src, tgt.Version+1), nil
	}
}

func getOptional(ctx context.Context, r stores.Reader, entity, key string) (*stores.Record, error) {
	rec, err := r.Get(ctx, entity, key)
	if errors.Is(err, stores.ErrNotFound) || errors.Is(err, stores.ErrNoEntity) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// ReadFindings reads a findings file (JSON lines, as verify writes it) and
// groups the keys by entity. A malformed line is an error matching
// ErrBadFindings that names the line.
func ReadFindings(r io.Reader) (map[string][]string, int, error) {
	out := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var f Finding
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, n, fmt.Errorf("line %d: %w: %v", line, ErrBadFindings, err)
		}
		if !events.ValidEntity(f.Entity) || f.Key == "" {
			return nil, n, fmt.Errorf("line %d: %w: a valid entity and a key are required", line, ErrBadFindings)
		}
		out[f.Entity] = append(out[f.Entity], f.Key)
		n++
	}
	if err := sc.Err(); err != nil {
		return nil, n, fmt.Errorf("read findings: %w", err)
	}
	return out, n, nil
}

// RepairFindings repairs every key of a findings file, entity by entity in
// name order.
func RepairFindings(ctx context.Context, source stores.Reader, target Target, byEntity map[string][]string, policy RepairPolicy) (RepairReport, error) {
	entities := make([]string, 0, len(byEntity))
	for e := range byEntity {
		entities = append(entities, e)
	}
	sort.Strings(entities)
	total := RepairReport{Counts: map[RepairOutcome]int{}}
	for _, e := range entities {
		rep, err := Repair(ctx, source, target, e, byEntity[e], policy)
		total.add(rep)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
