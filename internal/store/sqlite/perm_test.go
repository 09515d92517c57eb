package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/waorders/waorders/internal/store/sqlite"
)

// TestNewFilesArePrivate: a database created anywhere (not only under
// data/, which is 0750) is readable by the service's user alone, and so
// are its -wal and -shm files, which SQLite creates with the database
// file's mode.
func TestNewFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "custom.db")
	st := openTest(t, path, sqlite.Options{})
	if err := st.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(f), m)
		}
	}
}

// TestExistingFileKeepsItsMode: an operator's choice of mode is left alone.
func TestExistingFileKeepsItsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	openTest(t, path, sqlite.Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o640 {
		t.Errorf("mode %o, want 640 kept", m)
	}
}
