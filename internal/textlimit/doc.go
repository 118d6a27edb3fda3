// Package textlimit holds the small text rules that the control plane
// (flags) and the read path (reads) share: cutting caller input short
// before an error message quotes it, and the plain names of routers and
// read API callers.
package textlimit
