package server

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Handler returns the whole HTTP surface of waorders. Every route is
// registered here, in one place.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	api := s.requireAPIToken

	// Callbacks: authenticated by the callback methods, not the API token.
	s.route(mux, "/v1/callbacks/kaleyra", map[string]http.Handler{
		"POST": s.requireCallbackAuth(s.handle(s.handleKaleyraCallback)),
	})
	s.route(mux, "/v1/callbacks/meta", map[string]http.Handler{
		"GET":  s.handle(s.handleMetaHandshake),
		"POST": s.handle(s.handleMetaCallback),
	})
	s.route(mux, "/v1/callbacks/token", map[string]http.Handler{
		"POST": s.tokenHandler(),
	})

	// Operations.
	s.route(mux, "/healthz", map[string]http.Handler{"GET": s.handle(s.handleHealthz)})
	s.route(mux, "/readyz", map[string]http.Handler{"GET": s.handle(s.handleReadyz)})
	s.route(mux, "/metrics", map[string]http.Handler{"GET": s.cfg.Metrics.Handler()})

	// The API: Bearer API token.
	s.route(mux, "/v1/messages", map[string]http.Handler{"GET": api(s.handle(s.handleMessageList))})
	s.route(mux, "/v1/messages/{id}", map[string]http.Handler{"GET": api(s.handle(s.handleMessageGet))})
	s.route(mux, "/v1/orders/{id}", map[string]http.Handler{"GET": api(s.handle(s.handleOrderGet))})
	s.route(mux, "/v1/quarantine", map[string]http.Handler{"GET": api(s.handle(s.handleQuarantineList))})
	s.route(mux, "/v1/quarantine/{id}", map[string]http.Handler{"GET": api(s.handle(s.handleQuarantineGet))})
	s.route(mux, "/v1/quarantine/{id}/retry", map[string]http.Handler{"POST": api(s.handle(s.handleQuarantineRetry))})
	s.registerOrderRoutes(mux, api)

	mux.Handle("/", s.handle(s.handleNotFound))
	return s.withRequestID(s.withRecover(s.withLog(mux)))
}

// route registers each method's handler on pattern, and a JSON 405 with an
// Allow header for every other method.
func (s *Server) route(mux *http.ServeMux, pattern string, byMethod map[string]http.Handler) {
	methods := slices.Sorted(maps.Keys(byMethod))
	for _, m := range methods {
		mux.Handle(m+" "+pattern, byMethod[m])
	}
	if _, ok := byMethod["GET"]; ok {
		methods = append(methods, "HEAD")
	}
	allow := strings.Join(methods, ", ")
	mux.Handle(pattern, s.handle(s.methodNotAllowed(allow)))
}
