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
	type slot struct{ live, absent int }
	type entityKey struct{ entity, key string }
	// Slots are held by value: one allocation per key would be most of
	// planning's cost.
	winners := make(map[entityKey]slot, len(writes))
	for i, w := range writes {
		if !keep[i] {
			continue
		}
		ek := entityKey{w.Entity, w.Key}
		s, seen := winners[ek]
		if !seen {
			s = slot{live: -1, absent: -1}
		}
		cur := &s.live
		if w.IfAbsent {
			cur = &s.absent
		}
		if *cur >= 0 {
			p.Result.Skipped++
			if writes[*cur].Version >= w.Version {
				continue // s came from the map unchanged
			}
		}
		*cur = i
		winners[ek] = s
	}
	for ek, s := range winners {
		i := s.live
		if i < 0 {
			i = s.absent
		} else if s.absent >= 0 {
			p.Result.Skipped++
		}
		p.Writes[ek.entity] = append(p.Writes[ek.entity], writes[i])
		if id := writes[i].EventID; id != "" {
			p.EventIDs = append(p.EventIDs, id)
		}
	}
	for i, w := range writes {
		if !keep[i] || w.EventID == "" {
			continue
		}
		s := winners[entityKey{w.Entity, w.Key}]
		winner := s.live
		if winner < 0 {
			winner = s.absent
		}
		if i != winner {
			p.SupersededEventIDs = append(p.SupersededEventIDs, w.EventID)
		}
	}
	sort.Strings(p.SupersededEventIDs)
	for entity, ws := range p.Writes {
		p.Entities = append(p.Entities, entity)
		slices.SortFunc(ws, func(a, b Write) int { return strings.Compare(a.Key, b.Key) })
	}
	sort.Strings(p.Entities)
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
