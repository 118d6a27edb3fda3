package stores

import (
	"slices"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/events"
)

// Validate checks the rules every store shares and returns a *RejectError for
// the first write that breaks them. Adapters add their own limits after it.
func Validate(writes []Write) error {
	for i, w := range writes {
		if err := validateWrite(w); err != "" {
			return Reject(i, w, "%s", err)
		}
	}
	return nil
}

func validateWrite(w Write) string {
	switch {
	case !events.ValidEntity(w.Entity):
		return "entity name does not match ^[a-z][a-z0-9_]{0,62}$"
	case w.Key == "":
		return "key is required"
	case events.IdentifierProblem(w.Key, events.MaxKeyBytes) != "":
		return "key " + events.IdentifierProblem(w.Key, events.MaxKeyBytes)
	case events.IdentifierProblem(w.Client, events.MaxClientBytes) != "":
		return "client " + events.IdentifierProblem(w.Client, events.MaxClientBytes)
	case events.IdentifierProblem(w.EventID, events.MaxIDBytes) != "":
		return "event id " + events.IdentifierProblem(w.EventID, events.MaxIDBytes)
	case w.Version < 0:
		return "version must not be negative"
	case !w.Deleted && !events.ValidObject(w.Data):
		return "data must be a JSON object"
	case !w.Deleted:
		return dataProblem(w.Data)
	}
	return ""
}

// Plan is an Apply call reduced to what the store must send: at most one
// write per key, grouped by entity and sorted by key so that concurrent
// writers take row locks in the same order (no deadlock between two
// workers of one consumer).
type Plan struct {
	// Entities lists the entities in name order.
	Entities []string
	// Writes holds, per entity, the surviving writes sorted by key.
	Writes map[string][]Write
	// EventIDs are the ledger ids of the surviving writes; the adapter checks
	// and records them in the apply transaction and drops any already there.
	EventIDs []string
	// SupersededEventIDs are the ledger ids of writes that lost to a higher
	// version of the same key within the call. The adapter records them in
	// the same transaction without counting them (they are already counted
	// as Skipped): a producer's late retry of such an event, stored with a
	// new and higher stream sequence, must be dropped as a duplicate rather
	// than overwrite the newer state.
	SupersededEventIDs []string
	// Result counts what planning already decided: writes that lost to a
	// higher version of the same key in the call, and repeated event ids.
	Result ApplyResult
}

// NewPlan collapses writes: within one call, a repeated EventID keeps its
// lowest version (the original; the rest are duplicates), the highest
// version of a key wins, and an IfAbsent write yields to any ordinary write
// of the same key (the live stream wins over the backfill).
func NewPlan(writes []Write) *Plan {
	p := &Plan{Writes: make(map[string][]Write)}
	byID := make(map[string]int, len(writes))
	keep := make([]bool, len(writes))
	for i, w := range writes {
		keep[i] = true
		if w.EventID == "" {
			continue
		}
		if j, seen := byID[w.EventID]; seen {
			p.Result.Duplicates++
			if w.Version < writes[j].Version {
				keep[j], byID[w.EventID] = false, i
			} else {
				keep[i] = false
			}
			continue
		}
		byID[w.EventID] = i
	}
	// One sort of the surviving indexes by entity, key and position groups
	// every key's writes into a run, in the order the plan sends them: no
	// map per key, and no second sort (or copy) of the writes themselves.
	order := make([]int, 0, len(writes))
	for i := range writes {
		if keep[i] {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := strings.Compare(writes[a].Entity, writes[b].Entity); c != 0 {
			return c
		}
		if c := strings.Compare(writes[a].Key, writes[b].Key); c != 0 {
			return c
		}
		return a - b
	})
	for start := 0; start < len(order); {
		first := writes[order[start]]
		end := start + 1
		for end < len(order) && writes[order[end]].Key == first.Key && writes[order[end]].Entity == first.Entity {
			end++
		}
		run := order[start:end]
		// The highest version wins within each kind, the earliest of equal
		// versions; every other write of the kind is skipped, and so is the
		// IfAbsent winner when an ordinary write exists.
		live, absent := -1, -1
		for _, i := range run {
			cur := &live
			if writes[i].IfAbsent {
				cur = &absent
			}
			if *cur >= 0 {
				p.Result.Skipped++
				if writes[*cur].Version >= writes[i].Version {
					continue
				}
			}
			*cur = i
		}
		winner := live
		if winner < 0 {
			winner = absent
		} else if absent >= 0 {
			p.Result.Skipped++
		}
		if n := len(p.Entities); n == 0 || p.Entities[n-1] != first.Entity {
			p.Entities = append(p.Entities, first.Entity)
			// Room for every key left: one allocation for the usual
			// call of a single entity, instead of growing by doubling.
			p.Writes[first.Entity] = make([]Write, 0, len(order)-start)
		}
		p.Writes[first.Entity] = append(p.Writes[first.Entity], writes[winner])
		for _, i := range run {
			if id := writes[i].EventID; id != "" {
				if i == winner {
					p.EventIDs = append(p.EventIDs, id)
				} else {
					p.SupersededEventIDs = append(p.SupersededEventIDs, id)
				}
			}
		}
		start = end
	}
	sort.Strings(p.SupersededEventIDs)
	sort.Strings(p.EventIDs)
	return p
}

// DropEventIDs removes the writes whose EventID is in seen (already in the
// ledger) and counts them as duplicates.
func (p *Plan) DropEventIDs(seen map[string]bool) {
	if len(seen) == 0 {
		return
	}
	for entity, ws := range p.Writes {
		kept := ws[:0]
		for _, w := range ws {
			if w.EventID != "" && seen[w.EventID] {
				p.Result.Duplicates++
				continue
			}
			kept = append(kept, w)
		}
		p.Writes[entity] = kept
	}
	ids := p.EventIDs[:0]
	for _, id := range p.EventIDs {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	p.EventIDs = ids
}

// Size is the number of writes left to send.
func (p *Plan) Size() int {
	n := 0
	for _, ws := range p.Writes {
		n += len(ws)
	}
	return n
}
