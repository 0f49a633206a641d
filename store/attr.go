package store

import (
	"strings"
	"time"
)

// AttrValue returns the value of an attribute in attrs (a User's or a
// Group's Attributes): the attribute name of the schema urn, "" for the
// core schema. name may be "attr.sub" for a sub-attribute of a singular
// complex attribute. Names and the URN match in any letter case (the
// handler stores them as declared). ok is false when the attribute is
// absent or null.
//
// A declared extension attribute is read with its URN:
//
//	tier, ok := store.AttrString(u.Attributes, "urn:ietf:params:scim:schemas:extension:acme:2.0:User", "licenseTier")
func AttrValue(attrs Attributes, urn, name string) (v any, ok bool) {
	m := map[string]any(attrs)
	if urn != "" {
		if m, ok = member(m, urn).(map[string]any); !ok {
			return nil, false
		}
	}
	top, sub, hasSub := strings.Cut(name, ".")
	v = member(m, top)
	if hasSub {
		c, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		v = member(c, sub)
	}
	return v, v != nil
}

// member returns m[key], or the value of a key equal to key ignoring case.
func member(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// AttrString returns a string, reference, binary or dateTime attribute
// (see AttrValue); ok is false when it is absent or not a string.
func AttrString(attrs Attributes, urn, name string) (string, bool) {
	v, _ := AttrValue(attrs, urn, name)
	s, ok := v.(string)
	return s, ok
}

// AttrBool returns a boolean attribute (see AttrValue); ok is false when it
// is absent or not a boolean.
func AttrBool(attrs Attributes, urn, name string) (bool, bool) {
	v, _ := AttrValue(attrs, urn, name)
	b, ok := v.(bool)
	return b, ok
}

// AttrNumber returns an integer or decimal attribute (see AttrValue),
// whether stored as float64 or json.Number; ok is false when it is absent
// or not a number.
func AttrNumber(attrs Attributes, urn, name string) (float64, bool) {
	v, _ := AttrValue(attrs, urn, name)
	return Number(v)
}

// AttrTime returns a dateTime attribute (see AttrValue), stored as RFC 3339
// text; ok is false when it is absent or not such a time.
func AttrTime(attrs Attributes, urn, name string) (time.Time, bool) {
	v, _ := AttrValue(attrs, urn, name)
	return timeValue(v)
}

// AttrList returns the values of a multi-valued attribute (see AttrValue),
// each a string, bool, float64 or map[string]any for a complex one; nil
// when it is absent.
func AttrList(attrs Attributes, urn, name string) []any {
	v, _ := AttrValue(attrs, urn, name)
	list, _ := v.([]any)
	return list
}
