// Package vulndb builds a Go vulnerability database in the v1 layout that
// govulncheck reads with -db file://DIR (https://go.dev/security/vuln/database#api)
// from a folder of OSV JSON entries, such as data/osv of the
// golang.org/x/vulndb module. CI cannot reach vuln.go.dev, but it reaches
// the Go module proxy, which serves that module.
package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// ErrNoEntries is returned when the source folder holds no OSV entry.
var ErrNoEntries = errors.New("vulndb: no OSV entries")

// idPattern keeps entry IDs to the Go database's shape, so that an ID never
// names a path outside ID/.
var idPattern = regexp.MustCompile(`^GO-[0-9]{4}-[0-9]{4,}$`)

// Entry is the part of an OSV entry the indexes need; the entry file itself
// is copied byte for byte.
type Entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

// ParseEntry decodes one OSV entry and checks the fields the indexes use.
func ParseEntry(data []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("vulndb: decode entry: %w", err)
	}
	if !idPattern.MatchString(e.ID) {
		return Entry{}, fmt.Errorf("vulndb: entry id %q is not GO-YYYY-NNNN", e.ID)
	}
	for _, a := range e.Affected {
		if a.Package.Name == "" {
			return Entry{}, fmt.Errorf("vulndb: %s: affected package without a name", e.ID)
		}
	}
	return e, nil
}

// Summary describes a built database.
type Summary struct {
	Entries  int
	Modules  int
	NewestID string    // the highest GO-YYYY-NNNN, a clue to how current the data is
	Modified time.Time // what index/db.json says
}

type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	// Fixed is left out on purpose: it is an optional shortcut, and
	// without it govulncheck reads each entry and applies its ranges itself.
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// Build reads every *.json OSV entry in src and writes the v1 database to
// out (index/db.json, index/modules.json, index/vulns.json, ID/<id>.json).
// snapshot is when the source was taken: the entries of the vulndb module
// carry a zero "modified" (its real one comes from git history), so
// db.json reports the later of snapshot and the newest entry.
func Build(src, out string, snapshot time.Time) (Summary, error) {
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return Summary{}, fmt.Errorf("vulndb: list %s: %w", src, err)
	}
	if len(names) == 0 {
		return Summary{}, fmt.Errorf("%w in %s", ErrNoEntries, src)
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o755); err != nil {
		return Summary{}, fmt.Errorf("vulndb: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(out, "index"), 0o755); err != nil {
		return Summary{}, fmt.Errorf("vulndb: %w", err)
	}
	sum := Summary{Modified: snapshot.UTC()}
	modules := map[string]*module{}
	vulns := make([]vuln, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return Summary{}, fmt.Errorf("vulndb: %w", err)
		}
		e, err := ParseEntry(data)
		if err != nil {
			return Summary{}, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		if seen[e.ID] {
			return Summary{}, fmt.Errorf("vulndb: entry %s appears twice", e.ID)
		}
		seen[e.ID] = true
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), data, 0o644); err != nil {
			return Summary{}, fmt.Errorf("vulndb: %w", err)
		}
		vulns = append(vulns, vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &module{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified})
		}
		if e.Modified.After(sum.Modified) {
			sum.Modified = e.Modified.UTC()
		}
		if newerID(e.ID, sum.NewestID) {
			sum.NewestID = e.ID
		}
	}
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].ID < vulns[j].ID })
	mods := make([]*module, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	sum.Entries, sum.Modules = len(vulns), len(mods)
	for file, v := range map[string]any{
		"db.json":      dbMeta{Modified: sum.Modified},
		"modules.json": mods,
		"vulns.json":   vulns,
	} {
		if err := writeJSON(filepath.Join(out, "index", file), v); err != nil {
			return Summary{}, err
		}
	}
	return sum, nil
}

// newerID orders GO-YYYY-NNNN by year, then by number (NNNN may grow past
// four digits).
func newerID(a, b string) bool {
	if b == "" {
		return true
	}
	ya, na, _ := strings.Cut(strings.TrimPrefix(a, "GO-"), "-")
	yb, nb, _ := strings.Cut(strings.TrimPrefix(b, "GO-"), "-")
	if ya != yb {
		return ya > yb
	}
	if len(na) != len(nb) {
		return len(na) > len(nb)
	}
	return na > nb
}

func writeJSON(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("vulndb: encode %s: %w", filepath.Base(name), err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	return nil
}
