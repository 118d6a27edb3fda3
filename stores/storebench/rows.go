package storebench

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/switchyard/switchyard/stores"
)

// Key is the key of row i: fixed width, so key order is row order.
func Key(i int) string { return fmt.Sprintf("row-%09d", i) }

// Doc is a full-state document of about 300 bytes for row i at a version,
// shaped like a to-do record: strings, a number, a bool, an array and a
// nested object.
func Doc(i int, version int64) json.RawMessage {
	b := make([]byte, 0, 320)
	b = append(b, `{"id":"`...)
	b = append(b, Key(i)...)
	b = append(b, `","title":"Task number `...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, ` of the benchmark run, with some text to reach a realistic size","done":`...)
	b = strconv.AppendBool(b, version%2 == 0)
	b = append(b, `,"priority":`...)
	b = strconv.AppendInt(b, int64(i%5), 10)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, `,"tags":["work","home","errand"],"owner":{"name":"Ada Lovelace","team":"engines","seat":`...)
	b = strconv.AppendInt(b, int64(i%97), 10)
	b = append(b, `},"due":"2026-12-24T12:00:00Z"}`...)
	return b
}

// Writes returns the writes of rows [from, from+n) of entity at a version,
// for the given client. With ids, each write carries an event id (as
// workers send them); ifAbsent makes them backfill writes.
func Writes(entity string, from, n int, version int64, ids, ifAbsent bool) []stores.Write {
	ws := make([]stores.Write, n)
	for j := range ws {
		i := from + j
		ws[j] = stores.Write{
			Entity:   entity,
			Key:      Key(i),
			Client:   "client-" + strconv.Itoa(i%8),
			Version:  version,
			Data:     Doc(i, version),
			IfAbsent: ifAbsent,
		}
		if ids {
			ws[j].EventID = fmt.Sprintf("%s-%d-v%d", entity, i, version)
		}
	}
	return ws
}
