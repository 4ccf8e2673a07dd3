package notifications

import (
	"regexp"
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// personKeyPath matches the path of a person's contacts or priorities key.
var personKeyPath = regexp.MustCompile(`^\$\.people\[(\d+)\]\.(contacts|priorities)$`)

// markDeclaredKeys tells a person's key written with no value
// ("contacts:", say with every entry commented out) from a key left out:
// the decoder makes both nil, but the first is an empty list the file is
// the authority on, the second leaves the database's alone.
func markDeclaredKeys(body ast.Node, c *Catalog) {
	ast.Walk(keyMarker{c}, body)
}

type keyMarker struct{ c *Catalog }

func (v keyMarker) Visit(n ast.Node) ast.Visitor {
	mv, ok := n.(*ast.MappingValueNode)
	if !ok {
		return v
	}
	m := personKeyPath.FindStringSubmatch(mv.GetPath())
	if m == nil {
		return v
	}
	i, err := strconv.Atoi(m[1])
	if err != nil || i >= len(v.c.People) {
		return v
	}
	p := &v.c.People[i]
	switch {
	case m[2] == "contacts" && p.Contacts == nil:
		p.Contacts = []ContactSpec{}
	case m[2] == "priorities" && p.Priorities == nil:
		p.Priorities = PriorityModes{}
	}
	return nil // nothing below is a person's key
}
