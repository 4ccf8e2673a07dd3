package vulndb

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const entryA = `{"schema_version":"1.3.1","id":"GO-2026-0042","modified":"2026-03-01T10:00:00Z",
 "aliases":["CVE-2026-1"],"affected":[{"package":{"name":"example.com/a","ecosystem":"Go"}},
 {"package":{"name":"stdlib","ecosystem":"Go"}}]}`

const entryB = `{"id":"GO-2025-10001","modified":"0001-01-01T00:00:00Z",
 "affected":[{"package":{"name":"example.com/a","ecosystem":"Go"}}]}`

func writeEntries(t *testing.T, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range entries {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestBuild(t *testing.T) {
	snapshot := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	src := writeEntries(t, map[string]string{
		"GO-2026-0042.json":  entryA,
		"GO-2025-10001.json": entryB,
		"README.md":          "not an entry",
	})
	out := t.TempDir()
	sum, err := Build(src, out, snapshot)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Entries: 2, Modules: 2, NewestID: "GO-2026-0042", Modified: snapshot}
	if sum != want {
		t.Fatalf("summary = %+v, want %+v", sum, want)
	}

	var meta dbMeta
	readJSON(t, filepath.Join(out, "index", "db.json"), &meta)
	if !meta.Modified.Equal(snapshot) {
		t.Errorf("db.json modified = %v, want %v", meta.Modified, snapshot)
	}
	var mods []module
	readJSON(t, filepath.Join(out, "index", "modules.json"), &mods)
	if len(mods) != 2 || mods[0].Path != "example.com/a" || mods[1].Path != "stdlib" {
		t.Fatalf("modules.json = %+v", mods)
	}
	if ids := []string{mods[0].Vulns[0].ID, mods[0].Vulns[1].ID}; !reflect.DeepEqual(ids, []string{"GO-2025-10001", "GO-2026-0042"}) {
		t.Errorf("example.com/a vulns = %v, want sorted by id", ids)
	}
	var vulns []vuln
	readJSON(t, filepath.Join(out, "index", "vulns.json"), &vulns)
	if len(vulns) != 2 || !reflect.DeepEqual(vulns[1].Aliases, []string{"CVE-2026-1"}) {
		t.Errorf("vulns.json = %+v", vulns)
	}
	// govulncheck reads the whole OSV entry: it must be copied unchanged.
	got, err := os.ReadFile(filepath.Join(out, "ID", "GO-2026-0042.json"))
	if err != nil || string(got) != entryA {
		t.Errorf("ID/GO-2026-0042.json = %q, %v; want the source bytes", got, err)
	}
}

func TestBuildNewerEntryThanSnapshot(t *testing.T) {
	src := writeEntries(t, map[string]string{"a.json": entryA})
	sum, err := Build(src, t.TempDir(), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC); !sum.Modified.Equal(want) {
		t.Errorf("modified = %v, want the newest entry %v", sum.Modified, want)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries map[string]string
		wantErr error
	}{
		{"empty folder", nil, ErrNoEntries},
		{"not json", map[string]string{"x.json": "{"}, nil},
		{"path in id", map[string]string{"x.json": `{"id":"../../etc/passwd"}`}, nil},
		{"unnamed package", map[string]string{"x.json": `{"id":"GO-2026-0001","affected":[{"package":{}}]}`}, nil},
		{"same id twice", map[string]string{"a.json": entryA, "b.json": entryA}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(writeEntries(t, tt.entries), t.TempDir(), time.Time{})
			if err == nil {
				t.Fatal("Build succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNewerID(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"GO-2026-0001", "", true},
		{"GO-2026-0001", "GO-2025-9999", true},
		{"GO-2026-10000", "GO-2026-9999", true},
		{"GO-2026-0002", "GO-2026-0001", true},
		{"GO-2026-0001", "GO-2026-0002", false},
		{"GO-2025-9999", "GO-2026-0001", false},
	}
	for _, tt := range tests {
		if got := newerID(tt.a, tt.b); got != tt.want {
			t.Errorf("newerID(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzParseEntry: the entries come from outside; a bad one is an error,
// never a panic, and an accepted id never leaves ID/.
func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(entryA))
	f.Add([]byte(entryB))
	f.Add([]byte(`{"id":"GO-2026-0001/../x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		if err != nil {
			return
		}
		if filepath.Base(e.ID) != e.ID || !idPattern.MatchString(e.ID) {
			t.Fatalf("accepted id %q", e.ID)
		}
	})
}
