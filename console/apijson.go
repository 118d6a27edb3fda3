package console

import "time"

// The JSON shapes of the API. They are spelt out here rather than derived
// from the domain types so the API stays stable when those change.

type clientSummaryJSON struct {
	ID     string `json:"id"`
	Stage  Stage  `json:"stage"`
	Source string `json:"source"`
}

type searchJSON struct {
	Query   string              `json:"query"`
	After   string              `json:"after,omitempty"`
	Clients []clientSummaryJSON `json:"clients"`
	// Next is the "after" cursor of the next page; empty on the last.
	Next string `json:"next,omitempty"`
}

type shadowJSON struct {
	Compared     uint64     `json:"compared"`
	Matches      uint64     `json:"matches"`
	Mismatches   uint64     `json:"mismatches"`
	Errors       uint64     `json:"errors"`
	Settled      uint64     `json:"settled"`
	Unsettled    uint64     `json:"unsettled"`
	TargetReads  uint64     `json:"target_reads"`
	TargetErrors uint64     `json:"target_errors"`
	SampleKeys   []string   `json:"sample_keys"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
	Unavailable  string     `json:"unavailable,omitempty"`
}

type overrideJSON struct {
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Forced bool      `json:"forced"`
}

type gateConditionJSON struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"`
}

type gatesJSON struct {
	Passed      bool                `json:"passed"`
	Conditions  []gateConditionJSON `json:"conditions"`
	Unavailable string              `json:"unavailable,omitempty"`
}

type clientJSON struct {
	ID           string        `json:"id"`
	Stage        Stage         `json:"stage"`
	Source       string        `json:"source"`
	SourceDetail string        `json:"source_detail,omitempty"`
	Revision     uint64        `json:"revision"`
	Override     *overrideJSON `json:"override,omitempty"`
	// Fallback is the stage the client has without its override.
	Fallback       Stage      `json:"fallback,omitempty"`
	FallbackSource string     `json:"fallback_source,omitempty"`
	LastSeen       *time.Time `json:"last_seen,omitempty"`
	Shadow         shadowJSON `json:"shadow"`
	Gates          gatesJSON  `json:"gates"`
	// UnauditedChanges are stage revisions no audit entry accounts for.
	UnauditedChanges     []unauditedJSON `json:"unaudited_changes"`
	UnauditedUnavailable string          `json:"unaudited_unavailable,omitempty"`
}

type unauditedJSON struct {
	Revision  uint64    `json:"revision"`
	At        time.Time `json:"at"`
	Operation string    `json:"operation"`
	Stage     Stage     `json:"stage,omitempty"`
}

type auditJSON struct {
	Seq         uint64    `json:"seq"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	ClientID    string    `json:"client_id,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Reason      string    `json:"reason"`
	Forced      bool      `json:"forced"`
	FailedGates []string  `json:"failed_gates,omitempty"`
}

type auditPageJSON struct {
	Entries []auditJSON `json:"entries"`
	// Older is the "before" cursor of the next, older page; 0 on the last.
	Older uint64 `json:"older,omitempty"`
}

// setStageRequest is the body of POST /api/clients/{id}/stage.
type setStageRequest struct {
	To               string  `json:"to"`
	ExpectedStage    string  `json:"expected_stage"`
	ExpectedRevision *uint64 `json:"expected_revision"`
	Reason           string  `json:"reason"`
	Force            bool    `json:"force"`
}

// clearRequest is the body of POST /api/clients/{id}/clear.
type clearRequest struct {
	Reason           string  `json:"reason"`
	ExpectedRevision *uint64 `json:"expected_revision"`
	Force            bool    `json:"force"`
}

// rollbackRequest is the body of POST /api/clients/{id}/rollback.
type rollbackRequest struct {
	Reason           string  `json:"reason"`
	ExpectedStage    string  `json:"expected_stage"`
	ExpectedRevision *uint64 `json:"expected_revision"`
}

func gateConditionsJSON(cs []GateCondition) []gateConditionJSON {
	out := make([]gateConditionJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, gateConditionJSON{Name: c.Name, Passed: c.OK, Detail: c.Detail})
	}
	return out
}

func toClientJSON(d ClientDetail) clientJSON {
	sh := shadowJSON{Compared: d.Shadow.Compared, Matches: d.Shadow.Matches, Mismatches: d.Shadow.Mismatches,
		Errors: d.Shadow.Errors, Settled: d.Shadow.Settled, Unsettled: d.Shadow.Unsettled,
		TargetReads: d.Shadow.TargetReads, TargetErrors: d.Shadow.TargetErrors,
		SampleKeys: d.Shadow.SampleKeys, Unavailable: d.Shadow.Unavailable}
	if sh.SampleKeys == nil {
		sh.SampleKeys = []string{}
	}
	if !d.Shadow.UpdatedAt.IsZero() {
		t := d.Shadow.UpdatedAt.UTC()
		sh.UpdatedAt = &t
	}
	out := clientJSON{
		ID: d.ID, Stage: d.Stage, Source: string(d.Source), SourceDetail: d.SourceDetail, Revision: d.Revision,
		Fallback: d.Fallback, FallbackSource: string(d.FallbackSource),
		Shadow: sh,
		Gates:  gatesJSON{Passed: d.Gates.Passed, Conditions: gateConditionsJSON(d.Gates.Conditions), Unavailable: d.Gates.Unavailable},
	}
	if o := d.Override; o != nil {
		out.Override = &overrideJSON{Actor: o.Actor, At: o.At.UTC(), Reason: o.Reason, Forced: o.Forced}
	}
	if !d.LastSeen.IsZero() {
		t := d.LastSeen.UTC()
		out.LastSeen = &t
	}
	out.UnauditedChanges = make([]unauditedJSON, 0, len(d.Unaudited))
	for _, u := range d.Unaudited {
		out.UnauditedChanges = append(out.UnauditedChanges, unauditedJSON{Revision: u.Revision, At: u.At.UTC(), Operation: u.Operation, Stage: u.Stage})
	}
	out.UnauditedUnavailable = d.UnauditedUnavailable
	return out
}

func toAuditPageJSON(v auditView) auditPageJSON {
	out := auditPageJSON{Entries: make([]auditJSON, 0, len(v.Entries)), Older: v.Older}
	for _, e := range v.Entries {
		out.Entries = append(out.Entries, auditJSON{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, ClientID: e.ClientID, Scope: e.Scope,
			From: e.From, To: e.To, Reason: e.Reason, Forced: e.Forced, FailedGates: e.FailedGates})
	}
	return out
}
