package testkit_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/testkit"
)

// TestNotImportedByProductionCode: only _test.go files may import testkit,
// so test credentials and fixtures never reach the binary.
func TestNotImportedByProductionCode(t *testing.T) {
	t.Parallel()
	const self = "github.com/waorders/waorders/internal/testkit"
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == self {
				t.Errorf("%s imports testkit; only _test.go files may", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCredentialsAreDistinctAndLongEnough(t *testing.T) {
	t.Parallel()
	secrets := []string{testkit.APIToken, testkit.CallbackSecret, testkit.MetaAppSecret, testkit.BasicPassword, testkit.TokenClientSecret}
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) < 16 || seen[s] {
			t.Errorf("credential %q: want 16 bytes or more and distinct", s)
		}
		seen[s] = true
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u:secret@db.example:6432/app?sslmode=disable": "u@db.example:6432/app",
		"postgres://u@h/app?password=secret":                      "u@h:5432/app",
		"::not a url":                                             "(unparseable URL)",
	} {
		if got := testkit.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPostgresURL(t *testing.T) {
	t.Parallel()
	u := testkit.PostgresURL(t) // skips without a server (fails under CI)
	if want := os.Getenv(testkit.PostgresURLEnv); want != "" && u != want {
		t.Errorf("PostgresURL = %q, want %s's %q", u, testkit.PostgresURLEnv, want)
	}
	if os.Getenv(testkit.PostgresURLEnv) == "" && u != testkit.DefaultPostgresURL {
		t.Errorf("PostgresURL = %q, want the default", u)
	}
}
