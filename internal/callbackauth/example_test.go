package callbackauth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/waorders/waorders/internal/callbackauth"
)

// Example wires an Authenticator the way the server does: the token endpoint
// for Kaleyra's advanced authentication, and Check in front of the callback
// handler, counting failures by Reason.
func Example() {
	a, err := callbackauth.New(callbackauth.Config{
		Secrets:      []string{"0f3c9a4e7b2d5f18a6c4e2b0d9f7a5c3"},
		TokenClients: []callbackauth.TokenClient{{ID: "kaleyra", Secret: "b7e1d9c3a5f2e8d4c6b0a2f4e6d8c1b3"}},
		TokenKeys:    [][]byte{[]byte("a shared 32-byte key for all instances")},
		AllowCIDRs:   []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range a.Methods() {
		fmt.Println("auth:", m)
	}

	failures := map[callbackauth.Reason]int{}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/callbacks/token", a.TokenHandler())
	mux.HandleFunc("POST /v1/callbacks/kaleyra", func(w http.ResponseWriter, r *http.Request) {
		if err := a.Check(r); err != nil {
			var ae *callbackauth.Error
			if errors.As(err, &ae) {
				failures[ae.Reason]++
			}
			w.Header().Set("WWW-Authenticate", a.Challenge())
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})

	req := httptest.NewRequest(http.MethodPost, "/v1/callbacks/kaleyra", nil)
	req.RemoteAddr = "203.0.113.7:40000"
	req.Header.Set("X-Callback-Secret", "0f3c9a4e7b2d5f18a6c4e2b0d9f7a5c3")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println("with the secret:", rec.Code)

	req.RemoteAddr = "198.51.100.7:40000"
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println("from elsewhere:", rec.Code, failures)
	// Output:
	// auth: header X-Callback-Secret
	// auth: bearer token (POST /v1/callbacks/token)
	// auth: ip allow-list (1 range)
	// with the secret: 200
	// from elsewhere: 401 map[ip_not_allowed:1]
}
