package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugServer serves Go's profiler on its own listener (--debug-addr), so
// that it is never reachable through the API's address. /debug/pprof/cmdline
// is left out: the command line can carry secrets given as flags.
type debugServer struct {
	srv *http.Server
	ln  net.Listener
}

func startDebugServer(addr string, log *slog.Logger) (*debugServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	d := &debugServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug server stopped", "err", err)
		}
	}()
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		log.Warn("the profiler is reachable from other hosts without credentials; bind --debug-addr to 127.0.0.1", "addr", ln.Addr().String())
	}
	log.Info("profiler listening", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return d, nil
}

// URL is the profiler's base URL.
func (d *debugServer) URL() string { return "http://" + d.ln.Addr().String() + "/debug/pprof/" }

// close stops the profiler at once: a CPU profile or trace being taken may
// run for many seconds, and waiting for it would spend the shutdown time
// the API's in-flight callbacks need.
func (d *debugServer) close() error { return d.srv.Close() }
