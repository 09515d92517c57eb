package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/password"
	"github.com/waorders/waorders/internal/store/sqlite"
)

func TestUsersCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.db")
	run := func(pw string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		getenv := func(k string) string {
			if k == "WAORDERS_USER_PASSWORD" {
				return pw
			}
			return ""
		}
		err := Run(context.Background(), append(append([]string{"users"}, args...), "--database-url", db), getenv, strings.NewReader(""), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	if out, err := run("a long enough password", "add", "--username", "zoe", "--role", "staff"); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
	if out, err := run("short", "add", "--username", "ann", "--role", "staff"); err == nil {
		t.Fatalf("users add with a short password succeeded:\n%s", out)
	}
	if _, err := run("a long enough password", "add", "--username", "ann", "--role", "root"); err == nil {
		t.Fatal("users add with role root succeeded")
	}
	if out, err := run("", "disable", "--username", "zoe"); err != nil {
		t.Fatalf("users disable: %v\n%s", err, out)
	}
	out, err := run("", "list")
	if err != nil || !strings.Contains(out, "zoe") || !strings.Contains(out, "staff") || !strings.Contains(out, "disabled") {
		t.Fatalf("users list = %v\n%s", err, out)
	}
	if out, err := run("another long password", "reset-password", "--username", "zoe"); err != nil {
		t.Fatalf("users reset-password: %v\n%s", err, out)
	}
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.GetUser(context.Background(), "zoe")
	if err != nil || !password.Verify(u.PasswordHash, "another long password") || !u.Disabled {
		t.Fatalf("stored user = %+v, %v", u, err)
	}
	if u.MustChangePassword {
		t.Errorf("zoe's own password is marked one-time")
	}

	// A password handed over is one-time: --temporary, or --generate
	// (printed once, and refused along with a given password).
	if out, err := run("a long enough password", "add", "--username", "ann", "--role", "viewer", "--temporary"); err != nil ||
		!strings.Contains(out, "ann must replace it at the first login") {
		t.Fatalf("users add --temporary: %v\n%s", err, out)
	}
	if u, err := st.GetUser(context.Background(), "ann"); err != nil || !u.MustChangePassword {
		t.Fatalf("ann after add --temporary = %+v, %v; want must change", u, err)
	}
	if out, err := run("", "list"); err != nil || !regexp.MustCompile(`(?m)^ann\s+viewer\s+active\s+one-time\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^zoe\s+staff\s+disabled\s+own\s`).MatchString(out) {
		t.Fatalf("users list = %v\n%s", err, out)
	}
	if out, err := run("a long enough password", "reset-password", "--username", "ann", "--generate"); err == nil {
		t.Fatalf("reset-password --generate with WAORDERS_USER_PASSWORD set succeeded:\n%s", out)
	}
	out, err = run("", "reset-password", "--username", "zoe", "--generate")
	if err != nil {
		t.Fatalf("users reset-password --generate: %v\n%s", err, out)
	}
	_, gen, ok := strings.Cut(out, "password (shown only now): ")
	gen, _, _ = strings.Cut(gen, "\n")
	if u, err := st.GetUser(context.Background(), "zoe"); !ok || err != nil || !password.Verify(u.PasswordHash, gen) || !u.MustChangePassword {
		t.Fatalf("zoe after reset-password --generate (printed %q) = %+v, %v; want that password, must change\n%s", gen, u, err, out)
	}
	if out, err := run("zoe's new own password", "reset-password", "--username", "zoe"); err != nil {
		t.Fatalf("users reset-password: %v\n%s", err, out)
	}
	if u, err := st.GetUser(context.Background(), "zoe"); err != nil || u.MustChangePassword || !password.Verify(u.PasswordHash, "zoe's new own password") {
		t.Fatalf("zoe after reset-password = %+v, %v; want her own password", u, err)
	}

	// The first start creates admin once.
	pw, err := ensureFirstAdmin(context.Background(), st)
	if err != nil || pw != "" {
		t.Fatalf("ensureFirstAdmin with users = %q, %v; want nothing", pw, err)
	}
}

func TestEnsureFirstAdmin(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pw, err := ensureFirstAdmin(context.Background(), st)
	if err != nil || password.Check(pw) != nil {
		t.Fatalf("ensureFirstAdmin = %q, %v", pw, err)
	}
	u, err := st.GetUser(context.Background(), "admin")
	if err != nil || u.Role != "admin" || !password.Verify(u.PasswordHash, pw) || !u.MustChangePassword {
		t.Fatalf("admin = %+v, %v; want the generated password, to be changed at first login", u, err)
	}
	if again, err := ensureFirstAdmin(context.Background(), st); err != nil || again != "" {
		t.Fatalf("second start = %q, %v; want nothing", again, err)
	}
}
