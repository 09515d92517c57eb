package server

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of the whole HTTP surface,
// served at GET /v1/openapi.json. openapi_test.go checks every endpoint's
// real answers against it, so it cannot drift from the code unnoticed.
//
//go:embed openapi.json
var openAPIDocument []byte

// handleOpenAPI serves GET /v1/openapi.json. The document describes every
// surface, so it lives here rather than in one of them.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDocument)
	return nil
}
