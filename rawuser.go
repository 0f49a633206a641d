package scim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// rawUserDoc is a user whose attributes are encoded (store.RawUserReader's
// or store.RawUserLister's encoding). It encodes as renderUser's document
// does: raw's members are copied as they are, and what the handler adds
// (id, schemas, meta, groups, the role policy's attributes, which win over
// stored ones of the same name) is encoded and merged in at its place in
// key order — the bytes writeJSON(renderUser(…)) writes
// (TestGetUserFromEncodedAttributes compares the two). When raw is not in
// the promised form it is decoded and rendered after all.
type rawUserDoc struct {
	h      *Handler
	r      *request
	u      *store.User
	raw    []byte
	groups []store.GroupRef
}

// AppendJSON implements jsonenc.Appender.
func (d *rawUserDoc) AppendJSON(b []byte) ([]byte, error) {
	if out, ok, err := d.appendStored(b); ok {
		return out, err
	}
	if err := json.Unmarshal(d.raw, &d.u.Attributes); err != nil {
		return nil, fmt.Errorf("scim: the store's encoded attributes of user %s: %w", d.u.ID, err)
	}
	return jsonenc.Append(b, d.h.renderUserOwned(d.r, d.u, d.groups))
}

// appendStored appends the document, copying raw's members; it reports
// false, having appended nothing, when raw is not in the promised form.
func (d *rawUserDoc) appendStored(b []byte) ([]byte, bool, error) {
	var small [32]jsonenc.Member
	stored, ok := jsonenc.Members(d.raw, small[:0])
	if !ok {
		return b, false, nil
	}
	// The app's attributes in the role policy's extension are merged with
	// the role: they must be in the promised form too.
	var extMembers []jsonenc.Member
	if urn := d.h.policy.ExtensionURN; urn != "" && d.h.policy.enabled() {
		for _, m := range stored {
			if string(m.Key) == urn {
				if extMembers, ok = jsonenc.Members(m.Value, nil); !ok {
					return b, false, nil
				}
			}
		}
	}
	start := len(b)
	b, doc, err := d.h.appendUserRaw(b, d.r, d.u, stored, extMembers, d.groups)
	if err != nil {
		return nil, true, err
	}
	// appendUserRaw put the added values first: move the document down
	// over them.
	n := copy(b[start:], b[doc:])
	return b[:start+n], true, nil
}

// appendUserRaw appends the added members' values and then the document
// rawUserDoc encodes, which starts at b[doc:].
func (h *Handler) appendUserRaw(b []byte, r *request, u *store.User, stored []jsonenc.Member, extMembers []jsonenc.Member, groups []store.GroupRef) (_ []byte, doc int, _ error) {
	// The added members are encoded first, at the start of the buffer, in
	// the order renderUserInto sets them (a later one replaces an earlier of
	// the same name, as in a map), then sorted and merged with the stored
	// ones after them. Growing the buffer while merging copies it, leaving
	// the values where the fields point unchanged.
	scratch := b
	type span struct {
		key        string
		start, end int
	}
	var spanArr [8]span
	spans := spanArr[:0]
	add := func(key string, start, end int) {
		for i := range spans {
			if spans[i].key == key {
				spans[i] = span{key, start, end}
				return
			}
		}
		spans = append(spans, span{key, start, end})
	}

	start := len(scratch)
	scratch = jsonenc.AppendString(scratch, u.ID)
	add("id", start, len(scratch))

	scratch = h.policy.appendRendered(scratch, u, extMembers, add)

	start = len(scratch)
	scratch = appendSchemaList(scratch, h.users, func(urn string) bool {
		return urn == h.policy.ExtensionURN && h.policy.enabled() || hasMember(stored, urn)
	})
	add("schemas", start, len(scratch))

	start = len(scratch)
	scratch = appendMeta(scratch, r, "User", "/Users/", u.ID, u.Meta)
	add("meta", start, len(scratch))

	if len(groups) > 0 {
		start = len(scratch)
		scratch = appendGroupRefs(scratch, r, groups)
		add("groups", start, len(scratch))
	}

	var fieldArr [8]jsonenc.Field
	fields := fieldArr[:0]
	for _, s := range spans {
		fields = append(fields, jsonenc.Field{Key: s.key, Value: scratch[s.start:s.end]})
	}
	slices.SortFunc(fields, func(a, b jsonenc.Field) int { return strings.Compare(a.Key, b.Key) })
	return jsonenc.AppendMerged(scratch, stored, fields), len(scratch), nil
}

// hasMember reports whether the stored members include key.
func hasMember(stored []jsonenc.Member, key string) bool {
	for _, m := range stored {
		if string(m.Key) == key {
			return true
		}
	}
	return false
}

// appendSchemaList appends the encoding of h.schemaListFunc(rt, has).
func appendSchemaList(b []byte, rt *schema.ResourceType, has func(urn string) bool) []byte {
	b = append(b, '[')
	b = jsonenc.AppendString(b, rt.Core.ID)
	for _, e := range rt.Extensions {
		if has(e.Schema.ID) {
			b = append(b, ',')
			b = jsonenc.AppendString(b, e.Schema.ID)
		}
	}
	return append(b, ']')
}

// appendMeta appends the encoding of h.meta(r, kind, endpoint, id, m).
func appendMeta(b []byte, r *request, kind, endpoint, id string, m store.Meta) []byte {
	b = append(b, `{"created":"`...)
	b = m.Created.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","lastModified":"`...)
	b = m.LastModified.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","location":`...)
	b = appendURL(b, r.base, endpoint, id)
	b = append(b, `,"resourceType":`...)
	b = jsonenc.AppendString(b, kind)
	b = append(b, `,"version":"W/\"`...)
	b = strconv.AppendInt(b, m.Version, 10)
	return append(b, `\""}`...)
}

// appendURL appends the JSON string base + endpoint + url.PathEscape(id).
func appendURL(b []byte, base, endpoint, id string) []byte {
	return jsonenc.AppendConcat(b, base, endpoint, url.PathEscape(id))
}

// appendGroupRefs appends the encoding of the groups list renderUserInto
// builds.
func appendGroupRefs(b []byte, r *request, groups []store.GroupRef) []byte {
	b = append(b, '[')
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = appendURL(b, r.base, "/Groups/", g.ID)
		b = append(b, `,"display":`...)
		b = jsonenc.AppendString(b, g.DisplayName)
		b = append(b, `,"type":"direct","value":`...)
		b = jsonenc.AppendString(b, g.ID)
		b = append(b, '}')
	}
	return append(b, ']')
}
