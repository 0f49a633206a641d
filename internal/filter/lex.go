package filter

import (
	"strconv"
	"strings"

	"github.com/scimkit/scim/internal/scimerr"
)

// The pre-pass below reads the filter once before the grammar parser sees
// it. It exists for four reasons the pinned grammar (filter-parser v2.2.1)
// does not cover:
//
//   - Limits: it counts nesting depth and nodes, so that an adversarial
//     filter is refused before a recursive parser runs over it.
//   - Tolerance: Microsoft's SCIM validator sends unquoted values
//     (`userName sw O`, `emails.Value co example.com`). A bare value after a
//     comparison operator that is not a JSON literal (true, false, null, a
//     number) is quoted. In a valid filter the token after an operator is
//     always a JSON literal or a string, so a valid filter is never changed
//     in meaning; only whitespace is normalised to single spaces.
//   - Value filters: the grammar only allows "attrExp [and|or] attrExp"
//     inside brackets and no `attr[...].sub op value`. Each value path is
//     cut out, replaced by a placeholder attribute, and its inner filter is
//     parsed on its own with the full grammar.
//   - Errors: syntax errors are reported with a byte position and a short
//     reason rather than the grammar library's internal description.

type tokKind uint8

const (
	tWord tokKind = iota
	tString
	tLParen
	tRParen
	tLBrack
	tRBrack
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the original expression
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lex splits expr into tokens. Words run until whitespace, a parenthesis, a
// bracket or a quote.
func lex(expr string, base int) ([]token, *scimerr.Error) {
	toks := make([]token, 0, 8)
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case isSpace(c):
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", base + i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", base + i})
			i++
		case c == '[':
			toks = append(toks, token{tLBrack, "[", base + i})
			i++
		case c == ']':
			toks = append(toks, token{tRBrack, "]", base + i})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(expr); j++ {
				if expr[j] == '\\' {
					j++
					continue
				}
				if expr[j] == '"' {
					break
				}
			}
			if j >= len(expr) {
				return nil, syntaxErr(base+i, "unterminated string")
			}
			toks = append(toks, token{tString, expr[i : j+1], base + i})
			i = j + 1
		default:
			j := i
			for j < len(expr) && !isSpace(expr[j]) && !strings.ContainsRune("()[]\"", rune(expr[j])) {
				j++
			}
			toks = append(toks, token{tWord, expr[i:j], base + i})
			i = j
		}
	}
	return toks, nil
}

func syntaxErr(pos int, format string, args ...any) *scimerr.Error {
	e := scimerr.BadRequest(scimerr.InvalidFilter, format, args...)
	e.Detail = "invalid filter: " + e.Detail + " at position " + strconv.Itoa(pos)
	return e
}

// valuePathSeg is one `attr[inner](.sub)?` cut out of the filter.
type valuePathSeg struct {
	attr  string // attribute path before '['
	inner string // rewritten inner filter
	sub   string // sub-attribute after ']', or ""
	pos   int
}

type prepass struct {
	toks   []token
	i      int
	depth  int
	nodes  int
	lim    Limits
	ph     string // placeholder prefix
	vps    []valuePathSeg
	inVP   bool
	length int
}

func (p *prepass) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *prepass) eofPos() int { return p.length }

func (p *prepass) countNode(pos int) *scimerr.Error {
	p.nodes++
	if p.nodes > p.lim.maxNodes() {
		return limitErr("filter has more than %d terms", p.lim.maxNodes())
	}
	return nil
}

func (p *prepass) enter() *scimerr.Error {
	p.depth++
	if p.depth > p.lim.maxDepth() {
		return limitErr("filter nests deeper than %d levels", p.lim.maxDepth())
	}
	return nil
}

func limitErr(format string, args ...any) *scimerr.Error {
	e := scimerr.BadRequest(scimerr.InvalidFilter, format, args...)
	e.Detail = "invalid filter: " + e.Detail
	return e
}

// filter reads `term ((and|or) term)*` and writes it to out. It stops
// before a ')' or ']' or at the end.
func (p *prepass) filter(out *strings.Builder) *scimerr.Error {
	for {
		if err := p.term(out); err != nil {
			return err
		}
		t := p.peek()
		if t == nil || t.kind == tRParen || t.kind == tRBrack {
			return nil
		}
		if t.kind != tWord || !(strings.EqualFold(t.text, "and") || strings.EqualFold(t.text, "or")) {
			return syntaxErr(t.pos, "expected \"and\", \"or\" or the end of the filter, got %q", t.text)
		}
		if err := p.countNode(t.pos); err != nil {
			return err
		}
		out.WriteByte(' ')
		out.WriteString(strings.ToLower(t.text))
		out.WriteByte(' ')
		p.i++
	}
}

func (p *prepass) paren(out *strings.Builder) *scimerr.Error {
	open := p.toks[p.i]
	p.i++
	if err := p.enter(); err != nil {
		return err
	}
	out.WriteByte('(')
	if err := p.filter(out); err != nil {
		return err
	}
	t := p.peek()
	if t == nil || t.kind != tRParen {
		return syntaxErr(open.pos, "unbalanced parenthesis")
	}
	p.i++
	p.depth--
	out.WriteByte(')')
	return nil
}

func (p *prepass) term(out *strings.Builder) *scimerr.Error {
	t := p.peek()
	if t == nil {
		return syntaxErr(p.eofPos(), "unexpected end of filter")
	}
	switch t.kind {
	case tLParen:
		return p.paren(out)
	case tWord:
	default:
		return syntaxErr(t.pos, "unexpected %q", t.text)
	}
	if strings.EqualFold(t.text, "not") && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tLParen {
		if err := p.countNode(t.pos); err != nil {
			return err
		}
		p.i++
		out.WriteString("not ")
		return p.paren(out)
	}
	attr := *t
	if !validAttrPath(attr.text) {
		return syntaxErr(attr.pos, "invalid attribute path %q", attr.text)
	}
	p.i++
	if err := p.countNode(attr.pos); err != nil {
		return err
	}
	if n := p.peek(); n != nil && n.kind == tLBrack {
		return p.valuePath(out, attr)
	}
	out.WriteString(attr.text)
	return p.comparison(out, attr)
}

// valuePath handles `attr[inner]` optionally followed by `.sub op value`.
func (p *prepass) valuePath(out *strings.Builder, attr token) *scimerr.Error {
	open := p.toks[p.i]
	if p.inVP {
		return syntaxErr(open.pos, "nested value filter")
	}
	if strings.Contains(attr.text, ".") && !strings.HasPrefix(strings.ToLower(attr.text), "urn:") {
		return syntaxErr(attr.pos, "value filter on sub-attribute %q", attr.text)
	}
	p.i++
	if err := p.enter(); err != nil {
		return err
	}
	var inner strings.Builder
	p.inVP = true
	if err := p.filter(&inner); err != nil {
		return err
	}
	p.inVP = false
	t := p.peek()
	if t == nil || t.kind != tRBrack {
		return syntaxErr(open.pos, "unbalanced bracket")
	}
	p.depth--
	p.i++
	seg := valuePathSeg{attr: attr.text, inner: inner.String(), pos: attr.pos}
	name := p.ph + strconv.Itoa(len(p.vps))
	if n := p.peek(); n != nil && n.kind == tWord && n.pos == t.pos+1 && strings.HasPrefix(n.text, ".") {
		seg.sub = n.text[1:]
		if !validName(seg.sub) {
			return syntaxErr(n.pos, "invalid sub-attribute %q", n.text)
		}
		p.i++
		p.vps = append(p.vps, seg)
		out.WriteString(name)
		out.WriteByte('.')
		out.WriteString(seg.sub)
		return p.comparison(out, attr)
	}
	p.vps = append(p.vps, seg)
	out.WriteString(name)
	out.WriteString(" pr")
	return nil
}

var compareOps = [...]string{"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "pr"}

func isCompareOp(s string) bool {
	for _, op := range compareOps {
		if strings.EqualFold(s, op) {
			return true
		}
	}
	return false
}

// comparison reads `op value` or `pr` after an attribute path.
func (p *prepass) comparison(out *strings.Builder, attr token) *scimerr.Error {
	op := p.peek()
	if op == nil {
		return syntaxErr(p.eofPos(), "expected an operator after %q", attr.text)
	}
	if op.kind != tWord || !isCompareOp(op.text) {
		return syntaxErr(op.pos, "expected an operator after %q, got %q", attr.text, op.text)
	}
	p.i++
	out.WriteByte(' ')
	out.WriteString(strings.ToLower(op.text))
	if strings.EqualFold(op.text, "pr") {
		return nil
	}
	v := p.peek()
	if v == nil {
		return syntaxErr(p.eofPos(), "expected a value after %q", op.text)
	}
	out.WriteByte(' ')
	switch v.kind {
	case tString:
		out.WriteString(v.text)
		p.i++
		return nil
	case tWord:
	default:
		return syntaxErr(v.pos, "expected a value after %q, got %q", op.text, v.text)
	}
	p.i++
	text := v.text
	if isJSONLiteral(text) {
		out.WriteString(text)
		return nil
	}
	// A timestamp whose "+hh:mm" offset lost its '+' to form decoding
	// ("2015-10-10T14:38:21 02:00"): put the sign back.
	if n := p.peek(); n != nil && n.kind == tWord && n.pos == v.pos+len(text)+1 && isBareDateTime(text) && isZone(n.text) {
		text += "+" + n.text
		p.i++
	}
	quoteJSON(out, text)
	return nil
}

func isJSONLiteral(s string) bool {
	if strings.EqualFold(s, "true") || strings.EqualFold(s, "false") || strings.EqualFold(s, "null") {
		return true
	}
	return isJSONNumber(s)
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isBareDateTime reports whether s looks like "2015-10-10T14:38:21[.frac]"
// with no zone.
func isBareDateTime(s string) bool {
	if len(s) < 19 || s[10] != 'T' && s[10] != 't' {
		return false
	}
	for i, c := range []byte(s[:19]) {
		switch i {
		case 4, 7:
			if c != '-' {
				return false
			}
		case 13, 16:
			if c != ':' {
				return false
			}
		case 10:
		default:
			if !isDigit(c) {
				return false
			}
		}
	}
	rest := s[19:]
	if rest == "" {
		return true
	}
	if rest[0] != '.' || len(rest) == 1 {
		return false
	}
	for _, c := range []byte(rest[1:]) {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isZone(s string) bool {
	return len(s) == 5 && isDigit(s[0]) && isDigit(s[1]) && s[2] == ':' && isDigit(s[3]) && isDigit(s[4])
}

// quoteJSON writes s as a JSON string. Bare words hold no quote and no
// whitespace, so only backslashes and control characters need escaping.
func quoteJSON(out *strings.Builder, s string) {
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '"':
			out.WriteByte('\\')
			out.WriteByte(c)
		case c < 0x20:
			out.WriteString(`\u00`)
			out.WriteByte("0123456789ABCDEF"[c>>4])
			out.WriteByte("0123456789ABCDEF"[c&0xF])
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte('"')
}

// validName reports whether s matches ATTRNAME (with the "$ref" form).
func validName(s string) bool {
	if strings.HasPrefix(s, "$") {
		s = s[1:]
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validAttrPath reports whether s matches [URI ":"] ATTRNAME ["." ATTRNAME].
func validAttrPath(s string) bool {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		uri := s[:i]
		for _, seg := range strings.Split(uri, ":") {
			if seg == "" {
				return false
			}
			for j := 0; j < len(seg); j++ {
				c := seg[j]
				if !isAlpha(c) && !isDigit(c) && c != '-' && c != '.' {
					return false
				}
			}
		}
		s = s[i+1:]
	}
	name, sub, hasSub := strings.Cut(s, ".")
	if !validName(name) {
		return false
	}
	return !hasSub || validName(sub)
}
