package sqlstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/scimkit/scim/store"
)

// kind tells which resource a query is about.
type kind int

const (
	users kind = iota
	groups
)

// builder accumulates an SQL fragment's bound arguments and hands out the
// dialect's placeholders. Every value that comes from a filter is bound;
// the SQL text holds only names the adapter chose and path keys made of
// safe characters (see pathKey).
type builder struct {
	d      Dialect
	args   []any
	alias  int
	nowErr error
}

func (b *builder) bind(v any) string {
	b.args = append(b.args, v)
	if b.d == Postgres {
		return "$" + itoa(len(b.args))
	}
	return "?"
}

// bindText binds a string, typed as text where the engine needs a hint.
func (b *builder) bindText(s string) string {
	p := b.bind(s)
	switch b.d {
	case Postgres:
		return p + "::text"
	case MySQL:
		return "CAST(" + p + " AS BINARY)"
	}
	return p
}

func (b *builder) newAlias() string {
	b.alias++
	return "x" + itoa(b.alias)
}

const (
	sqlTrue  = "(1=1)"
	sqlFalse = "(1=0)"
)

// where translates f, about resources of kind k in the table aliased r,
// into a boolean SQL expression that is never NULL, so that NOT works as
// store.Eval's negation.
func (b *builder) where(k kind, f store.Filter) (string, error) {
	switch f := f.(type) {
	case nil:
		return sqlTrue, nil
	case store.And:
		return b.binary(k, f.Left, f.Right, "AND")
	case store.Or:
		if ids, ok := idList(f, nil); ok {
			// One IN list, which every engine answers from the (tenant,
			// id) index; a tree of ORs makes SQLite scan the tenant.
			in := make([]string, len(ids))
			for i, id := range ids {
				in[i] = b.bindText(id)
			}
			return "(r.id IN (" + strings.Join(in, ", ") + "))", nil
		}
		return b.binary(k, f.Left, f.Right, "OR")
	case store.Not:
		inner, err := b.where(k, f.Filter)
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	case store.Compare:
		return b.compare(k, f)
	case store.ValuePath:
		return b.valuePath(k, f)
	}
	return "", fmt.Errorf("sqlstore: unsupported filter %T", f)
}

func (b *builder) binary(k kind, l, r store.Filter, op string) (string, error) {
	left, err := b.where(k, l)
	if err != nil {
		return "", err
	}
	right, err := b.where(k, r)
	if err != nil {
		return "", err
	}
	return "(" + left + " " + op + " " + right + ")", nil
}

// idList appends to ids the values of f when f is only case-exact eq
// clauses on id joined by or (a membership batch's check).
func idList(f store.Filter, ids []string) ([]string, bool) {
	switch f := f.(type) {
	case store.Or:
		ids, ok := idList(f.Left, ids)
		if !ok {
			return nil, false
		}
		return idList(f.Right, ids)
	case store.Compare:
		v, ok := f.Value.(string)
		if ok && f.Op == store.Eq && f.CaseExact && f.Path == (store.Path{Name: "id"}) {
			return append(ids, v), true
		}
	}
	return nil, false
}

// stringOp reports whether c compares strings, which the indexed columns
// answer.
func stringOp(c store.Compare) bool {
	_, ok := c.Value.(string)
	return ok && c.Op != store.Pr
}

func (b *builder) compare(k kind, c store.Compare) (string, error) {
	if c.Op == store.Ne {
		eq := c
		eq.Op = store.Eq
		inner, err := b.compare(k, eq)
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	}
	p := c.Path
	if p.URN == "" {
		switch {
		case p.Name == "id" && p.Sub == "":
			return b.stringColumn("r.id", "", c, true), nil
		case p.Name == "meta" && (p.Sub == "created" || p.Sub == "lastModified"):
			col := "r.created"
			if p.Sub == "lastModified" {
				col = "r.last_modified"
			}
			return b.timeColumn(col, c), nil
		case p.Name == "meta" && p.Sub == "version":
			return b.numberColumn("r.version", c), nil
		case p.Name == "externalId" && p.Sub == "" && stringOp(c) && c.CaseExact:
			return b.stringColumn("r.external_id", "", c, false), nil
		}
		if k == users {
			switch {
			case p.Name == "userName" && p.Sub == "" && stringOp(c):
				return b.stringColumn("r.user_name", "r.user_name_folded", c, false), nil
			case p.Name == "emails" && p.Sub == "value" && stringOp(c):
				// store.Lookup finds no "value" in an element that is a
				// plain string; a value path treats it as {"value": …}.
				inner, err := b.emailWhere(store.Compare{Path: store.Path{Name: "value"}, Op: c.Op, Value: c.Value, CaseExact: c.CaseExact})
				if err != nil {
					return "", err
				}
				return "EXISTS (SELECT 1 FROM scim_emails e WHERE e.tenant = r.tenant AND e.user_id = r.id AND e.bare = 0 AND " + inner + ")", nil
			}
		}
		if k == groups {
			switch {
			case p.Name == "displayName" && p.Sub == "" && stringOp(c):
				return b.stringColumn("r.display_name", "r.display_name_folded", c, false), nil
			case p.Name == "members":
				return b.membersCompare(c), nil
			}
		}
	}
	return b.jsonCompare("r.fdoc", c), nil
}

// stringColumn compares a text column. folded, when not "", holds the
// column's copy folded in Go by store.Fold, so that every engine compares
// as store.Eval does; otherwise case-insensitive comparisons lower the
// column in SQL, which agrees with store.Fold only on ASCII text: it is
// used for ids (members.value), which are ASCII unless the app's
// Config.NewID makes others.
func (b *builder) stringColumn(exact, folded string, c store.Compare, alwaysPresent bool) string {
	if c.Op == store.Pr {
		if alwaysPresent {
			return sqlTrue
		}
		return "(" + exact + " IS NOT NULL AND " + exact + " <> '')"
	}
	want, ok := c.Value.(string)
	if !ok {
		return sqlFalse
	}
	expr := exact
	if !c.CaseExact {
		want = fold(want)
		expr = folded
		if folded == "" {
			expr = b.lower(exact)
		}
	}
	return "(" + expr + " IS NOT NULL AND " + b.stringPred(expr, false, c.Op, want) + ")"
}

func (b *builder) lower(expr string) string {
	if b.d == MySQL {
		return "LOWER(CONVERT(" + expr + " USING utf8mb4))"
	}
	return "lower(" + expr + ")"
}

// stringPred compares a non-NULL string expression with want, byte-wise.
// fromJSON tells that expr was extracted from JSON (and so has the default
// collation on PostgreSQL).
func (b *builder) stringPred(expr string, fromJSON bool, op store.Op, want string) string {
	if b.d == Postgres && fromJSON {
		expr = "(" + expr + ") COLLATE \"C\""
	}
	switch op {
	case store.Eq, store.Gt, store.Ge, store.Lt, store.Le:
		return expr + " " + sqlOp(op) + " " + b.bindText(want)
	case store.Co, store.Sw:
		if want == "" {
			return sqlTrue
		}
		pos := b.position(expr, want)
		if op == store.Co {
			return pos + " > 0"
		}
		return pos + " = 1"
	case store.Ew:
		if want == "" {
			return sqlTrue
		}
		switch b.d {
		case SQLite:
			return "substr(" + expr + ", -length(" + b.bind(want) + ")) = " + b.bind(want)
		case Postgres:
			return "right(" + expr + ", char_length(" + b.bindText(want) + ")) = " + b.bindText(want)
		default:
			return "RIGHT(CAST(" + expr + " AS BINARY), LENGTH(" + b.bindText(want) + ")) = " + b.bindText(want)
		}
	}
	return sqlFalse
}

// position returns SQL for the 1-based position of the first occurrence of
// want in expr, 0 when absent.
func (b *builder) position(expr, want string) string {
	switch b.d {
	case SQLite:
		return "instr(" + expr + ", " + b.bind(want) + ")"
	case Postgres:
		return "strpos(" + expr + ", " + b.bindText(want) + ")"
	}
	return "LOCATE(" + b.bindText(want) + ", " + expr + ")"
}

func sqlOp(op store.Op) string {
	switch op {
	case store.Gt:
		return ">"
	case store.Ge:
		return ">="
	case store.Lt:
		return "<"
	case store.Le:
		return "<="
	}
	return "="
}

func orderedOp(op store.Op) bool {
	switch op {
	case store.Eq, store.Gt, store.Ge, store.Lt, store.Le:
		return true
	}
	return false
}

// timeColumn compares a column of Unix nanoseconds that is always present.
func (b *builder) timeColumn(col string, c store.Compare) string {
	if c.Op == store.Pr {
		return sqlTrue
	}
	want, ok := c.Value.(time.Time)
	if !ok || !orderedOp(c.Op) {
		return sqlFalse
	}
	return "(" + col + " IS NOT NULL AND " + col + " " + sqlOp(c.Op) + " " + b.bind(want.UnixNano()) + ")"
}

func (b *builder) numberColumn(col string, c store.Compare) string {
	if c.Op == store.Pr {
		return sqlTrue
	}
	want, ok := c.Value.(float64)
	if !ok || !orderedOp(c.Op) {
		return sqlFalse
	}
	return "(" + col + " " + sqlOp(c.Op) + " " + b.bindFloat(want) + ")"
}

func (b *builder) bindFloat(f float64) string {
	p := b.bind(f)
	if b.d == Postgres {
		return p + "::float8"
	}
	return p
}

// jsonCompare compares the values at c.Path in the filter document doc
// (see index.go): true when one value matches.
func (b *builder) jsonCompare(doc string, c store.Compare) string {
	x := b.newAlias()
	from := b.jsonValues(doc, "v", pathKey(c.Path), x)
	field := func(name string) string { return b.jsonField(x, name) }
	var pred string
	switch want := c.Value.(type) {
	case nil:
		if c.Op != store.Pr {
			return sqlFalse
		}
	case string:
		f, w := field("s"), want
		if !c.CaseExact {
			f, w = field("f"), fold(want)
		}
		if c.Op != store.Pr {
			pred = "(" + f + " IS NOT NULL AND " + b.stringPred(f, true, c.Op, w) + ")"
		}
	case float64:
		if c.Op != store.Pr {
			if !orderedOp(c.Op) {
				return sqlFalse
			}
			pred = field("n") + " " + sqlOp(c.Op) + " " + b.bindFloat(want)
		}
	case bool:
		if c.Op != store.Pr {
			if c.Op != store.Eq {
				return sqlFalse
			}
			v := 0
			if want {
				v = 1
			}
			pred = field("b") + " = " + b.bind(v)
		}
	case time.Time:
		if c.Op != store.Pr {
			if !orderedOp(c.Op) {
				return sqlFalse
			}
			pred = "(" + field("t") + " IS NOT NULL AND " + b.stringPred(field("t"), true, c.Op, timeKey(want)) + ")"
		}
	default:
		if c.Op != store.Pr {
			return sqlFalse
		}
	}
	if c.Op == store.Pr {
		pred = field("p") + " = 1"
	}
	return "EXISTS (SELECT 1 FROM " + from + " WHERE " + pred + ")"
}

// jsonValues returns a FROM item, aliased x, with one row per element of
// the array doc.part.key.
func (b *builder) jsonValues(doc, part, key, x string) string {
	switch b.d {
	case SQLite:
		return "json_each(" + doc + ", '$." + part + ".\"" + key + "\"') AS " + x
	case Postgres:
		return "jsonb_array_elements(" + doc + " -> '" + part + "' -> '" + key + "') AS " + x + "(j)"
	}
	cols := "j JSON PATH '$'"
	if part == "v" {
		cols = "s LONGTEXT PATH '$.s', f LONGTEXT PATH '$.f', t VARCHAR(64) PATH '$.t', n DOUBLE PATH '$.n', b INT PATH '$.b', p INT PATH '$.p'"
	}
	return "JSON_TABLE(" + doc + ", '$." + part + ".\"" + key + "\"[*]' COLUMNS (" + cols + ")) AS " + x
}

// jsonField returns a field of the entry in row x of jsonValues(…, "v", …).
func (b *builder) jsonField(x, name string) string {
	switch b.d {
	case SQLite:
		return "json_extract(" + x + ".value, '$." + name + "')"
	case Postgres:
		switch name {
		case "n":
			return "(" + x + ".j ->> 'n')::float8"
		case "b", "p":
			return "(" + x + ".j ->> '" + name + "')::int"
		}
		return "(" + x + ".j ->> '" + name + "')"
	}
	return x + "." + name
}

// jsonElement returns the JSON of the element in row x of
// jsonValues(…, "e", …).
func (b *builder) jsonElement(x string) string {
	if b.d == SQLite {
		return x + ".value"
	}
	return x + ".j"
}

func (b *builder) valuePath(k kind, vp store.ValuePath) (string, error) {
	p := vp.Path
	if p.URN == "" && p.Sub == "" {
		if k == users && p.Name == "emails" && emailsColumnsAnswer(vp.Filter) {
			return b.emailsExists(vp.Filter)
		}
		if k == groups && p.Name == "members" {
			inner, err := b.memberWhere(vp.Filter)
			if err != nil {
				return "", err
			}
			return "EXISTS (SELECT 1 FROM scim_members m WHERE m.tenant = r.tenant AND m.group_id = r.id AND " + inner + ")", nil
		}
	}
	x := b.newAlias()
	from := b.jsonValues("r.fdoc", "e", pathKey(store.Path{URN: p.URN, Name: p.Name}), x)
	inner, err := b.elementWhere(b.jsonElement(x), vp.Filter)
	if err != nil {
		return "", err
	}
	return "EXISTS (SELECT 1 FROM " + from + " WHERE " + inner + ")", nil
}

// elementWhere translates the filter of a value path against one element's
// index.
func (b *builder) elementWhere(elem string, f store.Filter) (string, error) {
	switch f := f.(type) {
	case nil:
		return sqlTrue, nil
	case store.And, store.Or:
		var l, r store.Filter
		op := "AND"
		if a, ok := f.(store.And); ok {
			l, r = a.Left, a.Right
		} else {
			o := f.(store.Or)
			l, r, op = o.Left, o.Right, "OR"
		}
		left, err := b.elementWhere(elem, l)
		if err != nil {
			return "", err
		}
		right, err := b.elementWhere(elem, r)
		if err != nil {
			return "", err
		}
		return "(" + left + " " + op + " " + right + ")", nil
	case store.Not:
		inner, err := b.elementWhere(elem, f.Filter)
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	case store.Compare:
		if f.Op == store.Ne {
			eq := f
			eq.Op = store.Eq
			inner, err := b.elementWhere(elem, eq)
			if err != nil {
				return "", err
			}
			return "(NOT " + inner + ")", nil
		}
		return b.jsonCompare(elem, f), nil
	}
	return "", fmt.Errorf("sqlstore: unsupported filter %T inside a value path", f)
}

// emailsColumnsAnswer reports whether every comparison in f is one the
// columns of scim_emails answer exactly.
func emailsColumnsAnswer(f store.Filter) bool {
	switch f := f.(type) {
	case store.And:
		return emailsColumnsAnswer(f.Left) && emailsColumnsAnswer(f.Right)
	case store.Or:
		return emailsColumnsAnswer(f.Left) && emailsColumnsAnswer(f.Right)
	case store.Not:
		return emailsColumnsAnswer(f.Filter)
	case store.Compare:
		if f.Path.URN != "" || f.Path.Sub != "" {
			return false
		}
		switch f.Path.Name {
		case "value", "type":
			return stringOp(f)
		case "primary":
			_, ok := f.Value.(bool)
			return ok && (f.Op == store.Eq || f.Op == store.Ne)
		}
	}
	return false
}

// emailsExists matches users with an element of emails matching f, which
// emailsColumnsAnswer accepts.
func (b *builder) emailsExists(f store.Filter) (string, error) {
	inner, err := b.emailWhere(f)
	if err != nil {
		return "", err
	}
	return "EXISTS (SELECT 1 FROM scim_emails e WHERE e.tenant = r.tenant AND e.user_id = r.id AND " + inner + ")", nil
}

func (b *builder) emailWhere(f store.Filter) (string, error) {
	switch f := f.(type) {
	case store.And:
		return b.childBinary(b.emailWhere, f.Left, f.Right, "AND")
	case store.Or:
		return b.childBinary(b.emailWhere, f.Left, f.Right, "OR")
	case store.Not:
		inner, err := b.emailWhere(f.Filter)
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	case store.Compare:
		if f.Op == store.Ne {
			eq := f
			eq.Op = store.Eq
			inner, err := b.emailWhere(eq)
			if err != nil {
				return "", err
			}
			return "(NOT " + inner + ")", nil
		}
		switch f.Path.Name {
		case "value":
			return b.stringColumn("e.value", "e.value_folded", f, false), nil
		case "type":
			return b.stringColumn("e.type", "e.type_folded", f, false), nil
		case "primary":
			want, _ := f.Value.(bool)
			if b.d == Postgres {
				return "(e.is_primary IS NOT NULL AND e.is_primary = " + b.bind(want) + ")", nil
			}
			v := 0
			if want {
				v = 1
			}
			return "(e.is_primary IS NOT NULL AND e.is_primary = " + b.bind(v) + ")", nil
		}
	}
	return "", fmt.Errorf("sqlstore: unsupported email filter %T", f)
}

func (b *builder) childBinary(w func(store.Filter) (string, error), l, r store.Filter, op string) (string, error) {
	left, err := w(l)
	if err != nil {
		return "", err
	}
	right, err := w(r)
	if err != nil {
		return "", err
	}
	return "(" + left + " " + op + " " + right + ")", nil
}

// membersCompare compares members, members.value or members.display of a
// group, as store.Group.Resolve resolves them: members.display skips empty
// displays.
func (b *builder) membersCompare(c store.Compare) string {
	switch c.Path.Sub {
	case "":
		if c.Op == store.Pr {
			return "EXISTS (SELECT 1 FROM scim_members m WHERE m.tenant = r.tenant AND m.group_id = r.id)"
		}
		return sqlFalse // members are complex values: no string equals one
	case "value":
		return "EXISTS (SELECT 1 FROM scim_members m WHERE m.tenant = r.tenant AND m.group_id = r.id AND " +
			b.stringColumn("m.user_id", "", c, false) + ")"
	case "display":
		return "EXISTS (SELECT 1 FROM scim_members m WHERE m.tenant = r.tenant AND m.group_id = r.id AND m.display <> '' AND " +
			b.stringColumn("m.display", "m.display_folded", c, false) + ")"
	}
	return sqlFalse
}

// memberWhere translates the filter of members[…] against one row of
// scim_members aliased m; elements have the sub-attributes value and
// display (possibly empty).
func (b *builder) memberWhere(f store.Filter) (string, error) {
	switch f := f.(type) {
	case nil:
		return sqlTrue, nil
	case store.And:
		return b.childBinary(b.memberWhere, f.Left, f.Right, "AND")
	case store.Or:
		return b.childBinary(b.memberWhere, f.Left, f.Right, "OR")
	case store.Not:
		inner, err := b.memberWhere(f.Filter)
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	case store.Compare:
		if f.Op == store.Ne {
			eq := f
			eq.Op = store.Eq
			inner, err := b.memberWhere(eq)
			if err != nil {
				return "", err
			}
			return "(NOT " + inner + ")", nil
		}
		if f.Path.URN != "" || f.Path.Sub != "" {
			return sqlFalse, nil
		}
		switch f.Path.Name {
		case "value":
			return b.stringColumn("m.user_id", "", f, false), nil
		case "display":
			return b.stringColumn("m.display", "m.display_folded", f, false), nil
		}
		return sqlFalse, nil
	}
	return "", fmt.Errorf("sqlstore: unsupported filter %T inside members[…]", f)
}

// orderBy returns the ORDER BY list for sorting by p, with resources
// lacking a value last when ascending and ties in creation order.
func (b *builder) orderBy(k kind, p store.Path, desc bool) string {
	if p.IsZero() {
		return "r.seq"
	}
	var keys []string
	if p.URN == "" {
		switch {
		case p.Name == "id" && p.Sub == "":
			keys = []string{b.lower("r.id"), "r.id"}
		case p.Name == "meta" && p.Sub == "created":
			keys = []string{"r.created"}
		case p.Name == "meta" && p.Sub == "lastModified":
			keys = []string{"r.last_modified"}
		case p.Name == "meta" && p.Sub == "version":
			keys = []string{"r.version"}
		case k == users && p.Name == "userName" && p.Sub == "":
			keys = []string{"r.user_name_folded", "r.user_name"}
		case k == groups && p.Name == "displayName" && p.Sub == "":
			keys = []string{"r.display_name_folded", "r.display_name"}
		}
	}
	if keys == nil {
		key := pathKey(p)
		switch b.d {
		case SQLite:
			keys = []string{"json_extract(r.fdoc, '$.o.\"" + key + "\"')"}
		case Postgres:
			keys = []string{"(r.fdoc -> 'o' ->> '" + key + "') COLLATE \"C\""}
		default:
			keys = []string{"CAST(JSON_UNQUOTE(JSON_EXTRACT(r.fdoc, '$.o.\"" + key + "\"')) AS BINARY)"}
		}
	}
	dir := ""
	if desc {
		dir = " DESC"
	}
	parts := []string{"(" + keys[0] + " IS NULL)" + dir}
	for _, k := range keys {
		parts = append(parts, k+dir)
	}
	parts = append(parts, "r.seq")
	return strings.Join(parts, ", ")
}
