package scim

import "github.com/scimkit/scim/internal/jsonenc"

// encodeJSON returns the JSON encoding of v, byte for byte as json.Marshal
// writes it, without reflection (see internal/jsonenc).
func encodeJSON(v any) ([]byte, error) { return jsonenc.Marshal(v) }
