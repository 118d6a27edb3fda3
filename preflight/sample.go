package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// maxExamples bounds the examples a sample check names.
const maxExamples = 5

// sampleSource reads up to cfg.SampleSize records of each entity through
// Scan and checks what a target could not hold: keys and clients that break
// the identifier rule, and documents above cfg.MaxDocumentBytes. Adapters
// that map an application's own documents add their raw-document checks
// (stores.SourceSampler).
func sampleSource(ctx context.Context, cfg Config, st stores.Store, r *storeResults) {
	entities := cfg.Entities
	if len(entities) == 0 {
		listCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		all, err := st.Entities(listCtx)
		cancel()
		if err != nil {
			r.fail("entities", "", err.Error())
			return
		}
		if len(all) == 0 {
			r.warn("entities", "", "the source holds no entities: nothing to sample or backfill")
			return
		}
		entities = all
		r.pass("entities", "", fmt.Sprintf("%d entities: %s", len(all), strings.Join(all, ", ")))
	}
	sampler, _ := st.(stores.SourceSampler)
	for _, entity := range entities {
		sampleEntity(ctx, cfg, st, entity, r)
		if sampler == nil {
			continue
		}
		sampleCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		checks, err := sampler.SampleSource(sampleCtx, entity, cfg.SampleSize)
		cancel()
		if errors.Is(err, stores.ErrNoEntity) {
			continue // the sample already warned that the entity has no records
		}
		if err != nil {
			r.fail("sample_documents", entity, err.Error())
			continue
		}
		for _, c := range checks {
			r.add(c, entity)
		}
	}
}

// sampleEntity checks the first records of one entity.
func sampleEntity(ctx context.Context, cfg Config, st stores.Store, entity string, r *storeResults) {
	scanCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	recs, err := st.Scan(scanCtx, entity, stores.Range{Limit: cfg.SampleSize})
	cancel()
	if err != nil {
		r.fail("sample_keys", entity, err.Error())
		return
	}
	var badIDs, bigDocs []string
	badIDCount, bigDocCount := 0, 0
	for _, rec := range recs {
		problem := ""
		if p := events.IdentifierProblem(rec.Key, events.MaxKeyBytes); p != "" {
			problem = fmt.Sprintf("key %s %s", quoteShort(rec.Key), p)
		} else if p := events.IdentifierProblem(rec.Client, events.MaxClientBytes); p != "" {
			problem = fmt.Sprintf("client %s of key %s %s", quoteShort(rec.Client), quoteShort(rec.Key), p)
		}
		if problem != "" {
			badIDCount++
			if len(badIDs) < maxExamples {
				badIDs = append(badIDs, problem)
			}
		}
		if len(rec.Data) > cfg.MaxDocumentBytes {
			bigDocCount++
			if len(bigDocs) < maxExamples {
				bigDocs = append(bigDocs, fmt.Sprintf("key %s is %d bytes", quoteShort(rec.Key), len(rec.Data)))
			}
		}
	}
	if len(recs) == 0 {
		r.warn("sample_keys", entity, "no records: the entity is empty or has no table in this source; check the entity name")
		return
	}
	sampled := fmt.Sprintf("%d records sampled", len(recs))
	if badIDCount > 0 {
		r.fail("sample_keys", entity, fmt.Sprintf("%s; %d break the identifier rule no target can be trusted with (at most %d bytes of UTF-8, no control characters, no trailing space), so the backfill would refuse them: %s",
			sampled, badIDCount, events.MaxKeyBytes, strings.Join(badIDs, "; ")))
	} else {
		r.pass("sample_keys", entity, sampled+": every key and client follows the identifier rule")
	}
	if bigDocCount > 0 {
		r.fail("sample_sizes", entity, fmt.Sprintf("%s; %d documents are larger than %d bytes, the largest event a worker accepts: %s",
			sampled, bigDocCount, cfg.MaxDocumentBytes, strings.Join(bigDocs, "; ")))
	} else {
		r.pass("sample_sizes", entity, fmt.Sprintf("%s: every document is at most %d bytes", sampled, cfg.MaxDocumentBytes))
	}
}

// quoteShort quotes s for a report, cut to 40 bytes with its length when
// longer, so a 300-byte key does not flood the table.
func quoteShort(s string) string {
	const keep = 40
	if len(s) <= keep {
		return fmt.Sprintf("%q", s)
	}
	cut := keep
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}
