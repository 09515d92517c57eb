package testkit

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURLEnv names the environment variable with the URL of the
// PostgreSQL server tests use; DefaultPostgresURL is used when it is unset.
const (
	PostgresURLEnv     = "WAORDERS_TEST_POSTGRES_URL"
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// probes holds one *probe per URL, so the server is asked once per test
// binary and URL.
var probes sync.Map

type probe struct {
	once sync.Once
	err  error
}

// PostgresURL returns the URL of the PostgreSQL test server: the
// PostgresURLEnv variable, or DefaultPostgresURL. When no server answers
// there it skips the test with a message saying what to do, unless the CI
// variable is set: CI must run these tests, so there it fails. A URL that
// does not parse always fails the test: it is a mistake, not an absence.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := PostgresURLSetting()
	if _, err := pgx.ParseConfig(u); err != nil {
		tb.Fatalf("%s is not a PostgreSQL URL: %v", PostgresURLEnv, err)
	}
	p, _ := probes.LoadOrStore(u, &probe{})
	pr := p.(*probe)
	pr.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			pr.err = err
			return
		}
		defer conn.Close(ctx)
		pr.err = conn.Ping(ctx)
	})
	if pr.err != nil {
		msg := fmt.Sprintf("no PostgreSQL server answers at %s (%v); set %s, or start the local one with: "+
			"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", RedactURL(u), pr.err, PostgresURLEnv)
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return u
}

// PostgresURLSetting returns the configured URL (PostgresURLEnv, or
// DefaultPostgresURL) without checking that a server answers there: for
// clean-up code that runs outside a test, such as TestMain.
func PostgresURLSetting() string {
	if u := os.Getenv(PostgresURLEnv); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// RedactURL shows a PostgreSQL URL as user@host:port/database: no
// password, from the user part or the query, reaches a message.
func RedactURL(u string) string {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
