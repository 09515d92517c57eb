// Package loadgen sends generated callbacks to a receiver over HTTP and
// measures how it answers: the load generator behind `waorders send`.
//
// Run draws bodies from a simulate.Generator in one producer goroutine (so a
// seed gives the same bodies in the same order), paces them with a token
// bucket when a rate is set, and posts them from a fixed pool of workers over
// keep-alive connections. It counts answers by class, keeps latencies in a
// fixed-size log-linear histogram (memory does not grow with the number of
// requests), prints a progress line every second, and can write the ids of
// every acknowledged message to a file.
package loadgen
