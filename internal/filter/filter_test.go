package filter

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

const ent = schema.EnterpriseURN

var (
	users  = schema.NewUser([]*schema.Attr{{Name: "memberRole", Type: schema.String, Mutability: schema.ReadWrite, Returned: schema.Default}})
	groups = schema.NewGroup(nil)
)

func cmpf(name string, op store.Op, v any, caseExact bool) store.Compare {
	return store.Compare{Path: store.Path{Name: name}, Op: op, Value: v, CaseExact: caseExact}
}

func cmpp(p store.Path, op store.Op, v any, caseExact bool) store.Compare {
	return store.Compare{Path: p, Op: op, Value: v, CaseExact: caseExact}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	emails := store.Path{Name: "emails"}
	tests := []struct {
		name string
		rt   *schema.ResourceType
		expr string
		want store.Filter
	}{
		{"eq", users, `userName eq "bjensen"`, cmpf("userName", store.Eq, "bjensen", false)},
		{"operator and name in any case", users, `USERNAME EQ "bjensen"`, cmpf("userName", store.Eq, "bjensen", false)},
		{"mixed case operator", users, `userName Eq "x"`, cmpf("userName", store.Eq, "x", false)},
		{"surrounding whitespace", users, "  userName eq \"x\"\t\n", cmpf("userName", store.Eq, "x", false)},
		{"several spaces and tabs", users, "userName\teq   \"x\"", cmpf("userName", store.Eq, "x", false)},
		{"escaped quote", users, `userName eq "a\"b\\c"`, cmpf("userName", store.Eq, `a"b\c`, false)},
		{"unicode escape", users, `userName eq "caf\u00E9"`, cmpf("userName", store.Eq, "café", false)},
		{"plus kept as is", users, `userName eq "a+b@x.com"`, cmpf("userName", store.Eq, "a+b@x.com", false)},
		{"id is case exact", users, `id eq "2819c223"`, cmpf("id", store.Eq, "2819c223", true)},
		{"externalId is case exact", users, `externalId eq "00u1"`, cmpf("externalId", store.Eq, "00u1", true)},
		{"sub-attribute", users, `name.familyName co "O'Malley"`,
			cmpp(store.Path{Name: "name", Sub: "familyName"}, store.Co, "O'Malley", false)},
		{"sub-attribute any case", users, `NAME.FAMILYNAME sw "J"`,
			cmpp(store.Path{Name: "name", Sub: "familyName"}, store.Sw, "J", false)},
		{"core URN prefix", users, `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName ew "n"`,
			cmpp(store.Path{Name: "name", Sub: "familyName"}, store.Ew, "n", false)},
		{"extension attribute", users, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D"`,
			cmpp(store.Path{URN: ent, Name: "department"}, store.Eq, "R&D", false)},
		{"extension sub-attribute", users, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`,
			cmpp(store.Path{URN: ent, Name: "manager", Sub: "value"}, store.Eq, "26118915", false)},
		{"extension URN in other case", users, `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT pr`,
			cmpp(store.Path{URN: ent, Name: "department"}, store.Pr, nil, false)},
		{"app attribute", users, `memberRole eq "admin"`, cmpf("memberRole", store.Eq, "admin", false)},
		{"present", users, `title pr`, cmpf("title", store.Pr, nil, false)},
		{"present on complex multi-valued", users, `emails pr`, cmpf("emails", store.Pr, nil, false)},
		{"boolean", users, `active eq true`, cmpf("active", store.Eq, true, false)},
		{"boolean upper case literal", users, `active eq TRUE`, cmpf("active", store.Eq, true, false)},
		{"boolean as string", users, `active eq "False"`, cmpf("active", store.Eq, false, false)},
		{"boolean as bare word", users, `active ne False`, cmpf("active", store.Ne, false, false)},
		{"number compared with string attribute", users, `userName eq 12345`, cmpf("userName", store.Eq, "12345", false)},
		{"decimal compared with string attribute", users, `userName eq 1.5`, cmpf("userName", store.Eq, "1.5", false)},
		{"boolean compared with string attribute", users, `title eq true`, cmpf("title", store.Eq, "true", false)},
		{"eq null means absent", users, `title eq null`, store.Not{Filter: cmpf("title", store.Pr, nil, false)}},
		{"ne null means present", users, `title ne null`, cmpf("title", store.Pr, nil, false)},
		{"dateTime", users, `meta.lastModified gt "2011-05-13T04:42:34Z"`,
			cmpp(store.Path{Name: "meta", Sub: "lastModified"}, store.Gt, mustTime("2011-05-13T04:42:34Z"), false)},
		{"dateTime with fraction and offset", users, `meta.created ge "2015-10-10T14:38:21.8617979-07:00"`,
			cmpp(store.Path{Name: "meta", Sub: "created"}, store.Ge, mustTime("2015-10-10T14:38:21.8617979-07:00"), false)},
		{"bare dateTime (Microsoft)", users, `meta.Created gt 2015-10-10T14:38:21.8617979-07:00`,
			cmpp(store.Path{Name: "meta", Sub: "created"}, store.Gt, mustTime("2015-10-10T14:38:21.8617979-07:00"), false)},
		{"bare dateTime whose plus became a space", users, `meta.created gt 2015-10-10T14:38:21 02:00`,
			cmpp(store.Path{Name: "meta", Sub: "created"}, store.Gt, mustTime("2015-10-10T14:38:21+02:00"), false)},
		{"dateTime without zone is UTC", users, `meta.created lt "2015-10-10T14:38:21"`,
			cmpp(store.Path{Name: "meta", Sub: "created"}, store.Lt, mustTime("2015-10-10T14:38:21Z"), false)},
		{"bare word value (Microsoft)", users, `userName sw O`, cmpf("userName", store.Sw, "O", false)},
		{"Microsoft unquoted collection", users,
			`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
			store.And{
				Left: cmpp(store.Path{Name: "name", Sub: "familyName"}, store.Eq, "Employee", false),
				Right: store.Or{
					Left:  cmpp(store.Path{Name: "emails", Sub: "value"}, store.Co, "example.com", false),
					Right: cmpp(store.Path{Name: "emails", Sub: "value"}, store.Co, "example.org", false),
				},
			}},
		{"bare word with backslash", users, `userName eq dom\user`, cmpf("userName", store.Eq, `dom\user`, false)},
		{"complex multi-valued without sub uses value", users, `emails co "@example.com"`,
			cmpp(store.Path{Name: "emails", Sub: "value"}, store.Co, "@example.com", false)},
		{"group members without sub uses value", groups, `members eq "2819c223"`,
			cmpp(store.Path{Name: "members", Sub: "value"}, store.Eq, "2819c223", false)},
		{"group displayName", groups, `displayName eq "Admins"`, cmpf("displayName", store.Eq, "Admins", false)},
		{"and binds tighter than or", users, `title pr and userType eq "Employee" or nickName eq "x"`,
			store.Or{
				Left:  store.And{Left: cmpf("title", store.Pr, nil, false), Right: cmpf("userType", store.Eq, "Employee", false)},
				Right: cmpf("nickName", store.Eq, "x", false),
			}},
		{"and binds tighter than or on the right", users, `title pr or userType eq "Employee" and nickName eq "x"`,
			store.Or{
				Left:  cmpf("title", store.Pr, nil, false),
				Right: store.And{Left: cmpf("userType", store.Eq, "Employee", false), Right: cmpf("nickName", store.Eq, "x", false)},
			}},
		{"logical operators in upper case", users, `title pr AND nickName pr OR locale pr`,
			store.Or{
				Left:  store.And{Left: cmpf("title", store.Pr, nil, false), Right: cmpf("nickName", store.Pr, nil, false)},
				Right: cmpf("locale", store.Pr, nil, false),
			}},
		{"parentheses", users, `title pr and (userType eq "Employee" or userType eq "Intern")`,
			store.And{
				Left: cmpf("title", store.Pr, nil, false),
				Right: store.Or{
					Left:  cmpf("userType", store.Eq, "Employee", false),
					Right: cmpf("userType", store.Eq, "Intern", false),
				},
			}},
		{"not", users, `not (title pr)`, store.Not{Filter: cmpf("title", store.Pr, nil, false)}},
		{"not without space", users, `NOT(title pr) and active eq true`,
			store.And{Left: store.Not{Filter: cmpf("title", store.Pr, nil, false)}, Right: cmpf("active", store.Eq, true, false)}},
		{"value path", users, `emails[type eq "work" and value co "@example.com"]`,
			store.ValuePath{Path: emails, Filter: store.And{
				Left:  cmpf("type", store.Eq, "work", false),
				Right: cmpf("value", store.Co, "@example.com", false),
			}}},
		{"value path with three terms", users, `emails[type eq "work" and value co "@x.com" and primary eq true]`,
			store.ValuePath{Path: emails, Filter: store.And{
				Left: store.And{
					Left:  cmpf("type", store.Eq, "work", false),
					Right: cmpf("value", store.Co, "@x.com", false),
				},
				Right: cmpf("primary", store.Eq, true, false),
			}}},
		{"value path with not and parentheses", users, `emails[not (type eq "work") and (value ew ".org" or value ew ".com")]`,
			store.ValuePath{Path: emails, Filter: store.And{
				Left: store.Not{Filter: cmpf("type", store.Eq, "work", false)},
				Right: store.Or{
					Left:  cmpf("value", store.Ew, ".org", false),
					Right: cmpf("value", store.Ew, ".com", false),
				},
			}}},
		{"value path names in any case", users, `EMAILS[TYPE eq "work"]`,
			store.ValuePath{Path: emails, Filter: cmpf("type", store.Eq, "work", false)}},
		{"value path with primary as string", users, `emails[primary eq "True"]`,
			store.ValuePath{Path: emails, Filter: cmpf("primary", store.Eq, true, false)}},
		{"value path then sub-attribute comparison", users, `emails[type eq "work"].value eq "x@example.com"`,
			store.ValuePath{Path: emails, Filter: store.And{
				Left:  cmpf("type", store.Eq, "work", false),
				Right: cmpf("value", store.Eq, "x@example.com", false),
			}}},
		{"value path combined with others", users, `userType eq "Employee" and emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			store.Or{
				Left: store.And{
					Left: cmpf("userType", store.Eq, "Employee", false),
					Right: store.ValuePath{Path: emails, Filter: store.And{
						Left:  cmpf("type", store.Eq, "work", false),
						Right: cmpf("value", store.Co, "@example.com", false),
					}},
				},
				Right: store.ValuePath{Path: store.Path{Name: "ims"}, Filter: store.And{
					Left:  cmpf("type", store.Eq, "xmpp", false),
					Right: cmpf("value", store.Co, "@foo.com", false),
				}},
			}},
		{"value path with bare values", users, `emails[type eq work]`,
			store.ValuePath{Path: emails, Filter: cmpf("type", store.Eq, "work", false)}},
		{"group member value path", groups, `members[value eq "2819c223"]`,
			store.ValuePath{Path: store.Path{Name: "members"}, Filter: cmpf("value", store.Eq, "2819c223", false)}},
		{"placeholder-like attribute name is still unknown-checked", users, `userName eq "scimkitVP0"`,
			cmpf("userName", store.Eq, "scimkitVP0", false)},
		{"string containing operators and parentheses", users, `userName eq "a) or (b eq \"c\""`,
			cmpf("userName", store.Eq, `a) or (b eq "c"`, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.rt, tt.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

// wantSCIMError checks that err is a *scimerr.Error with status 400 and the
// given scimType, and that its detail contains every fragment.
func wantSCIMError(t *testing.T, err error, scimType string, fragments ...string) {
	t.Helper()
	var se *scimerr.Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want *scimerr.Error", err, err)
	}
	if se.Status != 400 || se.ScimType != scimType {
		t.Errorf("error = %d %q (%s), want 400 %q", se.Status, se.ScimType, se.Detail, scimType)
	}
	for _, f := range fragments {
		if !strings.Contains(se.Detail, f) {
			t.Errorf("detail %q does not mention %q", se.Detail, f)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name      string
		expr      string
		fragments []string
	}{
		{"escaped NUL", `userName eq "a\u0000"`, []string{"not a valid string"}},
		{"escaped NUL in a value filter", `emails[value eq "\u0000"]`, []string{"not a valid string"}},
		{"escaped lone surrogate", `displayName eq "\ud800"`, []string{"not a valid string"}},
		{"raw NUL", "userName eq \"a\x00\"", []string{"NUL"}},
		{"not UTF-8", "userName eq \"\xff\"", []string{"UTF-8"}},
		{"unknown attribute", `nosuch eq "x"`, []string{`"nosuch"`}},
		{"unknown sub-attribute", `name.nosuch eq "x"`, []string{`name.nosuch`}},
		{"unknown extension", `urn:example:Foo:bar eq "x"`, []string{"urn:example:Foo:bar"}},
		{"unknown attribute in value filter", `emails[kind eq "work"]`, []string{"emails.kind"}},
		{"value filter on single-valued attribute", `userName[value eq "x"]`, []string{"userName"}},
		{"password", `password eq "secret"`, []string{"password"}},
		{"empty", ``, []string{"empty"}},
		{"blank", `   `, []string{"empty"}},
		{"missing value", `userName eq`, []string{"expected a value", "position 11"}},
		{"missing operator", `userName "x"`, []string{"expected an operator", "position 9"}},
		{"unknown operator", `userName like "x"`, []string{`"like"`}},
		{"dangling and", `userName eq "x" and`, []string{"unexpected end"}},
		{"unbalanced open parenthesis", `(userName eq "x"`, []string{"unbalanced parenthesis", "position 0"}},
		{"unbalanced close parenthesis", `userName eq "x")`, []string{`unexpected ")"`, "position 15"}},
		{"unterminated string", `userName eq "x`, []string{"unterminated string", "position 12"}},
		{"unbalanced bracket", `emails[type eq "work"`, []string{"unbalanced bracket"}},
		{"nested value filter", `emails[type[value eq "x"] pr]`, []string{"nested value filter"}},
		{"bad attribute name", `user@name eq "x"`, []string{"invalid attribute path"}},
		{"two values", `userName eq "x" "y"`, []string{`"\"y\""`}},
		{"gt on boolean", `active gt true`, []string{`"gt"`, "active"}},
		{"le on boolean", `active le false`, []string{`"le"`}},
		{"co on boolean", `active co "t"`, []string{`"co"`}},
		{"lt on complex", `name lt "x"`, []string{`"lt"`, "name"}},
		{"eq on complex without value", `name eq "x"`, []string{"name"}},
		{"gt on complex in value filter", `emails[primary gt true]`, []string{"primary"}},
		{"boolean with non-boolean", `active eq "yes"`, []string{"active"}},
		{"dateTime with non-time", `meta.created gt "yesterday"`, []string{"meta.created"}},
		{"co on dateTime", `meta.created co "2015"`, []string{`"co"`}},
		{"null with co", `title co null`, []string{"null"}},
		{"value filter on sub-attribute", `name.givenName[value eq "x"]`, []string{"sub-attribute"}},
		{"too long", `userName eq "` + strings.Repeat("a", DefaultMaxLength) + `"`, []string{"longer than 4096"}},
		{"too deep", strings.Repeat("(", 33) + `title pr` + strings.Repeat(")", 33), []string{"deeper than 32"}},
		{"too deep with not", strings.Repeat("not(", 33) + `title pr` + strings.Repeat(")", 33), []string{"deeper than 32"}},
		{"too many nodes", strings.Repeat(`title pr or `, 200) + `title pr`, []string{"more than 256"}},
		{"deep unbalanced nesting within length", strings.Repeat("(", 2000), []string{"deeper than 32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(users, tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want error", tt.expr, got)
			}
			wantSCIMError(t, err, scimerr.InvalidFilter, tt.fragments...)
		})
	}
}

func TestLimits(t *testing.T) {
	l := Limits{MaxLength: 20, MaxDepth: 2, MaxNodes: 3}
	if _, err := l.Parse(users, `title pr and nickName pr`); err == nil {
		t.Error("length limit not applied")
	}
	if _, err := l.Parse(users, `((((title pr))))`); err == nil {
		t.Error("depth limit not applied")
	}
	if _, err := (Limits{MaxNodes: 3}).Parse(users, `title pr or title pr or title pr`); err == nil {
		t.Error("node limit not applied")
	}
	if _, err := (Limits{MaxNodes: 3}).Parse(users, `title pr or title pr`); err != nil {
		t.Errorf("within limits: %v", err)
	}
}

func TestParseEval(t *testing.T) {
	user := &store.User{ID: "2819c223", Attributes: store.Attributes{
		"userName": "BJensen@example.com",
		"active":   true,
		"name":     map[string]any{"familyName": "Jensen", "givenName": "Barbara"},
		"emails": []any{
			map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
			map[string]any{"value": "babs@jensen.org", "type": "home"},
		},
		ent: map[string]any{"department": "Tour Operations", "manager": map[string]any{"value": "26118915"}},
	}, Meta: store.Meta{Created: mustTime("2011-08-01T18:29:49.793Z")}}
	tests := []struct {
		expr string
		want bool
	}{
		{`userName eq "bjensen@example.com"`, true},
		{`id eq "2819C223"`, false},
		{`emails[type eq "work" and value co "@example.com"]`, true},
		{`emails[type eq "home" and primary eq true]`, false},
		{`emails[type eq "work"].value eq "BJENSEN@example.com"`, true},
		{`emails co "jensen.org"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915"`, true},
		{`meta.created gt 2011-08-01T18:00:00Z and active eq "True"`, true},
		{`not (name.familyName sw "J")`, false},
		{`title eq null`, true},
	}
	for _, tt := range tests {
		f, err := Parse(users, tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		if got := store.Eval(f, user.Resolve); got != tt.want {
			t.Errorf("Eval(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestParsePath(t *testing.T) {
	userName, _ := users.Resolve("userName")
	givenName, _ := users.Resolve("name.givenName")
	familyName, _ := users.Resolve("name.familyName")
	emailsValue, _ := users.Resolve("emails.value")
	manager, _ := users.Resolve(ent + ":manager")
	managerValue, _ := users.Resolve(ent + ":manager.value")
	street, _ := users.Resolve("addresses.streetAddress")
	members, _ := groups.Resolve("members")
	tests := []struct {
		name string
		rt   *schema.ResourceType
		path string
		want Path
	}{
		{"attribute", users, "userName", Path{Attr: userName}},
		{"attribute any case", users, "USERNAME", Path{Attr: userName}},
		{"sub-attribute", users, "name.givenName", Path{Attr: givenName}},
		{"core URN", users, "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", Path{Attr: familyName}},
		{"extension attribute", users, ent + ":manager", Path{Attr: manager}},
		{"extension sub-attribute", users, ent + ":manager.value", Path{Attr: managerValue}},
		{"extension schema", users, ent, Path{Schema: ent}},
		{"extension schema any case", users, strings.ToUpper(ent), Path{Schema: ent}},
		{"filter and sub-attribute", users, `emails[type eq "work"].value`,
			Path{Attr: emailsValue, Filter: cmpf("type", store.Eq, "work", false)}},
		{"filter and sub-attribute any case", users, `Emails[Type EQ "work"].Value`,
			Path{Attr: emailsValue, Filter: cmpf("type", store.Eq, "work", false)}},
		{"filter on addresses", users, `addresses[type eq "work"].streetAddress`,
			Path{Attr: street, Filter: cmpf("type", store.Eq, "work", false)}},
		{"member filter", groups, `members[value eq "2819c223"]`,
			Path{Attr: members, Filter: cmpf("value", store.Eq, "2819c223", false)}},
		{"member filter with spaces", groups, ` members[ value eq "2819c223" ] `,
			Path{Attr: members, Filter: cmpf("value", store.Eq, "2819c223", false)}},
		{"member filter unquoted", groups, `members[value eq 2819c223-7f76]`,
			Path{Attr: members, Filter: cmpf("value", store.Eq, "2819c223-7f76", false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePath(tt.rt, tt.path)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.path, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePath(%q) mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestParsePathRejects(t *testing.T) {
	tests := []struct {
		name, path string
		fragments  []string
	}{
		{"empty", "", []string{"empty"}},
		{"unknown attribute", "nosuch", []string{"nosuch"}},
		{"unknown sub-attribute", "name.nosuch", []string{"name.nosuch"}},
		{"unknown extension", "urn:example:Foo:bar", []string{"urn:example:Foo:bar"}},
		{"bad characters", "user name", []string{"user name"}},
		{"filter on single-valued", `userName[value eq "x"]`, []string{"not multi-valued"}},
		{"unknown attribute in filter", `emails[kind eq "work"].value`, []string{"emails.kind"}},
		{"unknown sub after filter", `emails[type eq "work"].nosuch`, []string{"nosuch"}},
		{"garbage after filter", `emails[type eq "work"]x`, []string{"invalid path"}},
		{"unbalanced bracket", `emails[type eq "work"`, []string{"unbalanced"}},
		{"bad filter", `emails[type eq]`, []string{"expected a value"}},
		{"nested brackets", `emails[type[x eq 1] pr]`, []string{"nested"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePath(users, tt.path)
			if err == nil {
				t.Fatalf("ParsePath(%q) = %#v, want error", tt.path, got)
			}
			wantSCIMError(t, err, scimerr.InvalidPath, tt.fragments...)
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(users, `userName eq "bjensen@example.com"`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePathFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePath(groups, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSimpleAttrExpMatchesGrammar checks that the fast path builds exactly
// what the grammar library builds, and declines what it cannot build.
func TestSimpleAttrExpMatchesGrammar(t *testing.T) {
	for _, text := range []string{
		`userName eq "x"`, `userName eq "a\"b"`, `userName eq ""`, `title pr`,
		`name.familyName co "J"`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "1"`,
		`x eq 12`, `x eq -3`, `x eq 1.5`, `x eq 1e3`, `x eq true`, `x eq FALSE`, `x eq null`,
	} {
		got, ok := simpleAttrExp(text)
		if !ok {
			t.Errorf("simpleAttrExp(%q) declined", text)
			continue
		}
		want, err := fp.ParseFilter([]byte(text))
		if err != nil {
			t.Fatalf("grammar(%q): %v", text, err)
		}
		if diff := cmp.Diff(want, fp.Expression(got)); diff != "" {
			t.Errorf("simpleAttrExp(%q) mismatch (-want +got):\n%s", text, diff)
		}
	}
	for _, text := range []string{
		`a eq "x" and b eq "y"`, `a pr and b pr`, `not (a pr)`, `(a pr)`, `a eq "x" or b pr`, `a eq x`,
	} {
		if got, ok := simpleAttrExp(text); ok {
			t.Errorf("simpleAttrExp(%q) = %v, want declined", text, got)
		}
	}
}

func BenchmarkParseCompound(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(users, `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`); err != nil {
			b.Fatal(err)
		}
	}
}
