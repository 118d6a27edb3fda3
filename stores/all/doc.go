// Package all holds the explicit table of every store adapter (Adapters),
// so a program that imports it can open any store by DSN:
//
//	st, err := all.Open(ctx, "postgres://...") // or sqlite:, rethinkdb://, sqlserver://
//
// No adapter registers itself: adding one means adding its row here.
package all
