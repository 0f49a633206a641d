package sqlstore

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

func TestFilterTranslation(t *testing.T) {
	userName := store.Path{Name: "userName"}
	title := store.Path{Name: "title"}
	tests := []struct {
		name    string
		d       Dialect
		f       store.Filter
		want    string
		wantArg []any
	}{
		{
			name:    "userName eq uses the folded column",
			d:       SQLite,
			f:       store.Compare{Path: userName, Op: store.Eq, Value: "Alice"},
			want:    "(r.user_name_folded IS NOT NULL AND r.user_name_folded = ?)",
			wantArg: []any{"alice"},
		},
		{
			name:    "userName eq on PostgreSQL numbers placeholders",
			d:       Postgres,
			f:       store.Compare{Path: userName, Op: store.Eq, Value: "Alice"},
			want:    "(r.user_name_folded IS NOT NULL AND r.user_name_folded = $1::text)",
			wantArg: []any{"alice"},
		},
		{
			name:    "case-exact externalId uses the column",
			d:       MySQL,
			f:       store.Compare{Path: store.Path{Name: "externalId"}, Op: store.Eq, Value: "X1", CaseExact: true},
			want:    "(r.external_id IS NOT NULL AND r.external_id = CAST(? AS BINARY))",
			wantArg: []any{"X1"},
		},
		{
			name:    "ne is the negation of eq",
			d:       SQLite,
			f:       store.Compare{Path: title, Op: store.Ne, Value: "Boss"},
			want:    `(NOT EXISTS (SELECT 1 FROM json_each(r.fdoc, '$.v."/title/"') AS x1 WHERE (json_extract(x1.value, '$.f') IS NOT NULL AND json_extract(x1.value, '$.f') = ?)))`,
			wantArg: []any{"boss"},
		},
		{
			name:    "co binds wildcards as plain text",
			d:       Postgres,
			f:       store.Compare{Path: title, Op: store.Co, Value: "50%_off'--", CaseExact: true},
			want:    `EXISTS (SELECT 1 FROM jsonb_array_elements(r.fdoc -> 'v' -> '/title/') AS x1(j) WHERE ((x1.j ->> 's') IS NOT NULL AND strpos(((x1.j ->> 's')) COLLATE "C", $1::text) > 0))`,
			wantArg: []any{"50%_off'--"},
		},
		{
			name:    "emails value path uses the emails table",
			d:       SQLite,
			f:       store.ValuePath{Path: store.Path{Name: "emails"}, Filter: store.Compare{Path: store.Path{Name: "type"}, Op: store.Eq, Value: "work"}},
			want:    "EXISTS (SELECT 1 FROM scim_emails e WHERE e.tenant = r.tenant AND e.user_id = r.id AND (e.type_folded IS NOT NULL AND e.type_folded = ?))",
			wantArg: []any{"work"},
		},
		{
			name:    "meta.lastModified compares nanoseconds",
			d:       SQLite,
			f:       store.Compare{Path: store.Path{Name: "meta", Sub: "lastModified"}, Op: store.Gt, Value: time.Unix(1, 5)},
			want:    "(r.last_modified IS NOT NULL AND r.last_modified > ?)",
			wantArg: []any{int64(1_000_000_005)},
		},
		{
			name:    "extension attribute path key is encoded",
			d:       MySQL,
			f:       store.Compare{Path: store.Path{URN: "urn:x:2.0:User", Name: "dept"}, Op: store.Pr},
			want:    `EXISTS (SELECT 1 FROM JSON_TABLE(r.fdoc, '$.v."urn:x:2.0:User/dept/"[*]' COLUMNS (s LONGTEXT PATH '$.s', f LONGTEXT PATH '$.f', t VARCHAR(64) PATH '$.t', n DOUBLE PATH '$.n', b INT PATH '$.b', p INT PATH '$.p')) AS x1 WHERE x1.p = 1)`,
			wantArg: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{d: tt.d}
			got, err := b.where(users, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SQL (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantArg, b.args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPathKeyIsSafeInSQLLiterals(t *testing.T) {
	k := pathKey(store.Path{URN: `urn:a'b"c\d`, Name: "x y", Sub: "$.z[*]"})
	if strings.ContainsAny(k, `'"\ $[]*`) {
		t.Errorf("pathKey = %q, holds a character unsafe in a quoted JSON path literal", k)
	}
}

func TestSortStringOrdersLikeCompareSortKeys(t *testing.T) {
	vals := []any{true, false, -2.5, 0.0, 3.0, 1e9, "b", "B", "a", "ab", "Ab", "", map[string]any{"x": 1}}
	for _, a := range vals {
		for _, c := range vals {
			want := store.CompareSortKeys(a, c, false)
			got := strings.Compare(sortString(a), sortString(c))
			if sign(want) != sign(got) {
				t.Errorf("%#v vs %#v: CompareSortKeys %d, sort strings %d", a, c, want, got)
			}
		}
	}
}

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}
