package migrate

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"
)

func TestLoadOrdersAndValidates(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"0002_b.sql":   {Data: []byte("B")},
		"0001_a.sql":   {Data: []byte("A")},
		"README.md":    {Data: []byte("not a migration")},
		"0003_c_d.sql": {Data: []byte("C")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[0].Name != "a" || ms[1].SQL != "B" || ms[2].Name != "c_d" || Latest(ms) != 3 {
		t.Errorf("Load = %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"0001_a.sql": {}, "0003_c.sql": {}},
		"repeat":    {"0001_a.sql": {}, "0001_b.sql": {}},
		"no number": {"init.sql": {}},
		"no name":   {"0001.sql": {}},
		"zero":      {"0000_a.sql": {}},
	} {
		if _, err := Load(fsys); err == nil {
			t.Errorf("%s: Load accepted it", name)
		}
	}
}

// fakeDialect records versions in memory; failAt makes Apply fail.
type fakeDialect struct {
	version, failAt, txs int
}

type fakeTx struct {
	d       *fakeDialect
	version int
}

func (d *fakeDialect) Locked(ctx context.Context, fn func(Tx) error) error {
	d.txs++
	tx := &fakeTx{d: d, version: d.version}
	if err := fn(tx); err != nil {
		return err // rolled back: d.version unchanged
	}
	d.version = tx.version
	return nil
}

func (tx *fakeTx) Applied(_ context.Context, m Migration) (bool, error) {
	return m.Version <= tx.version, nil
}

func (tx *fakeTx) Apply(_ context.Context, m Migration) error {
	if m.Version == tx.d.failAt {
		return errors.New("boom")
	}
	tx.version = m.Version
	return nil
}

func TestRun(t *testing.T) {
	ms := []Migration{{1, "a", ""}, {2, "b", ""}, {3, "c", ""}}
	for _, per := range []bool{false, true} {
		d := &fakeDialect{version: 1}
		applied, err := Run(t.Context(), ms, d, per)
		if err != nil || len(applied) != 2 || d.version != 3 {
			t.Errorf("perMigration %v: applied %v, version %d, err %v", per, applied, d.version, err)
		}
		if again, err := Run(t.Context(), ms, d, per); err != nil || len(again) != 0 {
			t.Errorf("perMigration %v: second run applied %v, %v", per, again, err)
		}
		d = &fakeDialect{failAt: 3}
		_, err = Run(t.Context(), ms, d, per)
		want := 0 // one transaction: nothing kept
		if per {
			want = 2
		}
		if err == nil || d.version != want {
			t.Errorf("perMigration %v: failing run left version %d (err %v), want %d", per, d.version, err, want)
		}
	}
}
