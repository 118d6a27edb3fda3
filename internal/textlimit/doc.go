// Package textlimit holds the small text rules several packages share:
// cutting caller input short before an error message quotes it (flags,
// reads), the plain names of routers and read API callers, and folding a
// multi-line message onto one table row or error line (preflight,
// subscriptions, workers, the command).
package textlimit
