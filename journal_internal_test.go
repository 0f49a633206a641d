package scim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/internal/schema"
)

// testUsers is the User resource type the summaries are made for.
var testUsers = schema.NewUser(nil)

// summarizeByDecoding is summarize as it was written first, decoding the
// body: the skimming summarize must describe every body the same way.
func summarizeByDecoding(rt *schema.ResourceType, method string, body []byte) string {
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
		return attributeNames(rt, keys)
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
		target := describePath(rt, op.Path)
		if op.Path == "" {
			var obj map[string]json.RawMessage
			if json.Unmarshal(op.Value, &obj) == nil {
				target = "{" + strings.Join(names(obj), ", ") + "}"
			}
		}
		var list []json.RawMessage
		if json.Unmarshal(op.Value, &list) == nil && len(list) > 0 {
			target += fmt.Sprintf(" (%d)", len(list))
		}
		parts = append(parts, opName(op.Op)+" "+target)
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
			if got, want := summarize(testUsers, method, []byte(body)), summarizeByDecoding(testUsers, method, []byte(body)); got != want {
				t.Errorf("summarize(%s, %s) = %q, want %q", method, body, got, want)
			}
		}
	}
}

// valueMarker stands for any value a client sends: FuzzSummarize places
// it anywhere in a body, and no summary may show it.
const valueMarker = "Zq9Marker"

// markedBodies put the marker where values and names go, in well-formed
// and malformed PATCH paths and keys.
var markedBodies = []string{
	`{"Operations":[{"op":"remove","path":"emails[value eq Zq9Marker]"}]}`,
	`{"Operations":[{"op":"remove","path":"emails[value eq \"Zq9Marker\"]"}]}`,
	`{"Operations":[{"op":"replace","path":"password Zq9Marker","value":"x"}]}`,
	`{"Operations":[{"op":"replace","path":"Zq9Marker","value":"x"}]}`,
	`{"Operations":[{"op":"replace","path":"emails[type eq \"work\" or value co Zq9Marker].Zq9Marker"}]}`,
	`{"Operations":[{"op":"replace","path":"emails[type Zq9Marker \"work\"].value"}]}`,
	`{"Operations":[{"op":"replace","path":"emails[type eq \"wo\\\"rk Zq9Marker].value"}]}`,
	`{"Operations":[{"op":"replace","path":"emails[Zq9Marker pr].value"}]}`,
	`{"Operations":[{"op":"replace","path":"members[value eq \"1\"] Zq9Marker"}]}`,
	`{"Operations":[{"op":"replace","path":"urn:Zq9Marker:manager"}]}`,
	`{"Operations":[{"op":"Zq9Marker","path":"active","value":false}]}`,
	`{"Operations":[{"op":"replace","value":{"Zq9Marker":1,"active":false,"name.Zq9Marker":"x"}}]}`,
	`{"userName":"a","Zq9Marker":"b","name":{"Zq9Marker":"c"}}`,
	`{"Zq9Marker":[{"op":"add"}]}`,
}

// TestSummaryCarriesNoValue: the summary names only operations,
// attributes of the schema and filter operators; a value, quoted or not,
// a key or path the schema does not define, an unknown operation, is
// never copied.
func TestSummaryCarriesNoValue(t *testing.T) {
	want := []string{
		"remove emails[value eq …]",
		"remove emails[value eq …]",
		"replace unknown-path",
		"replace unknown-path",
		"replace unknown-path",
		"replace emails[type … …].value",
		"replace emails[type eq …].value",
		"replace emails[… pr].value",
		"replace unknown-path",
		"replace unknown-path",
		"unknown-op active",
		"replace {active, 2 unknown}",
		"attributes: name, userName, 1 unknown",
		"attributes: 1 unknown",
	}
	var got []string
	for _, body := range markedBodies {
		method := "PATCH"
		if !strings.Contains(body, "Operations") {
			method = "POST"
		}
		got = append(got, summarize(testUsers, method, []byte(body)))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summaries (-want +got):\n%s", diff)
	}
}

// summaryWords are the words a summary may have, besides numbers: those of
// the schema's names and URNs, the operations' and the filters'.
var summaryWords = func() map[string]bool {
	words := map[string]bool{}
	add := func(s string) {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(":.", r) }) {
			words[w] = true
		}
	}
	var addAttrs func([]*schema.Attr)
	addAttrs = func(attrs []*schema.Attr) {
		for _, a := range attrs {
			add(a.Name)
			addAttrs(a.SubAttributes)
		}
	}
	for _, sc := range testUsers.Schemas() {
		add(sc.ID)
		addAttrs(sc.Attributes)
	}
	for _, name := range []string{"id", "externalId", "meta", "resourceType", "created", "lastModified", "location", "version"} {
		add(name)
	}
	for _, w := range []string{"attributes", "malformed", "body", "unknown", "unknown-op", "unknown-path", "more",
		"add", "replace", "remove", "and", "or", "not", "pr", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"} {
		words[w] = true
	}
	return words
}()

// checkSummary fails unless every word of sum is one a summary may have.
func checkSummary(t *testing.T, body, sum string) {
	t.Helper()
	if strings.Contains(strings.ToLower(sum), strings.ToLower(valueMarker)) {
		t.Fatalf("summary of %q shows the marker: %q", body, sum)
	}
	for _, w := range strings.FieldsFunc(sum, func(r rune) bool { return strings.ContainsRune(" ,;:.{}[]()…", r) }) {
		if _, err := strconv.Atoi(w); err != nil && !summaryWords[w] {
			t.Fatalf("summary of %q has %q, which is not a name of the schema: %q", body, w, sum)
		}
	}
}

func FuzzSummarize(f *testing.F) {
	for _, b := range summaryBodies {
		f.Add(b, uint(0))
	}
	for _, b := range markedBodies {
		f.Add(strings.ReplaceAll(b, valueMarker, ""), uint(strings.Index(b, valueMarker)))
	}
	f.Fuzz(func(t *testing.T, body string, at uint) {
		for _, method := range []string{"POST", "PATCH"} {
			got, want := summarize(testUsers, method, []byte(body)), summarizeByDecoding(testUsers, method, []byte(body))
			// Decoding takes the last of duplicate keys and skips ops
			// whose op or path is not a string; only compare bodies
			// without those.
			if got != want && !strings.Contains(body, `\`) {
				var ops struct {
					Operations []struct{ Op, Path string }
				}
				if json.Unmarshal([]byte(body), &ops) == nil {
					t.Fatalf("summarize(%s, %q) = %q, want %q", method, body, got, want)
				}
			}
			// Whatever the body, and wherever a value is, the summary
			// has only the schema's words, never the value.
			i := int(at % uint(len(body)+1))
			marked := body[:i] + valueMarker + body[i:]
			checkSummary(t, body, got)
			checkSummary(t, marked, summarize(testUsers, method, []byte(marked)))
		}
	})
}
