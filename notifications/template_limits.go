package notifications

import (
	"errors"
	"fmt"
	"reflect"
	"text/template"
	"text/template/parse"
)

// maxTemplateText bounds a message template's source: with the rules
// below, it bounds how many actions run per element of a ranged value.
const maxTemplateText = 4096

// ErrUnsafeTemplate is returned for a message template Herald will not
// run: text/template has no step budget, so a template must be bounded by
// its shape. Output is bounded separately (maxRendered).
var ErrUnsafeTemplate = errors.New("unsafe template")

// maxRangeLen bounds what one {{range}} may iterate: an integer up to it,
// or a collection of at most that many elements.
const maxRangeLen = 1000

// rangeGuardFunc is appended to every {{range}} pipeline (see guardRanges):
// the ranged value is only known when the template runs (a variable, dot
// or function result can be an integer).
const rangeGuardFunc = "heraldRangeGuard"

var templateFuncs = template.FuncMap{rangeGuardFunc: rangeGuard}

func rangeGuard(v any) (any, error) {
	rv := reflect.ValueOf(v)
	n := 0
	switch rv.Kind() {
	case reflect.Invalid:
		return v, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Int() > maxRangeLen {
			return nil, fmt.Errorf("%w: {{range %d}}: at most %d iterations", ErrUnsafeTemplate, rv.Int(), maxRangeLen)
		}
		return v, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > maxRangeLen {
			return nil, fmt.Errorf("%w: {{range %d}}: at most %d iterations", ErrUnsafeTemplate, rv.Uint(), maxRangeLen)
		}
		return v, nil
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		n = rv.Len()
	default: // functions (iterators) and channels can run without end
		return nil, fmt.Errorf("%w: {{range}} over a %s", ErrUnsafeTemplate, rv.Kind())
	}
	if n > maxRangeLen {
		return nil, fmt.Errorf("%w: {{range}} over %d elements, at most %d", ErrUnsafeTemplate, n, maxRangeLen)
	}
	return v, nil
}

// CheckTemplate reports whether a message template's text would be
// rendered: it parses and has a safe shape (the catalog checks templates
// with it, so a broken one is refused at apply, not at 3 a.m.).
func CheckTemplate(text string) error {
	if len(text) > maxTemplateText {
		return fmt.Errorf("%w: template text is %d bytes, more than %d", ErrUnsafeTemplate, len(text), maxTemplateText)
	}
	t, err := template.New("message").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return err
	}
	return checkTemplateShape(t)
}

// checkTemplateShape rejects templates whose running time is not bounded
// by the size of the template times maxRangeLen, and guards every range:
//   - {{define}}, {{template}} and {{block}}: recursion with branching
//     takes exponential time without writing anything;
//   - a {{range}} inside another {{range}}: the product of two lengths;
//   - each {{range}}'s value goes through rangeGuard when it runs
//     (`{{range 2000000000}}{{end}}` would loop for minutes).
func checkTemplateShape(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return fmt.Errorf("%w: {{define}} and {{block}} are not allowed", ErrUnsafeTemplate)
	}
	if t.Tree == nil || t.Tree.Root == nil {
		return nil
	}
	return checkNode(t.Tree.Root, false)
}

func checkNode(n parse.Node, inRange bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNode(c, inRange); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		return fmt.Errorf("%w: {{template %q}} is not allowed", ErrUnsafeTemplate, n.Name)
	case *parse.IfNode:
		return checkBranch(&n.BranchNode, inRange)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode, inRange)
	case *parse.RangeNode:
		if inRange {
			return fmt.Errorf("%w: {{range}} inside {{range}} is not allowed", ErrUnsafeTemplate)
		}
		guardRange(n)
		return checkBranch(&n.BranchNode, true)
	}
	return nil
}

func checkBranch(b *parse.BranchNode, inRange bool) error {
	if err := checkNode(b.List, inRange); err != nil {
		return err
	}
	if b.ElseList != nil {
		return checkNode(b.ElseList, inRange)
	}
	return nil
}

// guardRange turns {{range X}} into {{range X | heraldRangeGuard}}.
func guardRange(r *parse.RangeNode) {
	p := r.Pipe
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: p.Pos}
	cmd.Args = []parse.Node{parse.NewIdentifier(rangeGuardFunc).SetPos(p.Pos)}
	p.Cmds = append(p.Cmds, cmd)
}
