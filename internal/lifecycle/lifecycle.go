// Package lifecycle starts a process's long-running parts in order and
// stops them in reverse, modelled on River's startstop package but smaller:
// a Service is anything with Start and Stop, Funcs adapts values whose
// methods are named otherwise, and a Group owns the order.
//
// The rule a Group enforces is the one a service needs to lose nothing on
// shutdown: a part is started only after everything it depends on (added
// before it) is running, and stopped before any of them, so that a part
// that is draining can still use what lies below it.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Service is a part of a process with a lifetime: Start makes it run and
// Stop makes it stop within ctx's deadline. A Group calls Stop at most once,
// and only after Start returned nil.
type Service interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Funcs adapts a pair of functions to a Service, for values whose methods
// have other names or signatures (an HTTP server's Open and Close, a
// worker's Start without a context). A nil function does nothing and
// returns nil, so Funcs{StopFunc: db.Close-like func} wraps something that
// is already running when it is added.
type Funcs struct {
	StartFunc func(ctx context.Context) error
	StopFunc  func(ctx context.Context) error
}

// Start calls StartFunc.
func (f Funcs) Start(ctx context.Context) error {
	if f.StartFunc == nil {
		return nil
	}
	return f.StartFunc(ctx)
}

// Stop calls StopFunc.
func (f Funcs) Stop(ctx context.Context) error {
	if f.StopFunc == nil {
		return nil
	}
	return f.StopFunc(ctx)
}

// IgnoreContext adapts a method without a context (such as Close() error)
// to the signature of StartFunc and StopFunc.
func IgnoreContext(f func() error) func(context.Context) error {
	return func(context.Context) error { return f() }
}

// member is a named service of a group.
type member struct {
	name string
	svc  Service
}

// Group starts services in the order they were added and stops them in
// the reverse order. It is itself a Service, so groups nest. Start and
// Stop may be called from different goroutines; they do not overlap.
type Group struct {
	// Logger receives one error line for every Stop that fails, with the
	// service's name. Nil discards them.
	Logger *slog.Logger

	mu      sync.Mutex
	members []member
	started []member // the services whose Start returned nil, in start order
	begun   bool     // Start was called
}

// Add appends a service to start after those already added (and to stop
// before them). name identifies it in errors and logs. Add panics if the
// group was started: its order is fixed from then on.
func (g *Group) Add(name string, svc Service) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.begun {
		panic(fmt.Sprintf("lifecycle: Add(%q) after Start", name))
	}
	g.members = append(g.members, member{name: name, svc: svc})
}

// Start starts every service in order. If one fails, the ones already
// started are stopped in reverse order (without ctx's cancellation, which
// may be why the start failed) and Start returns that service's error as
// it is, joined with any Stop errors. Calling Start again returns an error.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.begun {
		return errors.New("lifecycle: group started twice")
	}
	g.begun = true
	for _, m := range g.members {
		if err := m.svc.Start(ctx); err != nil {
			return errors.Join(err, g.stopStarted(context.WithoutCancel(ctx)))
		}
		g.started = append(g.started, m)
	}
	return nil
}

// Stop stops every started service in reverse order of starting, each with
// ctx, so all of them share ctx's deadline. Every service gets its Stop
// even when an earlier one failed or the deadline passed: a later service
// (the store under a queue) still has resources to release. Each failure
// is logged with the service's name; Stop returns them joined (nil if none).
// Stop is idempotent: a service is stopped once, later calls return nil.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopStarted(ctx)
}

// stopStarted stops g.started in reverse and empties it; g.mu is held.
func (g *Group) stopStarted(ctx context.Context) error {
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		m := g.started[i]
		g.started = g.started[:i] // never stopped twice, even if Stop panics
		if err := m.svc.Stop(ctx); err != nil {
			g.logger().Error("stop failed", "service", m.name, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (g *Group) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Logger
}

var _ Service = (*Group)(nil)
var _ Service = Funcs{}
