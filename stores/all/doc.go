// Package all registers every store adapter with the stores package, so a
// program that imports it can open any store by DSN:
//
//	import _ "github.com/switchyard/switchyard/stores/all"
//
//	st, err := stores.Open(ctx, "postgres://...") // or sqlite:, rethinkdb://, sqlserver://
package all
