package jsonenc

import "bytes"

// A Member is one top-level member of an encoded object: its key as
// written (without the quotes) and its value's bytes.
type Member struct {
	Key, Value []byte
}

// Members appends the members of raw, a JSON object as Append writes it
// (compact, keys sorted, no key needing an escape), to dst. It reports
// false when raw is not in that form: another key order, white space, an
// escaped key, or not an object at all. Empty raw is the empty object.
//
// Values are delimited, not validated: raw is trusted to be JSON (a store's
// own encoding); the form is checked because a merge depends on it.
func Members(raw []byte, dst []Member) ([]Member, bool) {
	if len(raw) == 0 {
		return dst, true
	}
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return dst, false
	}
	var prev []byte
	i := 1
	for i < len(raw)-1 {
		if raw[i] != '"' {
			return dst, false
		}
		end := bytes.IndexByte(raw[i+1:], '"')
		if end < 0 {
			return dst, false
		}
		key := raw[i+1 : i+1+end]
		if bytes.IndexByte(key, '\\') >= 0 || (prev != nil && bytes.Compare(prev, key) >= 0) {
			return dst, false
		}
		i += end + 2
		if i >= len(raw) || raw[i] != ':' {
			return dst, false
		}
		i++
		j, ok := skipValue(raw, i)
		if !ok || j == i || j >= len(raw) {
			return dst, false
		}
		dst = append(dst, Member{Key: key, Value: raw[i:j]})
		prev = key
		i = j
		if raw[i] == ',' {
			i++
			if i == len(raw)-1 {
				return dst, false // a trailing comma
			}
			continue
		}
		if i != len(raw)-1 {
			return dst, false
		}
	}
	return dst, true
}

// skipValue returns the index just past the compact JSON value starting at
// b[i], stopping before the comma or closing bracket that follows a scalar.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, ok := skipString(b, i)
				if !ok {
					return i, false
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			if b[j] <= ' ' || b[j] == '"' || b[j] == '{' || b[j] == '[' {
				return j, false
			}
			j++
		}
		return j, true
	}
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(b), false
}

// A Field is a member to merge into an encoded object: its key and its
// value, already encoded.
type Field struct {
	Key   string
	Value []byte
}

// AppendMerged appends the object holding the members of raw (as Members
// returns them, in order) and the fields, sorted by key, as Append would
// encode their union: keys sorted, and a field's value where both have a
// key. When raw is the encoding of a map m and each field's value is the
// encoding of v, the bytes are Append's of m with the fields set.
func AppendMerged(b []byte, raw []Member, fields []Field) []byte {
	b = append(b, '{')
	first := true
	comma := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	field := func(f Field) {
		comma()
		b = appendJSONString(b, f.Key)
		b = append(b, ':')
		b = append(b, f.Value...)
	}
	for _, m := range raw {
		for len(fields) > 0 && fields[0].Key < string(m.Key) {
			field(fields[0])
			fields = fields[1:]
		}
		if len(fields) > 0 && fields[0].Key == string(m.Key) {
			continue // the field replaces the member, written in its turn
		}
		comma()
		b = append(b, '"')
		b = append(b, m.Key...)
		b = append(b, '"', ':')
		b = append(b, m.Value...)
	}
	for _, f := range fields {
		field(f)
	}
	return append(b, '}')
}

// UseFunc calls build with an empty pooled buffer and fn with what build
// appended to it, which fn must not keep: the buffer is reused once fn
// returns. Nothing is called after build fails.
func UseFunc(build func([]byte) ([]byte, error), fn func([]byte)) error {
	bp := encodeBufs.Get().(*[]byte)
	b, err := build((*bp)[:0])
	if err != nil {
		encodeBufs.Put(bp)
		return err
	}
	fn(b)
	if cap(b) <= 1<<20 {
		*bp = b
		encodeBufs.Put(bp)
	}
	return nil
}
