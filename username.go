package scim

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/scimkit/scim/store"
)

// normalizeUserName returns a userName as it is stored: without leading
// and trailing white space, in Unicode normalization form C. It refuses a
// name with a control character (category Cc: tab, newline, …) or an
// invisible format character (category Cf: zero-width space and joiners,
// bidirectional controls, …), which would let two names that look the same
// differ. Uniqueness and case-insensitive matching then compare
// store.Fold of the result.
func normalizeUserName(name string) (string, error) {
	name = strings.TrimSpace(name)
	for i, r := range name {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
				Detail: fmt.Sprintf("userName has an invisible or control character (%U) at byte %d", r, i)}
		}
	}
	return nfc(name), nil
}

// nfc returns s in normalization form C, or s itself where x/text's
// composition would change the text rather than its form (it composes a
// supplementary-plane letter followed by a combining mark as a Basic
// Multilingual Plane one).
func nfc(s string) string {
	if norm.NFC.QuickSpanString(s) == len(s) {
		return s
	}
	c := norm.NFC.String(s)
	if norm.NFD.String(c) != norm.NFD.String(s) {
		return s
	}
	return c
}

// trimEmails trims the white space around each emails[].value of attrs:
// an address never has any, and IdPs that send some mean the address.
// Elements are copied before they change, never changed in place.
func trimEmails(attrs store.Attributes) {
	list, ok := attrs["emails"].([]any)
	if !ok {
		return
	}
	var out []any
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		v, ok := m["value"].(string)
		if !ok || strings.TrimSpace(v) == v {
			continue
		}
		if out == nil {
			out = append([]any(nil), list...)
		}
		c := make(map[string]any, len(m))
		for k, x := range m {
			c[k] = x
		}
		c["value"] = strings.TrimSpace(v)
		out[i] = c
	}
	if out != nil {
		attrs["emails"] = out
	}
}
