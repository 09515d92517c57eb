// Package simulate generates realistic WhatsApp callback bodies, as Kaleyra's
// V2 envelope or Meta's native envelope would carry them, deterministically
// from a seed: two generators built with the same seed and options produce
// the same bytes in the same order.
//
// It is the engine behind `waorders send`: the load generator (package
// loadgen) draws bodies from a Generator, and Example prints one pretty body
// per kind for `waorders send --example`.
//
// Bodies are written with a small append-only JSON writer rather than
// encoding/json, so that generation stays far cheaper than the HTTP request
// that carries it.
package simulate
