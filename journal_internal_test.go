package scim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// summarizeByDecoding is summarize as it was written first, decoding the
// body: the skimming summarize must describe every body the same way.
func summarizeByDecoding(method string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return "malformed body"
	}
	names := func(obj map[string]json.RawMessage) []string {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return attributeNames(keys)
	}
	if method != "PATCH" {
		return "attributes: " + strings.Join(names(doc), ", ")
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	for k, v := range doc {
		if strings.EqualFold(k, "Operations") {
			_ = json.Unmarshal(v, &ops)
		}
	}
	parts := make([]string, 0, len(ops))
	for _, op := range ops {
		target := redactPath(op.Path)
		if target == "" {
			var obj map[string]json.RawMessage
			if json.Unmarshal(op.Value, &obj) == nil {
				target = "{" + strings.Join(names(obj), ", ") + "}"
			}
		}
		var list []json.RawMessage
		if json.Unmarshal(op.Value, &list) == nil && len(list) > 0 {
			target += fmt.Sprintf(" (%d)", len(list))
		}
		parts = append(parts, strings.ToLower(op.Op)+" "+target)
	}
	if len(parts) > 10 {
		parts = append(parts[:10], fmt.Sprintf("… %d more", len(parts)-10))
	}
	return strings.Join(parts, "; ")
}

var summaryBodies = []string{
	``, `{`, `[]`, `"x"`, `{}`, ` {"userName" : "a", "password":"p", "schemas":[], "name":{"givenName":"G"}} `,
	`{"b":1,"a":[1,{"x":"}"}],"c":"q\"uote","d":null,"e":true,"f":-1.5e3}`,
	`{"a\u0041":1,"dup":1,"dup":2}`,
	`{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"s@x.com"},{"op":"replace","value":{"active":false,"name.givenName":"x"}}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"1"},{"value":"2"}]}]}`,
	`{"operations":[{"OP":"Remove","PATH":"members[value eq \"1\"]"}, {"op":"add","value":[]}, {"op":"add","value":[1]}]}`,
	`{"Operations":[1,2,{"op":"x"},{"op":"y"},{"op":"z"},{"op":"a"},{"op":"b"},{"op":"c"},{"op":"d"},{"op":"e"},{"op":"f"},{"op":"g"}]}`,
}

func TestSummarizeSkimsAsDecodingDescribes(t *testing.T) {
	for _, method := range []string{"POST", "PATCH"} {
		for _, body := range summaryBodies {
			if got, want := summarize(method, []byte(body)), summarizeByDecoding(method, []byte(body)); got != want {
				t.Errorf("summarize(%s, %s) = %q, want %q", method, body, got, want)
			}
		}
	}
}

func FuzzSummarize(f *testing.F) {
	for _, b := range summaryBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, method := range []string{"POST", "PATCH"} {
			got, want := summarize(method, []byte(body)), summarizeByDecoding(method, []byte(body))
			// Decoding takes the last of duplicate keys and skips ops
			// whose op or path is not a string; only compare bodies
			// without those.
			if got != want && !strings.Contains(body, `\`) {
				var ops struct {
					Operations []struct{ Op, Path string }
				}
				if json.Unmarshal([]byte(body), &ops) != nil {
					return
				}
				t.Fatalf("summarize(%s, %q) = %q, want %q", method, body, got, want)
			}
		}
	})
}
