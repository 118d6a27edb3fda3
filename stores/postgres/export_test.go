package postgres

// SetLookupExisting switches the backfill's existing-key lookup, so a test
// can make COPY meet a key it did not expect, as a concurrent writer would.
func SetLookupExisting(on bool) (restore func()) {
	old := lookupExisting
	lookupExisting = on
	return func() { lookupExisting = old }
}
