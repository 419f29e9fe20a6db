package sqlstore

import (
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	got, err := Migrations(fstest.MapFS{
		"0010_later.sql":  file("C"),
		"0002_second.sql": file("B"),
		"0001_init.sql":   file("A"),
		"README.md":       file("ignored"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var order []int64
	for _, m := range got {
		order = append(order, m.Version)
	}
	if len(got) != 3 || order[0] != 1 || order[1] != 2 || order[2] != 10 || got[2].SQL != "C" || got[0].Name != "0001_init.sql" {
		t.Fatalf("Migrations = %+v", got)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no number":         {"init.sql": file("")},
		"no description":    {"0001.sql": file("")},
		"zero":              {"0000_zero.sql": file("")},
		"duplicate version": {"0001_a.sql": file(""), "1_b.sql": file("")},
	} {
		if _, err := Migrations(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
