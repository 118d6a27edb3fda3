package mssql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/stores"
)

// maxJSONDepth is the deepest nesting SQL Server's JSON functions accept;
// a deeper document would fail the table's ISJSON check inside the
// transaction, so it is rejected up front instead.
const maxJSONDepth = 128

// Apply applies writes in one transaction, sent as one batch. See
// stores.Writer for the semantics. Before anything is sent it rejects, with
// a *stores.RejectError, the writes stores.Validate refuses (among them
// keys, clients and event ids over 255 bytes, not valid UTF-8, or ending
// in a space, which SQL Server's padded comparisons could not tell apart)
// and those SQL Server cannot hold: documents that are not valid UTF-8 or
// are nested deeper than 128 levels, and the entity name of the ledger
// table. A deadlocked batch is re-run up to
// the configured bound and then fails with an error matching
// stores.ErrTransient, as do connection errors; a wrong table shape fails
// with stores.ErrSchemaMismatch. The ledger and entity tables are created
// on the first write that needs them, never at open. Error 208 (invalid
// object name) is confirmed before it is read as a dropped table (see
// explainMissing).
func (s *Store) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	if len(writes) == 0 {
		return stores.ApplyResult{}, nil
	}
	if err := stores.Validate(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	if err := checkWrites(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	plan := stores.NewPlan(writes)
	for _, entity := range append([]string{ledgerTable}, plan.Entities...) {
		if err := s.ensureEntity(ctx, entity); err != nil {
			return stores.ApplyResult{}, err
		}
	}
	payload, err := batchPayload(plan)
	if err != nil {
		return stores.ApplyResult{}, err
	}
	statement := applyStatement(s.cfg.schema(), plan.Entities)
	var applied, duplicates int64
	for attempt := 0; ; attempt++ {
		applied, duplicates, err = s.runBatch(ctx, statement, payload)
		if err == nil || !isDeadlock(err) || attempt >= s.cfg.deadlockRetries() {
			break
		}
		// The victim's transaction is rolled back; a short pause lets the
		// winner finish before the batch runs again.
		if waitErr := s.pause(ctx, attempt); waitErr != nil {
			break
		}
	}
	if err != nil {
		if isMissingTable(err) {
			return stores.ApplyResult{}, s.explainMissing(ctx, plan.Entities, fmt.Errorf("apply %d writes: %w", len(writes), err))
		}
		return stores.ApplyResult{}, classify(fmt.Errorf("apply %d writes: %w", len(writes), err))
	}
	res := plan.Result
	res.Applied += int(applied)
	res.Duplicates += int(duplicates)
	res.Skipped += plan.Size() - int(applied) - int(duplicates)
	return res, nil
}

// checkWrites rejects what SQL Server cannot hold beyond the shared rules
// stores.Validate has already checked (keys, clients and event ids of at
// most 255 bytes of valid UTF-8, which the VARCHAR(255) key columns and
// the NVARCHAR(255) ledger column hold, without control characters or a
// trailing space): the ledger's entity name, and documents that are not
// valid UTF-8 or that SQL Server's JSON functions cannot parse.
func checkWrites(writes []stores.Write) error {
	for i, w := range writes {
		if w.Entity == ledgerTable {
			return stores.Reject(i, w, "entity name %q is reserved for the ledger table", ledgerTable)
		}
		if w.Deleted {
			continue
		}
		if !utf8.Valid(w.Data) {
			return stores.Reject(i, w, "data is not valid UTF-8")
		}
		if depth := jsonDepth(w.Data); depth > maxJSONDepth {
			return stores.Reject(i, w, "data is nested %d levels deep; SQL Server's JSON functions accept at most %d", depth, maxJSONDepth)
		}
	}
	return nil
}

// jsonDepth returns the deepest nesting of objects and arrays in a valid
// JSON document, skipping string contents.
func jsonDepth(doc []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, b := range doc {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			deepest = max(deepest, depth)
		case b == '}' || b == ']':
			depth--
		}
	}
	return deepest
}

// batchRow is one write in the batch parameter. Field names are short
// because they repeat for every row; the version travels as a string so
// SQL Server converts it to BIGINT exactly, never through a float.
type batchRow struct {
	Key      string  `json:"k"`
	Client   string  `json:"c"`
	Version  int64   `json:"v,string"`
	Deleted  bool    `json:"d"`
	Data     *string `json:"x"`
	EventID  string  `json:"i,omitempty"`
	IfAbsent bool    `json:"a"`
}

// batch is the @batch parameter. Superseded holds the ledger ids of writes
// that lost to a higher version of their key in the call: they are recorded
// but never counted. It is left out when empty, and OPENJSON reads a
// missing path as no rows.
type batch struct {
	EventIDs   []string     `json:"ids"`
	Superseded []string     `json:"sup,omitempty"`
	Entities   [][]batchRow `json:"e"`
}

// batchPayload encodes the whole plan as the one @batch parameter: the
// ledger ids of the surviving writes and of the superseded ones, then the
// rows of each entity in plan.Entities order.
func batchPayload(plan *stores.Plan) (string, error) {
	b := batch{EventIDs: plan.EventIDs, Superseded: plan.SupersededEventIDs, Entities: make([][]batchRow, len(plan.Entities))}
	if b.EventIDs == nil {
		b.EventIDs = []string{}
	}
	for i, entity := range plan.Entities {
		rows := make([]batchRow, 0, len(plan.Writes[entity]))
		for _, w := range plan.Writes[entity] {
			row := batchRow{Key: w.Key, Client: w.Client, Version: w.Version, Deleted: w.Deleted, EventID: w.EventID, IfAbsent: w.IfAbsent}
			if !w.Deleted {
				data := string(bytes.TrimSpace(w.Data))
				row.Data = &data
			}
			rows = append(rows, row)
		}
		b.Entities[i] = rows
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return "", fmt.Errorf("encode batch: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// statementRows bounds the rows one statement of the apply batch touches
// in one table: SQL Server escalates row and key locks to a table lock
// when a single Transact-SQL statement acquires 5,000 locks on one
// nonpartitioned table or index ("Transaction locking and row versioning
// guide", lock escalation thresholds), and a table lock would make every
// consumer's apply wait for this one. A row costs at most three locks per
// index: its own key, for a key inserted under HOLDLOCK the key-range lock
// on the next key, and the intent lock on its page when no other row of
// the statement shares that page. 1,000 rows stay at or below 3,000 locks.
const statementRows = 1000

// applyStatement is the T-SQL batch that applies a plan. It reads every row
// from the single @batch parameter, checks and records the ledger ids, and
// merges each entity's rows, all in one transaction:
//
//   - XACT_ABORT rolls the whole transaction back on any error, a client
//     timeout included;
//   - the ledger ids are numbered in the ledger's key order and handled
//     statementRows at a time, as are each entity's rows, so no statement
//     reaches the lock escalation threshold (see statementRows) however
//     large the batch;
//   - ledger rows are read WITH (UPDLOCK, HOLDLOCK) so two workers holding
//     the same event id serialize, and the second counts a duplicate. The
//     read is a nested loop from the batch's ids into the ledger WITH
//     (FORCESEEK): a join hint fixes the join order as written, and
//     FORCESEEK allows only index seeks, so each id is one equality seek
//     on the primary key. Under HOLDLOCK (serializable) an equality seek
//     on a unique index locks the key it finds, or for an id the ledger
//     lacks the range up to the next key ("Key-range locking"): only the
//     batch's own ids, never a scanned range, so workers with different
//     ids do not wait for each other;
//   - the ids of superseded writes ([s] = 1) are read and recorded with the
//     others, so a late retry of one is a duplicate, but are never counted
//     as duplicates themselves (the plan counted them as skipped), whether
//     or not the ledger already holds them;
//   - each MERGE runs WITH (HOLDLOCK) on a source that has one row per key
//     (the plan already collapsed them), joins on the key only, and keeps
//     the version fence and the IfAbsent rule in WHEN MATCHED AND, never in
//     ON, as SQL Server's documentation requires;
//   - keys and clients are read from the JSON as NVARCHAR and converted to
//     the columns' VARCHAR UTF-8 type and collation in the source, so the
//     MERGE joins on matching types and the conversion loses nothing (the
//     OPENJSON WITH clause takes no COLLATE, and a VARCHAR column there
//     would be encoded in the database's default code page);
//   - ledger ids are compared under the ledger's binary collation.
//
// OPENJSON needs database compatibility level 130 or higher; New refuses a
// database below it (see CompatibilityLevelError).
func applyStatement(schema string, entities []string) string {
	var sb strings.Builder
	ledger := quote(schema) + "." + quote(ledgerTable)
	chunk := strconv.Itoa(statementRows)
	sb.WriteString(`SET XACT_ABORT ON;
SET NOCOUNT ON;
DECLARE @applied BIGINT = 0, @duplicates BIGINT = 0, @from INT = 0, @count INT;
DECLARE @ids TABLE ([id] NVARCHAR(255) COLLATE ` + ledgerCollation + ` NOT NULL PRIMARY KEY, [s] BIT NOT NULL, [n] INT NOT NULL);
DECLARE @seen TABLE ([id] NVARCHAR(255) COLLATE ` + ledgerCollation + ` NOT NULL PRIMARY KEY, [s] BIT NOT NULL);
INSERT INTO @ids ([id], [s], [n])
SELECT u.[id], u.[s], ROW_NUMBER() OVER (ORDER BY u.[id] COLLATE ` + ledgerCollation + `) - 1
FROM (SELECT CAST(j.[value] AS NVARCHAR(255)) AS [id], 0 AS [s] FROM OPENJSON(@batch, N'$.ids') AS j
    UNION ALL SELECT CAST(j.[value] AS NVARCHAR(255)), 1 FROM OPENJSON(@batch, N'$.sup') AS j) AS u;
SET @count = @@ROWCOUNT;
BEGIN TRANSACTION;
WHILE @from < @count
BEGIN
    INSERT INTO @seen ([id], [s]) SELECT l.[id], i.[s]
    FROM @ids AS i INNER LOOP JOIN ` + ledger + ` AS l WITH (UPDLOCK, HOLDLOCK, FORCESEEK) ON l.[id] = i.[id]
    WHERE i.[n] >= @from AND i.[n] < @from + ` + chunk + `;
    INSERT INTO ` + ledger + ` ([id], [recorded_at]) SELECT i.[id], SYSUTCDATETIME()
    FROM @ids AS i
    WHERE i.[n] >= @from AND i.[n] < @from + ` + chunk + ` AND NOT EXISTS (SELECT 1 FROM @seen AS z WHERE z.[id] = i.[id]);
    SET @from += ` + chunk + `;
END;
SELECT @duplicates = COUNT_BIG(*) FROM @seen WHERE [s] = 0;
`)
	for i, entity := range entities {
		rows := `OPENJSON(@batch, N'$.e[` + strconv.Itoa(i) + `]')`
		sb.WriteString(`SELECT @from = 0, @count = COUNT(*) FROM ` + rows + `;
WHILE @from < @count
BEGIN
    MERGE ` + quote(schema) + "." + quote(entity) + ` WITH (HOLDLOCK) AS t
    USING (
        SELECT ` + keyColumn("s.[k]") + ` AS [k], ` + keyColumn("s.[c]") + ` AS [c], s.[v], s.[d], s.[x], s.[a]
        FROM ` + rows + ` AS r
        CROSS APPLY OPENJSON(r.[value]) WITH ([k] NVARCHAR(255) N'$.k', [c] NVARCHAR(255) N'$.c', [v] BIGINT N'$.v', [d] BIT N'$.d', [x] NVARCHAR(MAX) N'$.x', [i] NVARCHAR(255) N'$.i', [a] BIT N'$.a') AS s
        WHERE CONVERT(INT, r.[key]) >= @from AND CONVERT(INT, r.[key]) < @from + ` + chunk + `
            AND (s.[i] IS NULL OR NOT EXISTS (SELECT 1 FROM @seen AS z WHERE z.[id] = s.[i] COLLATE ` + ledgerCollation + `))
    ) AS s
    ON t.[key] = s.[k]
    WHEN MATCHED AND s.[a] = 0 AND s.[v] > t.[version] THEN
        UPDATE SET t.[client] = s.[c], t.[version] = s.[v], t.[deleted] = s.[d], t.[data] = s.[x], t.[updated_at] = SYSUTCDATETIME()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([key], [client], [version], [deleted], [data], [updated_at]) VALUES (s.[k], s.[c], s.[v], s.[d], s.[x], SYSUTCDATETIME());
    SET @applied += @@ROWCOUNT;
    SET @from += ` + chunk + `;
END;
`)
	}
	sb.WriteString(`COMMIT TRANSACTION;
SELECT @applied AS [applied], @duplicates AS [duplicates];`)
	return sb.String()
}

// deadlockPause is the first pause before a deadlocked batch runs again;
// it doubles with every further attempt.
const deadlockPause = 20 * time.Millisecond

// pauseFor waits before re-running a deadlocked batch, or returns ctx's
// error when ctx ends first.
func pauseFor(ctx context.Context, attempt int) error {
	return lifecycle.Sleep(ctx, deadlockPause<<attempt)
}

// runBatch sends the statement with its one parameter and reads the counts.
func (s *Store) runBatch(ctx context.Context, statement, payload string) (applied, duplicates int64, err error) {
	rows, err := s.db.QueryContext(ctx, statement, sql.Named("batch", fixedText(payload)))
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, 0, err
		}
		return 0, 0, fmt.Errorf("apply batch returned no counts")
	}
	if err := rows.Scan(&applied, &duplicates); err != nil {
		return 0, 0, err
	}
	return applied, duplicates, rows.Err()
}
