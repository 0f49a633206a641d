// Package jsonenc encodes decoded JSON values (map[string]any, []any,
// string, float64, bool, nil) byte for byte as json.Marshal does, without
// reflection.
package jsonenc

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Responses and stored documents are built as map[string]any and []any of
// decoded JSON values. Append encodes them byte for byte as json.Marshal does (keys sorted,
// HTML characters escaped, the same float format), without reflection:
// encoding was the largest cost of a GET. Values of other types go through
// json.Marshal.

// Appender is a value that appends its own JSON encoding, which must be
// one valid JSON value. Append calls it rather than json.Marshal.
type Appender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// Marshal returns the JSON encoding of v.
func Marshal(v any) ([]byte, error) {
	bp := encodeBufs.Get().(*[]byte)
	b, err := Append((*bp)[:0], v)
	if err != nil {
		encodeBufs.Put(bp)
		return nil, err
	}
	out := slices.Clone(b)
	if cap(b) <= 1<<20 {
		*bp = b
		encodeBufs.Put(bp)
	}
	return out, nil
}

// Use encodes v into a pooled buffer and calls fn with the encoding, which
// fn must not keep: the buffer is reused once fn returns. It saves the copy
// Marshal makes.
func Use(v any, fn func([]byte)) error {
	return UseFunc(func(b []byte) ([]byte, error) { return Append(b, v) }, fn)
}

var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Append appends the JSON encoding of v to b.
func Append(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case float64:
		return appendJSONFloat(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case json.Number:
		if v == "" {
			return append(b, '0'), nil
		}
		if !isValidJSONNumber(string(v)) {
			break
		}
		return append(b, v...), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendJSONObject(b, v)
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = Append(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e)
		}
		return append(b, ']'), nil
	case Appender:
		return v.AppendJSON(b)
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

func appendJSONObject(b []byte, m map[string]any) ([]byte, error) {
	var small [16]string
	keys := sortedKeys(m, small[:0])
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = Append(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// sortedKeys appends m's keys to dst, sorted as json.Marshal sorts them.
func sortedKeys(m map[string]any, dst []string) []string {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, as json.Marshal encodes it.
func AppendString(b []byte, s string) []byte { return appendJSONString(b, s) }

// AppendConcat appends the concatenation of parts as one JSON string,
// without building the concatenation: JSON escapes characters one by one,
// so the escaped parts make the escaped whole, provided each part is valid
// UTF-8 (or at least ends and begins on whole characters).
func AppendConcat(b []byte, parts ...string) []byte {
	b = append(b, '"')
	for _, p := range parts {
		b = appendEscaped(b, p)
	}
	return append(b, '"')
}

// AppendEscaped appends s escaped as inside a JSON string, without the
// quotes.
func AppendEscaped(b []byte, s string) []byte { return appendEscaped(b, s) }

// appendJSONString is encoding/json's string encoding with HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// safe marks the ASCII characters a JSON string holds as they are (with
// HTML escaping, as json.Marshal does): not control characters, the quote,
// the backslash, or < > &.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendEscaped appends s escaped as inside a JSON string.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// appendJSONFloat is encoding/json's float64 encoding.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		_, err := json.Marshal(f) // the same error json.Marshal reports
		return nil, err
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// isValidJSONNumber reports whether s is a JSON number literal.
// ValidNumber reports whether s is a JSON number (RFC 8259 §6), which
// strconv.ParseFloat's syntax is wider than ("00", "1.", "1_0", "0x1p3").
func ValidNumber(s string) bool { return isValidJSONNumber(s) }

func isValidJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}
