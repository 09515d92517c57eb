package ui

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/password"
	"github.com/waorders/waorders/internal/store"
)

// CookieName is the session cookie.
const CookieName = "waorders_session"

// session is the logged-in user of a request.
type session struct {
	id   string // store.SessionID of the token
	user *store.User
	csrf string // the form token of this session
}

type ctxKey struct{}

func withSession(ctx context.Context, s *session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(ctxKey{}).(*session)
	return s
}

// Actor is who a change is recorded as: the logged-in user's name.
func Actor(r *http.Request) string {
	if s := sessionOf(r); s != nil {
		return s.user.Username
	}
	return ""
}

// csrfToken is the form token of a session: derived from its secret
// cookie token, so it needs no storage and a page of one session is
// useless to another.
func csrfToken(token string) string {
	sum := sha256.Sum256([]byte("waorders dashboard form token\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// Auth lets a request through when it has a live session whose role is
// at least role, and, for anything but GET and HEAD, the session's form
// token. Without a session a page asks to log in (GET) or answers 401.
func (h *Handler) Auth(role string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		s := h.lookup(r)
		if s == nil {
			if r.Method == http.MethodGet && !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.fail(w, r, waorders.Errorf(waorders.CodeUnauthorized, "Log in first, at /ui/login."))
			return
		}
		r = r.WithContext(withSession(r.Context(), s))
		if s.user.MustChangePassword && r.URL.Path != "/ui/password" && r.URL.Path != "/ui/logout" {
			// A generated password was seen by someone else: nothing
			// before the user has chosen their own.
			if r.Method == http.MethodGet && !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
				http.Redirect(w, r, "/ui/password", http.StatusSeeOther)
				return
			}
			h.fail(w, r, waorders.Errorf(waorders.CodeForbidden, "Choose your own password first, at /ui/password."))
			return
		}
		if !store.RoleAtLeast(s.user.Role, role) {
			h.fail(w, r, waorders.Errorf(waorders.CodeForbidden, "Your role (%s) cannot do this; it needs %s.", s.user.Role, role))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) != 1 {
				h.fail(w, r, waorders.Errorf(waorders.CodeForbidden, "The form has expired; reload the page and try again."))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) lookup(r *http.Request) *session {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	id := store.SessionID(c.Value)
	_, u, err := h.cfg.Users.GetSession(r.Context(), id, h.cfg.Now())
	if err != nil {
		if waorders.ErrorCode(err) != waorders.CodeNotFound {
			h.cfg.Log.Error("read session", "err", err)
		}
		return nil
	}
	return &session{id: id, user: u, csrf: csrfToken(c.Value)}
}

type loginView struct {
	Username string
	Next     string
	Error    string
	Out      bool
}

// LoginForm serves GET /ui/login.
func (h *Handler) LoginForm(w http.ResponseWriter, r *http.Request) {
	if h.lookup(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", view{Title: "Log in", Data: loginView{
		Next: safeNext(r.URL.Query().Get("next")), Out: r.URL.Query().Has("out")}})
}

// Login serves POST /ui/login (fields username, password, next).
func (h *Handler) Login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	lv := loginView{Username: name, Next: next}
	addr := clientAddr(r)
	if h.cfg.ClientIP != nil {
		addr = cmp.Or(h.cfg.ClientIP(r), addr)
	}
	if wait := h.limit.blocked("u:"+name, "a:"+addr); wait > 0 {
		lv.Error = "Too many failed attempts. Try again in " + wait.Round(time.Minute).String() + "."
		w.Header().Set("Retry-After", strconv.FormatInt(int64(wait.Seconds())+1, 10))
		h.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Log in", Data: lv})
		return
	}
	u, err := h.cfg.Users.GetUser(r.Context(), name)
	ok := false
	switch {
	case err == nil && !u.Disabled:
		ok = password.Verify(u.PasswordHash, pw)
	case err == nil || waorders.ErrorCode(err) == waorders.CodeNotFound:
		password.VerifyNone(pw) // as slow as a real check
	default:
		h.fail(w, r, err)
		return
	}
	if !ok {
		h.limit.failed("u:"+name, "a:"+addr)
		h.cfg.Log.Info("dashboard login failed", "username", name, "addr", addr)
		lv.Error = "The username or password is wrong, or the account is disabled."
		h.render(w, r, http.StatusUnauthorized, "login", view{Title: "Log in", Data: lv})
		return
	}
	h.limit.reset("u:" + name)
	token := newToken()
	now := h.cfg.Now()
	if err := h.cfg.Users.CreateSession(r.Context(), store.Session{ID: store.SessionID(token), UserID: u.ID,
		CreatedAt: now, ExpiresAt: now.Add(h.cfg.SessionTTL)}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.SetCookie(w, h.cookie(r, token, int(h.cfg.SessionTTL.Seconds())))
	h.cfg.Log.Info("dashboard login", "username", name)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// Logout serves POST /ui/logout; with everywhere=1 it ends every session
// of the user, on every browser.
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	p := store.DeleteSessionsParams{ID: s.id}
	if r.PostFormValue("everywhere") != "" {
		p = store.DeleteSessionsParams{UserID: s.user.ID}
	}
	if _, err := h.cfg.Users.DeleteSessions(r.Context(), p); err != nil {
		h.fail(w, r, err)
		return
	}
	http.SetCookie(w, h.cookie(r, "", -1))
	http.Redirect(w, r, "/ui/login?out=1", http.StatusSeeOther)
}

func (h *Handler) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: "/ui/", MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil || h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode}
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeNext keeps a redirect target on the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts failed logins per key (an account, an address) in a
// window and refuses more once a key reached its limit. It is per
// process: N instances allow N times the attempts.
type limiter struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]*attempts
}

type attempts struct {
	n     int
	first time.Time
}

const (
	loginWindow     = 15 * time.Minute
	perAccountLimit = 5
	perAddressLimit = 20
)

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, seen: map[string]*attempts{}}
}

func (l *limiter) blocked(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		a := l.seen[k]
		if a == nil || now.Sub(a.first) >= loginWindow {
			continue
		}
		max := perAccountLimit
		if strings.HasPrefix(k, "a:") {
			max = perAddressLimit
		}
		if a.n >= max {
			wait = maxDur(wait, loginWindow-now.Sub(a.first))
		}
	}
	return wait
}

func (l *limiter) failed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.seen) > 100000 { // bound memory under a spray of names
		for k, a := range l.seen {
			if now.Sub(a.first) >= loginWindow {
				delete(l.seen, k)
			}
		}
	}
	for _, k := range keys {
		a := l.seen[k]
		if a == nil || now.Sub(a.first) >= loginWindow {
			a = &attempts{first: now}
			l.seen[k] = a
		}
		a.n++
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.seen, key)
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
