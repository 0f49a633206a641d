package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// refServer is the reference: a bare net/http handler that keeps each
// user's JSON document, rendered once, in a Go map, answers the userName eq
// lookup from a map index and group membership from a set. It validates
// nothing a SCIM library must validate (schemas, mutability, PATCH
// semantics beyond what the load sends), so it is the practical ceiling of
// a Go HTTP server on this machine, not a SCIM server.
type refServer struct {
	token string

	mu       sync.RWMutex
	seq      int
	users    map[string][]byte // id → JSON document
	byName   map[string]string // lower(userName) → id
	order    []string          // ids in creation order
	groups   map[string]*refGroup
	groupSeq int
}

type refGroup struct {
	id, displayName string
	members         map[string]struct{}
	version         int
}

func newRefServer(token string) *refServer {
	return &refServer{token: token, users: map[string][]byte{}, byName: map[string]string{}, groups: map[string]*refGroup{}}
}

var refUserNameEq = regexp.MustCompile(`(?i)^\s*userName\s+eq\s+"([^"]*)"\s*$`)
var refMemberEq = regexp.MustCompile(`(?i)^members\[value eq "([^"]*)"\]$`)

func (s *refServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		http.Error(w, `{"status":"401"}`, http.StatusUnauthorized)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/scim/v2")
	kind, id, _ := strings.Cut(strings.Trim(path, "/"), "/")
	switch {
	case kind == "Users" && id == "" && r.Method == http.MethodGet:
		s.listUsers(w, r)
	case kind == "Users" && id == "" && r.Method == http.MethodPost:
		s.createUser(w, r)
	case kind == "Users" && r.Method == http.MethodGet:
		s.mu.RLock()
		doc, ok := s.users[id]
		s.mu.RUnlock()
		if !ok {
			http.Error(w, `{"status":"404"}`, http.StatusNotFound)
			return
		}
		writeRaw(w, http.StatusOK, doc)
	case kind == "Users" && r.Method == http.MethodPatch:
		s.patchUser(w, r, id)
	case kind == "Groups" && id == "" && r.Method == http.MethodPost:
		s.createGroup(w, r)
	case kind == "Groups" && r.Method == http.MethodPatch:
		s.patchGroup(w, r, id)
	case kind == "Groups" && r.Method == http.MethodGet:
		s.getGroup(w, r, id)
	default:
		http.Error(w, `{"status":"404"}`, http.StatusNotFound)
	}
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *refServer) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var docs [][]byte
	total := 0
	start, _ := strconv.Atoi(q.Get("startIndex"))
	start = max(start, 1)
	count, err := strconv.Atoi(q.Get("count"))
	if err != nil {
		count = 100
	}
	count = min(max(count, 0), 100)
	s.mu.RLock()
	if f := q.Get("filter"); f != "" {
		m := refUserNameEq.FindStringSubmatch(f)
		if m == nil {
			s.mu.RUnlock()
			http.Error(w, `{"status":"400"}`, http.StatusBadRequest)
			return
		}
		if id, ok := s.byName[strings.ToLower(m[1])]; ok {
			total = 1
			if start == 1 && count > 0 {
				docs = append(docs, s.users[id])
			}
		}
	} else {
		total = len(s.order)
		for i := start - 1; i < len(s.order) && len(docs) < count; i++ {
			docs = append(docs, s.users[s.order[i]])
		}
	}
	s.mu.RUnlock()
	b := make([]byte, 0, 256+len(docs)*600)
	b = append(b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(docs)), 10)
	b = append(b, `,"Resources":[`...)
	for i, d := range docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, d...)
	}
	b = append(b, "]}"...)
	writeRaw(w, http.StatusOK, b)
}

func (s *refServer) createUser(w http.ResponseWriter, r *http.Request) {
	var doc map[string]any
	if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
		http.Error(w, `{"status":"400"}`, http.StatusBadRequest)
		return
	}
	name, _ := doc["userName"].(string)
	key := strings.ToLower(name)
	delete(doc, "password")
	s.mu.Lock()
	if _, taken := s.byName[key]; taken || name == "" {
		s.mu.Unlock()
		http.Error(w, `{"status":"409","scimType":"uniqueness"}`, http.StatusConflict)
		return
	}
	s.seq++
	id := strconv.Itoa(s.seq)
	s.byName[key] = id
	s.order = append(s.order, id)
	s.users[id] = nil // reserved; rendered below, outside the lock
	s.mu.Unlock()
	b := renderRefUser(doc, id, "http://"+r.Host+"/scim/v2")
	s.mu.Lock()
	s.users[id] = b
	s.mu.Unlock()
	w.Header().Set("Location", "http://"+r.Host+"/scim/v2/Users/"+id)
	writeRaw(w, http.StatusCreated, b)
}

func renderRefUser(doc map[string]any, id, base string) []byte {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	doc["id"] = id
	doc["meta"] = map[string]any{"resourceType": "User", "created": now, "lastModified": now,
		"location": base + "/Users/" + id, "version": `W/"1"`}
	b, _ := json.Marshal(doc)
	return b
}

// seedUser adds a user without HTTP, as the load tool's bulk loader does.
func (s *refServer) seedUser(doc map[string]any) string {
	name, _ := doc["userName"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := strconv.Itoa(s.seq)
	s.byName[strings.ToLower(name)] = id
	s.order = append(s.order, id)
	s.users[id] = renderRefUser(doc, id, "http://ref/scim/v2")
	return id
}

type refPatch struct {
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

// patchUser applies the simple paths Entra sends: a top-level attribute, a
// dotted sub-attribute, an extension URN path, emails[type eq "work"].value.
func (s *refServer) patchUser(w http.ResponseWriter, r *http.Request, id string) {
	var p refPatch
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, `{"status":"400"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[id]
	if !ok {
		http.Error(w, `{"status":"404"}`, http.StatusNotFound)
		return
	}
	var doc map[string]any
	_ = json.Unmarshal(old, &doc)
	for _, op := range p.Operations {
		var v any
		_ = json.Unmarshal(op.Value, &v)
		path := op.Path
		container := doc
		if i := strings.LastIndex(path, ":"); i >= 0 {
			ext, _ := doc[path[:i]].(map[string]any)
			if ext == nil {
				ext = map[string]any{}
				doc[path[:i]] = ext
			}
			container, path = ext, path[i+1:]
		}
		if strings.HasPrefix(path, "emails[") {
			list, _ := doc["emails"].([]any)
			set := false
			for _, e := range list {
				if m, ok := e.(map[string]any); ok && m["type"] == "work" {
					m["value"], set = v, true
				}
			}
			if !set {
				doc["emails"] = append(list, map[string]any{"type": "work", "value": v})
			}
			continue
		}
		if a, b, ok := strings.Cut(path, "."); ok {
			sub, _ := container[a].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				container[a] = sub
			}
			sub[b] = v
			continue
		}
		if path == "active" {
			if str, ok := v.(string); ok {
				v = strings.EqualFold(str, "true")
			}
		}
		container[path] = v
	}
	b, _ := json.Marshal(doc)
	s.users[id] = b
	writeRaw(w, http.StatusOK, b)
}

func (s *refServer) createGroup(w http.ResponseWriter, r *http.Request) {
	var doc struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
		http.Error(w, `{"status":"400"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.groupSeq++
	g := &refGroup{id: "g" + strconv.Itoa(s.groupSeq), displayName: doc.DisplayName, members: map[string]struct{}{}, version: 1}
	s.groups[g.id] = g
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"id": g.id, "displayName": g.displayName, "members": []any{}})
	writeRaw(w, http.StatusCreated, b)
}

func (s *refServer) patchGroup(w http.ResponseWriter, r *http.Request, id string) {
	var p refPatch
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, `{"status":"400"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil {
		http.Error(w, `{"status":"404"}`, http.StatusNotFound)
		return
	}
	for _, op := range p.Operations {
		switch {
		case strings.EqualFold(op.Op, "add"):
			var ms []struct {
				Value string `json:"value"`
			}
			_ = json.Unmarshal(op.Value, &ms)
			for _, m := range ms {
				if _, ok := s.users[m.Value]; ok {
					g.members[m.Value] = struct{}{}
				}
			}
		case strings.EqualFold(op.Op, "remove"):
			if m := refMemberEq.FindStringSubmatch(op.Path); m != nil {
				delete(g.members, m[1])
			}
		}
	}
	g.version++
	w.Header().Set("ETag", `W/"`+strconv.Itoa(g.version)+`"`)
	w.WriteHeader(http.StatusNoContent)
}

func (s *refServer) getGroup(w http.ResponseWriter, r *http.Request, id string) {
	excl := strings.Contains(strings.ToLower(r.URL.Query().Get("excludedAttributes")), "members")
	base := "http://" + r.Host + "/scim/v2"
	s.mu.RLock()
	g := s.groups[id]
	if g == nil {
		s.mu.RUnlock()
		http.Error(w, `{"status":"404"}`, http.StatusNotFound)
		return
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":`...)
	b = strconv.AppendQuote(b, g.id)
	b = append(b, `,"displayName":`...)
	b = strconv.AppendQuote(b, g.displayName)
	if !excl {
		b = append(b, `,"members":[`...)
		first := true
		for m := range g.members {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, `{"value":`...)
			b = strconv.AppendQuote(b, m)
			b = append(b, `,"$ref":`...)
			b = strconv.AppendQuote(b, base+"/Users/"+m)
			b = append(b, `,"type":"User"}`...)
		}
		b = append(b, ']')
	}
	s.mu.RUnlock()
	b = append(b, '}')
	writeRaw(w, http.StatusOK, b)
}
