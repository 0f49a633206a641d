package scim_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// stores are the adapters the HTTP-level tests run over.
var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memory", func(t *testing.T) store.Store { return memory.New() }},
	{"sqlite", openSQLiteStore},
}

func openSQLiteStore(t *testing.T) store.Store {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+sqliteURIPath(filepath.Join(t.TempDir(), "scim.db"))+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// sqliteURIPath escapes a file path for a "file:" URI: a subtest named
// twice gets a directory with "#" in its name, which would otherwise start
// the URI's fragment (and name a file outside the test's directory).
func sqliteURIPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// directory provisions three users with varied attributes and returns
// their ids by short name.
func directory(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	ids := map[string]string{}
	// Create in a fixed order so that meta.created orders ada < bob < cy.
	for _, p := range []struct{ name, body string }{
		{"ada", `{"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},
		  "emails":[{"value":"ada@example.com","type":"work","primary":true},{"value":"ada@home.org","type":"home"}],
		  "externalId":"ext-ADA","title":"Engineer","active":true,"memberRole":"admin",
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"100"}}`},
		{"bob", `{"userName":"Bob@Example.com","name":{"givenName":"Bob","familyName":"Babbage"},
		  "emails":[{"value":"bob@example.com","type":"work"}],"active":false,
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`},
		{"cy", `{"userName":"cy@other.org","name":{"givenName":"Cy","familyName":"Lovelace"},"displayName":"Cy",
		  "emails":[{"value":"cy@other.org","type":"work"}],"externalId":"ext-cy","active":true}`},
	} {
		ids[p.name] = str(s.must(http.StatusCreated, "POST", "/Users", p.body).body, "id")
	}
	return ids
}

// names maps listed users back to their short names, sorted.
func names(t *testing.T, r response, ids map[string]string) []string {
	t.Helper()
	byID := map[string]string{}
	for n, id := range ids {
		byID[id] = n
	}
	out := []string{}
	for _, u := range resources(t, r) {
		out = append(out, byID[u["id"].(string)])
	}
	return out
}

// TestFilters applies the whole filter grammar over HTTP, on every store.
func TestFilters(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scimConfig())
			ids := directory(t, s)
			bobCreated := str(s.must(http.StatusOK, "GET", "/Users/"+ids["bob"], "").body, "meta.created")
			tests := []struct {
				filter string
				want   []string
			}{
				{`userName eq "ADA@EXAMPLE.COM"`, []string{"ada"}},
				{`USERNAME Eq "bob@example.com"`, []string{"bob"}},
				{`userName ne "ada@example.com"`, []string{"bob", "cy"}},
				{`userName co "EXAMPLE"`, []string{"ada", "bob"}},
				{`userName sw "cy"`, []string{"cy"}},
				{`userName ew ".org"`, []string{"cy"}},
				{`userName gt "b"`, []string{"bob", "cy"}},
				{`userName ge "bob@example.com"`, []string{"bob", "cy"}},
				{`userName lt "b"`, []string{"ada"}},
				{`userName le "bob@example.com"`, []string{"ada", "bob"}},
				{`title pr`, []string{"ada"}},
				{`not (title pr)`, []string{"bob", "cy"}},
				{`name.familyName eq "Lovelace" and active eq true`, []string{"ada", "cy"}},
				{`(name.familyName eq "Babbage" or emails.value ew ".org") and not (userName sw "ada")`, []string{"bob", "cy"}},
				{`emails[type eq "work" and value co "@example.com"]`, []string{"ada", "bob"}},
				{`emails[type eq "home"]`, []string{"ada"}},
				{`emails.type eq "home"`, []string{"ada"}},
				{`emails co "other.org"`, []string{"cy"}},
				{`emails[type eq "work"].value ew "org"`, []string{"cy"}},
				{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales"`, []string{"bob"}},
				{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr`, []string{"ada"}},
				{`externalId eq "ext-ADA"`, []string{"ada"}},
				{`externalId eq "ext-ada"`, []string{}},
				{`id eq "` + ids["cy"] + `"`, []string{"cy"}},
				{`meta.created gt "` + bobCreated + `"`, []string{"cy"}},
				{`meta.created ge "` + bobCreated + `"`, []string{"bob", "cy"}},
				{`meta.lastModified lt "` + bobCreated + `"`, []string{"ada"}},
				{`active eq false`, []string{"bob"}},
				{`memberRole eq "admin"`, []string{"ada"}},
				{`memberRole eq "viewer"`, []string{"bob", "cy"}},
				{`displayName eq "cy"`, []string{"cy"}},
				{`userName eq "nobody@example.com"`, []string{}},
			}
			for _, tc := range tests {
				r := s.must(http.StatusOK, "GET", "/Users?filter="+filterQuery(tc.filter), "")
				got := names(t, r, ids)
				sort.Strings(got)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("filter %s (-want +got):\n%s", tc.filter, diff)
				}
				if r.body["totalResults"] != float64(len(tc.want)) {
					t.Errorf("filter %s: totalResults %v, want %d", tc.filter, r.body["totalResults"], len(tc.want))
				}
				// The same filter through POST /.search.
				sr := s.must(http.StatusOK, "POST", "/Users/.search",
					mustJSON(t, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": tc.filter}))
				got = names(t, sr, ids)
				sort.Strings(got)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("search %s (-want +got):\n%s", tc.filter, diff)
				}
			}
		})
	}
}

// TestSortAndPage checks sortBy/sortOrder, startIndex/count clamping and
// the configurable maximum page.
func TestSortAndPage(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scim.Config{Limits: scim.Limits{MaxPageSize: 2}})
			ids := directory(t, s)
			tests := []struct {
				query     string
				want      []string
				wantStart float64
			}{
				{"sortBy=userName&count=3", []string{"ada", "bob"}, 1},
				{"sortBy=userName&sortOrder=descending", []string{"cy", "bob"}, 1},
				{"sortBy=userName&startIndex=3", []string{"cy"}, 3},
				{"sortBy=title", []string{"ada", "bob"}, 1}, // missing values last
				{"sortBy=title&sortOrder=descending&startIndex=3", []string{"ada"}, 3},
				{"sortBy=name.givenName&sortOrder=descending", []string{"cy", "bob"}, 1},
				{"sortBy=emails&sortOrder=ascending", []string{"ada", "bob"}, 1},
				{"sortBy=userName&startIndex=0", []string{"ada", "bob"}, 1},
				{"sortBy=userName&startIndex=-5&count=1", []string{"ada"}, 1},
				{"count=0", []string{}, 1},
				{"count=-1", []string{}, 1},
				{"startIndex=10", []string{}, 10},
				{"SORTBY=userName&SortOrder=Descending&COUNT=1&unknownParam=1", []string{"cy"}, 1},
			}
			for _, tc := range tests {
				r := s.must(http.StatusOK, "GET", "/Users?"+tc.query, "")
				if diff := cmp.Diff(tc.want, names(t, r, ids)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tc.query, diff)
				}
				want := map[string]any{"totalResults": float64(3), "startIndex": tc.wantStart, "itemsPerPage": float64(len(tc.want))}
				got := map[string]any{"totalResults": r.body["totalResults"], "startIndex": r.body["startIndex"], "itemsPerPage": r.body["itemsPerPage"]}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s counts (-want +got):\n%s", tc.query, diff)
				}
			}
		})
	}
}

// keys returns the sorted top-level keys of a resource.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestProjection checks attributes and excludedAttributes on lists and
// single resources.
func TestProjection(t *testing.T) {
	s := newTestServer(t, scimConfig())
	ids := directory(t, s)
	ada := "/Users/" + ids["ada"]
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		query string
		want  map[string]any
	}{
		{"attributes=userName", map[string]any{"id": ids["ada"], "schemas": nil, "userName": "ada@example.com"}},
		{"attributes=name.givenName,USERNAME", map[string]any{"id": ids["ada"], "schemas": nil,
			"userName": "ada@example.com", "name": map[string]any{"givenName": "Ada"}}},
		{"attributes=emails.value", map[string]any{"id": ids["ada"], "schemas": nil,
			"emails": []any{map[string]any{"value": "ada@example.com"}, map[string]any{"value": "ada@home.org"}}}},
		{"attributes=" + ent + ":department", map[string]any{"id": ids["ada"], "schemas": nil,
			ent: map[string]any{"department": "R&D"}}},
		{"attributes=" + ent, map[string]any{"id": ids["ada"], "schemas": nil,
			ent: map[string]any{"department": "R&D", "employeeNumber": "100"}}},
		{"attributes=" + filterQuery(`emails[type eq "work"]`), map[string]any{"id": ids["ada"], "schemas": nil,
			"emails": []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true},
				map[string]any{"value": "ada@home.org", "type": "home"}}}},
		{"attributes=doesNotExist", map[string]any{"id": ids["ada"], "schemas": nil}},
	}
	for _, tc := range tests {
		for _, path := range []string{ada + "?" + tc.query, "/Users?filter=" + filterQuery(`userName eq "ada@example.com"`) + "&" + tc.query} {
			r := s.must(http.StatusOK, "GET", path, "")
			got := r.body
			if strings.HasPrefix(path, "/Users?") {
				got = resources(t, r)[0]
			}
			got["schemas"] = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", path, diff)
			}
		}
	}
	r := s.must(http.StatusOK, "GET", ada+"?excludedAttributes=emails,name,meta,id,"+ent, "")
	if diff := cmp.Diff([]string{"active", "externalId", "id", "memberRole", "schemas", "title",
		"urn:ietf:params:scim:schemas:extension:scimkit:2.0:User", "userName"}, keys(r.body)); diff != "" {
		t.Errorf("excludedAttributes (-want +got):\n%s", diff)
	}
	r = s.must(http.StatusOK, "GET", ada+"?excludedAttributes=name.familyName", "")
	if diff := cmp.Diff(map[string]any{"givenName": "Ada"}, r.body["name"]); diff != "" {
		t.Errorf("excluded sub-attribute (-want +got):\n%s", diff)
	}
}

// countingStore wraps a real store and counts reads that load members.
type countingStore struct {
	store.Store
	memberLoads atomic.Int64
}

func (c *countingStore) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return c.Store.View(ctx, tenant, func(r store.Reader) error { return fn(countingReader{r, c}) })
}

type countingReader struct {
	store.Reader
	c *countingStore
}

func (r countingReader) Group(ctx context.Context, id string, withMembers bool) (store.Group, error) {
	if withMembers {
		r.c.memberLoads.Add(1)
	}
	return r.Reader.Group(ctx, id, withMembers)
}

func (r countingReader) ListGroups(ctx context.Context, q store.Query) (store.GroupPage, error) {
	if q.WithMembers {
		r.c.memberLoads.Add(1)
	}
	return r.Reader.ListGroups(ctx, q)
}

// TestExcludedMembersNeverLoaded checks that excludedAttributes=members
// (Entra's group lookups) and attributes without members never ask the
// store for members, while a plain GET does.
func TestExcludedMembersNeverLoaded(t *testing.T) {
	cs := &countingStore{Store: memory.New()}
	s := newTestServerWith(t, cs, scimConfig())
	uid := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"m@x.com"}`).body, "id")
	gid := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"G","members":[{"value":"`+uid+`"}]}`).body, "id")
	for _, path := range []string{
		"/Groups/" + gid + "?excludedAttributes=members",
		"/Groups/" + gid + "?attributes=displayName",
		"/Groups?excludedAttributes=members&filter=" + filterQuery(`displayName eq "G"`),
		"/Groups?attributes=id,displayName",
	} {
		before := cs.memberLoads.Load()
		r := s.must(http.StatusOK, "GET", path, "")
		if cs.memberLoads.Load() != before {
			t.Errorf("GET %s loaded members", path)
		}
		if strings.Contains(r.raw, `"members"`) {
			t.Errorf("GET %s returned members: %s", path, r.raw)
		}
	}
	before := cs.memberLoads.Load()
	r := s.must(http.StatusOK, "GET", "/Groups/"+gid, "")
	if cs.memberLoads.Load() != before+1 || len(memberIDs(r.body)) != 1 {
		t.Errorf("plain GET: loads %d, members %v", cs.memberLoads.Load()-before, memberIDs(r.body))
	}
}

// TestDiscovery checks the discovery endpoints answer what is supported.
func TestDiscovery(t *testing.T) {
	s := newTestServer(t, scim.Config{Limits: scim.Limits{MaxPageSize: 50}})
	spc := s.must(http.StatusOK, "GET", "/ServiceProviderConfig", "").body
	got := map[string]any{
		"patch": get(spc, "patch.supported"), "bulk": get(spc, "bulk.supported"), "filter": get(spc, "filter.supported"),
		"maxResults": get(spc, "filter.maxResults"), "sort": get(spc, "sort.supported"), "etag": get(spc, "etag.supported"),
		"changePassword": get(spc, "changePassword.supported"),
	}
	want := map[string]any{"patch": true, "bulk": false, "filter": true, "maxResults": float64(50), "sort": true, "etag": true, "changePassword": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ServiceProviderConfig (-want +got):\n%s", diff)
	}
	rts := resources(t, s.must(http.StatusOK, "GET", "/ResourceTypes", ""))
	var endpoints []string
	for _, rt := range rts {
		endpoints = append(endpoints, rt["endpoint"].(string))
	}
	if diff := cmp.Diff([]string{"/Users", "/Groups"}, endpoints); diff != "" {
		t.Errorf("ResourceTypes (-want +got):\n%s", diff)
	}
	s.must(http.StatusOK, "GET", "/ResourceTypes/User", "")
	s.must(http.StatusNotFound, "GET", "/ResourceTypes/Printer", "")
	schemas := resources(t, s.must(http.StatusOK, "GET", "/Schemas", ""))
	var urns []string
	for _, sc := range schemas {
		urns = append(urns, sc["id"].(string))
	}
	if diff := cmp.Diff([]string{
		"urn:ietf:params:scim:schemas:core:2.0:User",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		"urn:ietf:params:scim:schemas:extension:scimkit:2.0:User",
		"urn:ietf:params:scim:schemas:core:2.0:Group",
	}, urns); diff != "" {
		t.Errorf("Schemas (-want +got):\n%s", diff)
	}
	user := s.must(http.StatusOK, "GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "").body
	var role map[string]any
	for _, a := range user["attributes"].([]any) {
		if a.(map[string]any)["name"] == "memberRole" {
			role = a.(map[string]any)
		}
	}
	if diff := cmp.Diff([]any{"viewer", "experiment_editor", "data_owner", "admin"}, role["canonicalValues"]); diff != "" {
		t.Errorf("memberRole canonicalValues (-want +got):\n%s", diff)
	}
}
