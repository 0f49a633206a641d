// Package filter parses SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths
// (RFC 7644 §3.5.2) into the library's own store.Filter and Path types,
// resolving every attribute name against a resource type's schema.
//
// The grammar is github.com/scim2/filter-parser/v2; none of its types leave
// this package. A pre-pass in front of it enforces size limits, reports
// syntax errors with a position, and tolerates what real identity providers
// send (unquoted values, any letter case, stray whitespace).
//
// Every error is a *scimerr.Error: 400 invalidFilter from Parse, 400
// invalidPath from ParsePath.
package filter

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimkit/scim/internal/jsoncheck"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// Default limits applied by Parse and by the zero Limits.
const (
	DefaultMaxLength = 4096
	DefaultMaxDepth  = 32
	DefaultMaxNodes  = 256
)

// Limits bounds the filters a parser accepts. A zero field takes its
// default. A filter over a limit is refused with 400 invalidFilter before it
// is parsed.
type Limits struct {
	// MaxLength is the maximum length of a filter in bytes.
	MaxLength int
	// MaxDepth is the maximum nesting of parentheses and value filters.
	MaxDepth int
	// MaxNodes is the maximum number of comparisons, value paths and
	// logical operators.
	MaxNodes int
}

func (l Limits) maxLength() int { return orDefault(l.MaxLength, DefaultMaxLength) }
func (l Limits) maxDepth() int  { return orDefault(l.MaxDepth, DefaultMaxDepth) }
func (l Limits) maxNodes() int  { return orDefault(l.MaxNodes, DefaultMaxNodes) }

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Parse parses a filter expression for resources of type rt with the
// default Limits.
func Parse(rt *schema.ResourceType, expr string) (store.Filter, error) {
	return Limits{}.Parse(rt, expr)
}

// Parse parses a filter expression for resources of type rt into a
// store.Filter with canonical paths and values typed by the schema. Errors
// are *scimerr.Error with status 400 and scimType invalidFilter.
func (l Limits) Parse(rt *schema.ResourceType, expr string) (store.Filter, error) {
	if len(expr) > l.maxLength() {
		return nil, limitErr("filter is longer than %d bytes", l.maxLength())
	}
	if !utf8.ValidString(expr) || strings.IndexByte(expr, 0) >= 0 {
		// No stored value holds either; a SQL store cannot compare with
		// them.
		return nil, scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: it has a NUL character or is not UTF-8")
	}
	outer, vps, err := prepare(expr, l, false)
	if err != nil {
		return nil, err
	}
	ast, perr := parseGrammar(outer)
	if perr != nil {
		return nil, perr
	}
	t := translator{rt: rt, vps: vps, ph: placeholder(expr), lim: l}
	f, terr := t.expr(ast)
	if terr != nil {
		return nil, terr
	}
	return f, nil
}

// parseGrammar parses text, already rewritten by the pre-pass, with the
// grammar library. A single comparison, which is nearly all identity
// provider traffic (`userName eq "x"`, `members[value eq "id"]`), is built
// directly: the library allocates some two thousand times for it.
func parseGrammar(text string) (fp.Expression, *scimerr.Error) {
	if e, ok := simpleAttrExp(text); ok {
		return e, nil
	}
	ast, err := fp.ParseFilter([]byte(text))
	if err != nil {
		// The library's message describes its internals, not the filter;
		// the pre-pass has already reported the errors it can place.
		return nil, scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: syntax error")
	}
	return ast, nil
}

// simpleAttrExp recognises `attrPath pr` and `attrPath op value` in the
// pre-pass's normalised output (single spaces, JSON values) and returns the
// expression the grammar library would return for it.
func simpleAttrExp(text string) (*fp.AttributeExpression, bool) {
	path, rest, ok := strings.Cut(text, " ")
	if !ok || !validAttrPath(path) {
		return nil, false
	}
	op, value, _ := strings.Cut(rest, " ")
	if !isCompareOp(op) {
		return nil, false
	}
	e := &fp.AttributeExpression{Operator: fp.CompareOperator(op)}
	if i := strings.LastIndexByte(path, ':'); i >= 0 {
		uri := path[:i]
		e.AttributePath.URIPrefix = &uri
		path = path[i+1:]
	}
	name, sub, hasSub := strings.Cut(path, ".")
	e.AttributePath.AttributeName = name
	if hasSub {
		e.AttributePath.SubAttribute = &sub
	}
	if op == "pr" {
		return e, value == ""
	}
	switch {
	case len(value) >= 2 && value[0] == '"':
		for i := 1; i < len(value); i++ {
			if value[i] == '\\' {
				i++
				continue
			}
			if value[i] == '"' {
				if i != len(value)-1 {
					return nil, false
				}
				e.CompareValue = value[1:i]
				return e, true
			}
		}
		return nil, false
	case strings.EqualFold(value, "true"):
		e.CompareValue = true
	case strings.EqualFold(value, "false"):
		e.CompareValue = false
	case strings.EqualFold(value, "null"):
		e.CompareValue = nil
	case isJSONNumber(value):
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, false
		}
		if strings.ContainsAny(value, ".eE") {
			e.CompareValue = f
		} else {
			e.CompareValue = int(f)
		}
	default:
		return nil, false
	}
	return e, true
}

// placeholder returns a prefix for the attribute names that stand for
// value paths, chosen so that it does not occur in expr.
func placeholder(expr string) string {
	ph := "scimkitVP"
	lower := strings.ToLower(expr)
	for strings.Contains(lower, strings.ToLower(ph)) {
		ph += "x"
	}
	return ph
}

// prepare runs the pre-pass over expr (see lex.go).
func prepare(expr string, l Limits, inVP bool) (string, []valuePathSeg, *scimerr.Error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return "", nil, scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: empty")
	}
	toks, err := lex(expr, 0)
	if err != nil {
		return "", nil, err
	}
	p := prepass{toks: toks, lim: l, ph: placeholder(expr), inVP: inVP, length: len(expr)}
	var out strings.Builder
	out.Grow(len(expr) + 8)
	if err := p.filter(&out); err != nil {
		return "", nil, err
	}
	if t := p.peek(); t != nil {
		return "", nil, syntaxErr(t.pos, "unexpected %q", t.text)
	}
	return out.String(), p.vps, nil
}

// translator turns the grammar's AST into store.Filter.
type translator struct {
	rt  *schema.ResourceType
	vps []valuePathSeg
	ph  string
	lim Limits
	// elem is set while translating a value filter: names resolve as
	// sub-attributes of this multi-valued attribute.
	elem *schema.Attr
}

func (t *translator) expr(e fp.Expression) (store.Filter, *scimerr.Error) {
	switch e := e.(type) {
	case *fp.LogicalExpression:
		l, err := t.expr(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := t.expr(e.Right)
		if err != nil {
			return nil, err
		}
		if e.Operator == fp.OR {
			return store.Or{Left: l, Right: r}, nil
		}
		return store.And{Left: l, Right: r}, nil
	case *fp.NotExpression:
		f, err := t.expr(e.Expression)
		if err != nil {
			return nil, err
		}
		return store.Not{Filter: f}, nil
	case *fp.AttributeExpression:
		return t.attrExp(e)
	case *fp.ValuePath:
		// The pre-pass cuts every value path out, so the grammar never
		// produces one; keep the case for safety.
		return nil, scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: unexpected value path")
	}
	return nil, scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: syntax error")
}

func unknownAttr(name string) *scimerr.Error {
	return scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: unknown attribute %q", name)
}

func (t *translator) attrExp(e *fp.AttributeExpression) (store.Filter, *scimerr.Error) {
	ap := e.AttributePath
	if t.elem == nil && ap.URIPrefix == nil && len(ap.AttributeName) > len(t.ph) &&
		strings.EqualFold(ap.AttributeName[:len(t.ph)], t.ph) {
		n, err := strconv.Atoi(ap.AttributeName[len(t.ph):])
		if err == nil && n >= 0 && n < len(t.vps) {
			return t.valuePath(t.vps[n], e)
		}
	}
	var (
		path store.Path
		attr *schema.Attr
	)
	if t.elem != nil {
		if ap.URIPrefix != nil || ap.SubAttribute != nil {
			return nil, unknownAttr(ap.String())
		}
		sub, err := elemSub(t.elem, ap.AttributeName)
		if err != nil {
			return nil, err
		}
		path, attr = store.Path{Name: sub.Name}, sub
	} else {
		r, err := t.rt.Resolve(ap.String())
		if err != nil {
			return nil, unknownAttr(ap.String())
		}
		path, attr = r.Path, r.Target()
	}
	return compare(path, attr, e)
}

// elemSub resolves name as a sub-attribute of the elements of a. For a
// multi-valued simple attribute the element itself is "value".
func elemSub(a *schema.Attr, name string) (*schema.Attr, *scimerr.Error) {
	if a.Type != schema.Complex {
		if strings.EqualFold(name, "value") {
			return &schema.Attr{Name: "value", Type: a.Type, CaseExact: a.CaseExact,
				Mutability: a.Mutability, Returned: a.Returned}, nil
		}
		return nil, unknownAttr(a.Name + "." + name)
	}
	s := a.Sub(name)
	if s == nil {
		return nil, unknownAttr(a.Name + "." + name)
	}
	return s, nil
}

// valuePath translates a placeholder standing for attr[inner] (or
// attr[inner].sub op value when the placeholder carries a sub-attribute).
func (t *translator) valuePath(seg valuePathSeg, e *fp.AttributeExpression) (store.Filter, *scimerr.Error) {
	r, err := t.rt.Resolve(seg.attr)
	if err != nil || r.Sub != nil {
		return nil, unknownAttr(seg.attr)
	}
	if !r.Attr.MultiValued && r.Attr.Type != schema.Complex {
		return nil, scimerr.BadRequest(scimerr.InvalidFilter,
			"invalid filter: %q is neither multi-valued nor complex", r.Path.String())
	}
	if r.Attr.Returned == schema.Never {
		return nil, neverErr(r.Path)
	}
	inner, ierr := t.innerFilter(r.Attr, seg.inner)
	if ierr != nil {
		return nil, ierr
	}
	if seg.sub != "" {
		sub, err := elemSub(r.Attr, seg.sub)
		if err != nil {
			return nil, err
		}
		c, err := compare(store.Path{Name: sub.Name}, sub, e)
		if err != nil {
			return nil, err
		}
		inner = store.And{Left: inner, Right: c}
	}
	return store.ValuePath{Path: r.Path, Filter: inner}, nil
}

// innerFilter parses the text between brackets with names relative to the
// elements of a.
func (t *translator) innerFilter(a *schema.Attr, text string) (store.Filter, *scimerr.Error) {
	ast, perr := parseGrammar(text)
	if perr != nil {
		return nil, perr
	}
	it := translator{rt: t.rt, elem: a, lim: t.lim}
	return it.expr(ast)
}

func neverErr(p store.Path) *scimerr.Error {
	return scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: attribute %q cannot be filtered on", p.String())
}

func badOp(op store.Op, p store.Path, a *schema.Attr) *scimerr.Error {
	kind := string(a.Type)
	if a.Type == schema.Complex {
		kind = "complex"
	}
	return scimerr.BadRequest(scimerr.InvalidFilter,
		"invalid filter: operator %q does not apply to %s attribute %q", op, kind, p.String())
}

// compare builds a Compare on path, whose definition is a, from the
// grammar's attribute expression: operator checked against the type, value
// converted to the attribute's type.
func compare(path store.Path, a *schema.Attr, e *fp.AttributeExpression) (store.Filter, *scimerr.Error) {
	if a.Returned == schema.Never {
		return nil, neverErr(path)
	}
	op := store.Op(strings.ToLower(string(e.Operator)))
	if a.Type == schema.Complex && op != store.Pr && path.Sub == "" {
		// RFC 7644 §3.4.2.2: a complex attribute named without a
		// sub-attribute compares its "value" sub-attribute.
		if v := a.Sub("value"); v != nil {
			path.Sub, a = v.Name, v
		}
	}
	if op == store.Pr {
		return store.Compare{Path: path, Op: store.Pr, CaseExact: a.CaseExact}, nil
	}
	if e.CompareValue == nil {
		// "eq null" asks for an absent attribute, "ne null" for a present
		// one; no other operator takes null.
		switch op {
		case store.Eq:
			return store.Not{Filter: store.Compare{Path: path, Op: store.Pr, CaseExact: a.CaseExact}}, nil
		case store.Ne:
			return store.Compare{Path: path, Op: store.Pr, CaseExact: a.CaseExact}, nil
		}
		return nil, scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: operator %q cannot compare with null", op)
	}
	ordering := op == store.Gt || op == store.Ge || op == store.Lt || op == store.Le
	substr := op == store.Co || op == store.Sw || op == store.Ew
	switch a.Type {
	case schema.Complex:
		return nil, badOp(op, path, a)
	case schema.Boolean:
		if ordering || substr {
			return nil, badOp(op, path, a)
		}
	case schema.Binary:
		if ordering {
			return nil, badOp(op, path, a)
		}
	case schema.Integer, schema.Decimal, schema.DateTime:
		if substr {
			return nil, badOp(op, path, a)
		}
	}
	v, ok := typedValue(a.Type, e.CompareValue)
	if !ok {
		return nil, scimerr.BadRequest(scimerr.InvalidFilter,
			"invalid filter: value %v is not a valid %s for %q", e.CompareValue, a.Type, path.String())
	}
	if s, ok := v.(string); ok && (op == store.Eq || op == store.Ne) && path == (store.Path{Name: "userName"}) {
		// userName is stored without outer white space: an IdP that looks
		// up, padded, the name it is about to send finds the user.
		v = strings.TrimSpace(s)
	}
	return store.Compare{Path: path, Op: op, Value: v, CaseExact: a.CaseExact}, nil
}

// typedValue converts a value as the grammar returns it (string with JSON
// escapes still in, int, float64, bool) to the type of the attribute.
func typedValue(typ schema.Type, v any) (any, bool) {
	if s, ok := v.(string); ok {
		u, ok := unescape(s)
		if !ok {
			return nil, false
		}
		v = u
	}
	switch typ {
	case schema.Boolean:
		switch v := v.(type) {
		case bool:
			return v, true
		case string:
			switch {
			case strings.EqualFold(v, "true"):
				return true, true
			case strings.EqualFold(v, "false"):
				return false, true
			}
		}
		return nil, false
	case schema.Integer, schema.Decimal:
		switch v := v.(type) {
		case int:
			return float64(v), true
		case float64:
			return v, true
		case string:
			if isJSONNumber(v) {
				f, err := strconv.ParseFloat(v, 64)
				return f, err == nil
			}
		}
		return nil, false
	case schema.DateTime:
		if s, ok := v.(string); ok {
			return ParseTime(s)
		}
		return nil, false
	}
	// string, reference, binary: a number or boolean compares as the text
	// the client wrote.
	switch v := v.(type) {
	case string:
		return v, true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return nil, false
}

// unescape decodes the JSON escapes the grammar leaves in a string value.
// An escaped NUL or lone surrogate is refused: no stored value holds
// either.
func unescape(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, true
	}
	b := []byte(`"` + s + `"`)
	if jsoncheck.Check(b).Kind != jsoncheck.OK {
		return "", false
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		return "", false
	}
	return out, true
}

// ParseTime parses a SCIM dateTime (xsd:dateTime as RFC 3339, with or
// without fractional seconds). A time without a zone is taken as UTC.
func ParseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if isBareDateTime(s) {
		if t, err := time.Parse("2006-01-02T15:04:05.999999999", strings.Replace(s, "t", "T", 1)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
