// Package testkit is what tests across waorders share: one set of test
// credentials, a builder for Kaleyra V2 and Meta webhook bodies, the rule
// for finding the PostgreSQL test server, and SyncBuffer, the output of
// what a test runs, written while the test reads it.
//
// It is for _test.go files only; no production package may import it
// (TestNotImportedByProductionCode enforces that). It imports nothing of
// waorders either, so every package's tests can use it, internal test
// packages included (package callback, package intake).
//
// # Bodies
//
// A body is built from messages or statuses, each with defaults that make
// a valid callback, and overrides as chained calls; Bytes returns the exact
// bytes to post, with members in the order the providers send them (the
// order of callback/testdata):
//
//	body := testkit.Kaleyra(
//		testkit.Order("wamid.A").Item("SKU-1", 2, "16.99", "USD").Name("Asha"),
//	).Ref("spring-promo").Bytes()
//
//	meta := testkit.Meta(testkit.Text("wamid.B", "hello"))
//	post(meta.Bytes(), callback.SignatureHeader, meta.Signature())
//
//	status := testkit.Kaleyra().Statuses(testkit.Failed("wamid.C", 131047, "Re-engagement message", "24 hours passed")).Bytes()
//
// Defaults are those of the contract's first example (spec i.1): business
// number 919800000001 with phone_number_id 100000000000001, WABA
// 200000000000001, customer 919900000001 "Test Buyer One", timestamps T0
// (2026-01-01 00:00:00 UTC), and for an order without items the two lines
// SKU-SHIRT-M 2×1600 INR and SKU-PANT-32 1×2000 INR (5200 INR).
package testkit
