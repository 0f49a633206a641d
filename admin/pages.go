package admin

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// tokenRow is a token as the overview lists it.
type tokenRow struct {
	store.Token
	Status  string // "active", "revoked", "expired", "revoking" (scheduled)
	Working bool
}

func tokenRows(list []store.Token, now time.Time) []tokenRow {
	rows := make([]tokenRow, 0, len(list))
	for _, t := range list {
		row := tokenRow{Token: t, Status: "active", Working: true}
		switch {
		case !t.Revoked.IsZero() && !now.Before(t.Revoked):
			row.Status, row.Working = "revoked", false
		case !t.Expires.IsZero() && !now.Before(t.Expires):
			row.Status, row.Working = "expired", false
		case !t.Revoked.IsZero():
			row.Status = "revoking"
		}
		rows = append(rows, row)
	}
	return rows
}

// connection is the overview's "is the IdP connected" panel.
type connection struct {
	Last      *scim.JournalEntry // the last request, nil before any
	LastError *scim.JournalEntry // the last failed request among those kept
	LastUsed  time.Time          // the latest use of any token, from the store
}

type overviewData struct {
	BaseURL    string
	Tokens     []tokenRow
	Connection connection
	Held       bool
	Outbox     outboxView
}

func (a *Handler) overview(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	list, err := a.tokens.List(ctx, r.tenant)
	if err != nil {
		a.internal(w, r, "listing the tokens", err)
		return
	}
	ob, err := a.readOutbox(ctx, r.tenant)
	if err != nil {
		a.internal(w, r, "reading the event log", err)
		return
	}
	held, err := a.scim.DeprovisioningHeld(ctx, r.tenant)
	if err != nil {
		a.internal(w, r, "reading the deprovisioning hold", err)
		return
	}
	journal, err := a.scim.Journal(ctx, r.tenant)
	if err != nil {
		a.internal(w, r, "reading the journal", err)
		return
	}
	d := overviewData{BaseURL: a.cfg.BaseURL, Tokens: tokenRows(list, a.cfg.Now()), Held: held, Outbox: ob}
	if len(journal) > 0 {
		d.Connection.Last = &journal[0]
	}
	for i := range journal {
		if journal[i].Status >= 400 {
			d.Connection.LastError = &journal[i]
			break
		}
	}
	for _, t := range list {
		if t.LastUsed.After(d.Connection.LastUsed) {
			d.Connection.LastUsed = t.LastUsed
		}
	}
	a.render(w, r, http.StatusOK, "overview", "Overview", d)
}

// activityData is the journal page: the entries that pass the filters,
// and the values each filter offers.
type activityData struct {
	Entries                    []scim.JournalEntry
	Total                      int
	Status, Method, IdP        string
	Statuses, Methods, Clients []string
}

func (a *Handler) activity(w http.ResponseWriter, r *request) {
	q := r.URL.Query()
	d := activityData{
		Status: q.Get("status"), Method: q.Get("method"), IdP: q.Get("idp"),
		Statuses: []string{"2xx", "3xx", "4xx", "5xx"},
		Methods:  []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
	}
	journal, err := a.scim.Journal(r.Context(), r.tenant)
	if err != nil {
		a.internal(w, r, "reading the journal", err)
		return
	}
	d.Total = len(journal)
	for _, e := range journal {
		if !slices.Contains(d.Clients, e.Client) {
			d.Clients = append(d.Clients, e.Client)
		}
		if d.Status != "" && statusClass(e.Status) != d.Status ||
			d.Method != "" && e.Method != d.Method ||
			d.IdP != "" && e.Client != d.IdP {
			continue
		}
		d.Entries = append(d.Entries, e)
	}
	slices.Sort(d.Clients)
	if d.IdP != "" && !slices.Contains(d.Clients, d.IdP) {
		d.Clients = append(d.Clients, d.IdP) // keep the selection visible
	}
	a.render(w, r, http.StatusOK, "activity", "Activity", d)
}

func statusClass(status int) string { return strconv.Itoa(status/100) + "xx" }

// pager pages a list: 1-based page numbers, links built by the template.
type pager struct {
	Href              string // the page's path, without ?page=
	Page, Size, Total int
	First, Last       int // 1-based positions shown
	Prev, Next        int // 0 when there is none
}

func (a *Handler) pager(r *request, total int) pager {
	href := r.prefix + r.URL.Path
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	p := pager{Href: href, Page: n, Size: a.cfg.PageSize, Total: total}
	p.First = (n-1)*p.Size + 1
	p.Last = min(total, n*p.Size)
	if n > 1 {
		p.Prev = n - 1
	}
	if p.Last < total {
		p.Next = n + 1
	}
	return p
}

// pageOffset reads ?page= as an offset for the store.
func (a *Handler) pageOffset(r *request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 1_000_000 {
		return 0
	}
	return (n - 1) * a.cfg.PageSize
}

type userRow struct {
	ID, UserName, Name, Role string
	Active, Managed, Linked  bool
	Created                  time.Time
}

type usersData struct {
	Users []userRow
	Pager pager
}

func (a *Handler) users(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	var page store.UserPage
	err := a.store.View(ctx, r.tenant, func(rd store.Reader) error {
		var err error
		page, err = rd.ListUsers(ctx, store.Query{Offset: a.pageOffset(r), Limit: a.cfg.PageSize})
		return err
	})
	if err != nil {
		a.internal(w, r, "listing the users", err)
		return
	}
	d := usersData{Pager: a.pager(r, page.Total)}
	for _, u := range page.Users {
		d.Users = append(d.Users, userRow{
			ID: u.ID, UserName: u.UserName(), Name: displayName(u.Attributes), Role: u.Role,
			Active: u.Active(), Managed: u.Managed, Linked: u.Linked, Created: u.Meta.Created,
		})
	}
	a.render(w, r, http.StatusOK, "users", "Users", d)
}

// displayName is what a person is called: displayName, else the formatted
// name, else given and family names.
func displayName(attrs store.Attributes) string {
	if s, _ := attrs["displayName"].(string); s != "" {
		return s
	}
	name, _ := attrs["name"].(map[string]any)
	if s, _ := name["formatted"].(string); s != "" {
		return s
	}
	given, _ := name["givenName"].(string)
	family, _ := name["familyName"].(string)
	return strings.TrimSpace(given + " " + family)
}

type groupRow struct {
	ID, Name, ExternalID string
	Members              int
	Counted              bool
	LastModified         time.Time
}

type groupsData struct {
	Groups  []groupRow
	Pager   pager
	Counted bool // the store counts members (store.MemberCounter)
}

func (a *Handler) groups(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	d := groupsData{}
	var page store.GroupPage
	err := a.store.View(ctx, r.tenant, func(rd store.Reader) error {
		var err error
		// Never WithMembers: a page of groups costs a page of groups.
		page, err = rd.ListGroups(ctx, store.Query{Offset: a.pageOffset(r), Limit: a.cfg.PageSize})
		if err != nil {
			return err
		}
		mc, ok := rd.(store.MemberCounter)
		if !ok || len(page.Groups) == 0 {
			return nil
		}
		ids := make([]string, len(page.Groups))
		for i, g := range page.Groups {
			ids[i] = g.ID
		}
		counts, err := mc.MemberCounts(ctx, ids)
		if err != nil {
			return err
		}
		d.Counted = true
		for _, g := range page.Groups {
			n, ok := counts[g.ID]
			d.Groups = append(d.Groups, groupRow{ID: g.ID, Name: g.DisplayName(), ExternalID: g.ExternalID(),
				Members: n, Counted: ok, LastModified: g.Meta.LastModified})
		}
		return nil
	})
	if err != nil {
		a.internal(w, r, "listing the groups", err)
		return
	}
	if !d.Counted {
		for _, g := range page.Groups {
			d.Groups = append(d.Groups, groupRow{ID: g.ID, Name: g.DisplayName(), ExternalID: g.ExternalID(),
				LastModified: g.Meta.LastModified})
		}
	}
	d.Pager = a.pager(r, page.Total)
	a.render(w, r, http.StatusOK, "groups", "Groups", d)
}

// secretData is the page that shows a new token's secret, once.
type secretData struct {
	Secret   string
	Token    store.Token
	BaseURL  string
	Replaced string // the prefix of the token a regeneration replaced
	Revokes  time.Time
}

// expiries are the lifetimes the create form offers.
var expiries = map[string]time.Duration{"": 0, "never": 0, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

// overlaps are the overlaps the regenerate form offers.
var overlaps = map[string]time.Duration{"": 0, "0": 0, "1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

func (a *Handler) createToken(w http.ResponseWriter, r *request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	life, ok := expiries[r.PostFormValue("expires")]
	if name == "" || !ok || utf8.RuneCountInString(name) > 100 {
		a.errorPage(w, r, http.StatusBadRequest, "A token needs a name of at most 100 characters (such as “Okta production”) and one of the offered lifetimes.")
		return
	}
	var expires time.Time
	if life > 0 {
		expires = a.cfg.Now().Add(life)
	}
	secret, tok, err := a.tokens.Create(r.Context(), r.tenant, name, expires)
	if err != nil {
		a.internal(w, r, "creating the token", err)
		return
	}
	a.record(r, store.Event{Type: store.TokenCreated, TokenID: tok.ID,
		Detail: fmt.Sprintf("token %q (%s) created", tok.Name, tok.Prefix)})
	a.render(w, r, http.StatusOK, "secret", "Token created", secretData{Secret: secret, Token: tok, BaseURL: a.cfg.BaseURL})
}

func (a *Handler) revokeToken(w http.ResponseWriter, r *request, id string) {
	tok, ok := a.findToken(w, r, id)
	if !ok {
		return
	}
	if err := a.tokens.Revoke(r.Context(), r.tenant, id); err != nil {
		a.internal(w, r, "revoking the token", err)
		return
	}
	a.record(r, store.Event{Type: store.TokenRevoked, TokenID: id,
		Detail: fmt.Sprintf("token %q (%s) revoked", tok.Name, tok.Prefix)})
	redirect(w, r, "/?done=revoked")
}

func (a *Handler) regenerateToken(w http.ResponseWriter, r *request, id string) {
	overlap, ok := overlaps[r.PostFormValue("overlap")]
	if !ok {
		a.errorPage(w, r, http.StatusBadRequest, "Choose one of the offered overlaps.")
		return
	}
	old, ok := a.findToken(w, r, id)
	if !ok {
		return
	}
	secret, tok, err := a.tokens.Regenerate(r.Context(), r.tenant, id, overlap)
	if err != nil && secret == "" {
		a.internal(w, r, "regenerating the token", err)
		return
	}
	if err != nil {
		// The new token exists but the old one still works: show the
		// secret all the same, or it is lost.
		a.log.Error("admin: regenerate: old token not revoked", "tenant", r.tenant, "token", id, "err", err)
	}
	revokes := a.cfg.Now().Add(overlap)
	a.record(r, store.Event{Type: store.TokenRegenerated, TokenID: tok.ID,
		Detail: fmt.Sprintf("token %q (%s) regenerated as %s; the old one stops at %s", old.Name, old.Prefix, tok.Prefix,
			revokes.UTC().Format(time.RFC3339))})
	a.render(w, r, http.StatusOK, "secret", "Token regenerated",
		secretData{Secret: secret, Token: tok, BaseURL: a.cfg.BaseURL, Replaced: old.Prefix, Revokes: revokes})
}

// findToken returns the tenant's token id, or answers 404: another
// tenant's token is not found either.
func (a *Handler) findToken(w http.ResponseWriter, r *request, id string) (store.Token, bool) {
	list, err := a.tokens.List(r.Context(), r.tenant)
	if err != nil {
		a.internal(w, r, "reading the tokens", err)
		return store.Token{}, false
	}
	for _, t := range list {
		if t.ID == id {
			return t, true
		}
	}
	a.errorPage(w, r, http.StatusNotFound, "There is no such token.")
	return store.Token{}, false
}

func (a *Handler) confirmDeprovisioning(w http.ResponseWriter, r *request) {
	held, err := a.scim.ConfirmDeprovisioning(r.Context(), r.tenant)
	if err != nil {
		a.internal(w, r, "confirming the deprovisioning", err)
		return
	}
	if !held {
		redirect(w, r, "/?done=notheld")
		return
	}
	a.record(r, store.Event{Type: store.DeprovisioningConfirmed, Detail: "mass deprovisioning confirmed"})
	redirect(w, r, "/?done=confirmed")
}

// record stamps an admin action's event, records it in the store's outbox
// (when the store keeps one) and hands it to Config.OnEvent. The action
// already happened: a failure to record is logged, not shown.
func (a *Handler) record(r *request, e store.Event) {
	ctx := context.WithoutCancel(r.Context())
	e.Time = a.cfg.Now().UTC()
	e.Tenant = r.tenant
	e.Client = "admin"
	if a.cfg.Actor != nil {
		if who := a.cfg.Actor(r.Request); who != "" {
			e.Detail += " by " + who
		}
	}
	events := []store.Event{e}
	err := a.store.Update(ctx, r.tenant, func(tx store.Tx) error {
		if rec, ok := tx.(store.EventRecorder); ok {
			events = []store.Event{e} // a retried fn starts again
			return rec.RecordEvents(ctx, events)
		}
		return nil
	})
	if err != nil {
		a.log.Error("admin: could not record an event", "type", string(e.Type), "tenant", r.tenant, "err", err)
		return
	}
	if a.cfg.OnEvent == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			a.log.Error("admin: OnEvent panicked", "type", string(e.Type), "panic", fmt.Sprint(v))
		}
	}()
	a.cfg.OnEvent(ctx, events[0])
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ms":  func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + " ms" },
	"statusClass": func(status int) string {
		if status >= 400 {
			return "bad"
		}
		return "good"
	},
	"userName": func(u *store.User) string {
		if u == nil {
			return ""
		}
		return u.UserName()
	},
}
