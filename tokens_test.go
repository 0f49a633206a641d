package scim_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// manualClock is a clock a test moves by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingTokenStore wraps a TokenStore, counting calls and failing the
// ones a test asks to fail.
type countingTokenStore struct {
	store.TokenStore
	lookups, touches atomic.Int64
	failLookup       atomic.Bool
	failTouch        atomic.Bool
	wrongDigest      atomic.Bool // answer lookups with a token of another digest
}

var errStoreDown = fmt.Errorf("token store down: %w", store.ErrUnavailable)

func (s *countingTokenStore) TokenByDigest(ctx context.Context, digest string) (store.Token, error) {
	s.lookups.Add(1)
	if s.failLookup.Load() {
		return store.Token{}, errStoreDown
	}
	if s.wrongDigest.Load() {
		// A store that matches on a prefix of the digest, say: the
		// constant-time comparison must catch it.
		tok, err := s.TokenStore.TokenByDigest(ctx, digest)
		tok.Digest = digest[:len(digest)-1] + "0"
		if strings.HasSuffix(digest, "0") {
			tok.Digest = digest[:len(digest)-1] + "1"
		}
		return tok, err
	}
	return s.TokenStore.TokenByDigest(ctx, digest)
}

func (s *countingTokenStore) TouchToken(ctx context.Context, tenant, id string, at time.Time) error {
	s.touches.Add(1)
	if s.failTouch.Load() {
		return errStoreDown
	}
	return s.TokenStore.TouchToken(ctx, tenant, id, at)
}

// tokensFixture is Tokens over a counting memory store, with a manual
// clock and a handler that authenticates with them.
type tokensFixture struct {
	t      *testing.T
	ctx    context.Context
	store  *countingTokenStore
	clock  *manualClock
	tokens *scim.Tokens
	logs   *syncBuffer
	base   string
}

func newTokensFixture(t *testing.T, cfg scim.TokensConfig) *tokensFixture {
	t.Helper()
	f := &tokensFixture{t: t, ctx: t.Context(), clock: newManualClock(), logs: new(syncBuffer)}
	mem := memory.New()
	f.store = &countingTokenStore{TokenStore: mem}
	cfg.Now = f.clock.Now
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(f.logs, nil))
	}
	var err error
	f.tokens, err = scim.NewTokens(f.store, cfg)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	h, err := scim.NewHandler(mem, demoPolicy, scim.Config{Authenticator: f.tokens, Logger: discardLogger(), Now: f.clock.Now})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	srv := httptest.NewServer(http.StripPrefix("/scim/v2", h))
	t.Cleanup(srv.Close)
	f.base = srv.URL + "/scim/v2"
	return f
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (f *tokensFixture) create(tenant, name string, expires time.Time) (string, scim.Token) {
	f.t.Helper()
	secret, tok, err := f.tokens.Create(f.ctx, tenant, name, expires)
	if err != nil {
		f.t.Fatalf("Create(%s, %s): %v", tenant, name, err)
	}
	return secret, tok
}

// status sends GET /Users with the secret and returns the status code.
func (f *tokensFixture) status(secret string) int {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.base+"/Users?count=1", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (f *tokensFixture) wantStatus(what, secret string, want int) {
	f.t.Helper()
	if got := f.status(secret); got != want {
		f.t.Errorf("%s: GET /Users answered %d, want %d", what, got, want)
	}
}

func (f *tokensFixture) list(tenant string) []scim.Token {
	f.t.Helper()
	list, err := f.tokens.List(f.ctx, tenant)
	if err != nil {
		f.t.Fatalf("List(%s): %v", tenant, err)
	}
	return list
}

var secretFormat = regexp.MustCompile(`^scim_([0-9a-hjkmnp-tv-z]{8})_([0-9a-hjkmnp-tv-z]{52})$`)

func TestTokensSecretsArePrefixedAndUnambiguous(t *testing.T) {
	f := newTokensFixture(t, scim.TokensConfig{})
	seen := map[string]bool{}
	for i := range 50 {
		secret, tok := f.create("acme", fmt.Sprintf("t%d", i), time.Time{})
		m := secretFormat.FindStringSubmatch(secret)
		if m == nil {
			t.Fatalf("secret %q does not match %v", secret, secretFormat)
		}
		if tok.ID != m[1] || tok.Prefix != "scim_"+m[1] || !strings.HasPrefix(secret, tok.Prefix) {
			t.Errorf("token id %q, prefix %q for secret %q; want the id and scim_<id>", tok.ID, tok.Prefix, secret)
		}
		if seen[secret] || seen[tok.ID] {
			t.Errorf("secret or id given twice: %s", secret)
		}
		seen[secret], seen[tok.ID] = true, true
	}
}

func TestTokensStoreOnlyDigests(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	for _, tc := range []struct {
		name   string
		key    []byte
		digest func(secret string) string
	}{
		{"SHA-256", nil, func(s string) string { d := sha256.Sum256([]byte(s)); return hex.EncodeToString(d[:]) }},
		{"HMAC-SHA-256", key, func(s string) string {
			m := hmac.New(sha256.New, key)
			m.Write([]byte(s))
			return hex.EncodeToString(m.Sum(nil))
		}},
	} {
		t.Run(tc.name+" in memory", func(t *testing.T) {
			f := newTokensFixture(t, scim.TokensConfig{Key: tc.key})
			secret, tok := f.create("acme", "okta", time.Time{})
			if tok.Digest != tc.digest(secret) {
				t.Errorf("digest %s, want %s", tok.Digest, tc.digest(secret))
			}
			stored := fmt.Sprintf("%#v", f.list("acme"))
			if body := secretFormat.FindStringSubmatch(secret)[2]; strings.Contains(stored, body) {
				t.Errorf("the store holds the secret's random part: %s", stored)
			}
			f.wantStatus("the secret", secret, http.StatusOK)
		})
	}

	t.Run("nowhere in a SQLite file", func(t *testing.T) {
		dir := t.TempDir()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "scim.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		st, err := sqlstore.New(db, sqlstore.SQLite)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		tokens, err := scim.NewTokens(st, scim.TokensConfig{})
		if err != nil {
			t.Fatal(err)
		}
		secret, tok, err := tokens.Create(t.Context(), "acme", "okta", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.Authenticate(t.Context(), secret); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		db.Close()
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		var all []byte
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		body := secretFormat.FindStringSubmatch(secret)[2]
		if bytes.Contains(all, []byte(body)) {
			t.Errorf("the database files hold the secret's random part")
		}
		if !bytes.Contains(all, []byte(tok.Digest)) {
			t.Errorf("the database files do not hold the digest %s (did the test read the right files? %v)", tok.Digest, files)
		}
	})
}

func TestTokensRotationOverlaps(t *testing.T) {
	f := newTokensFixture(t, scim.TokensConfig{})
	oldSecret, old := f.create("acme", "okta", time.Time{})
	f.clock.Advance(time.Second)
	newSecret, _ := f.create("acme", "okta (rotated)", time.Time{})
	f.wantStatus("the old token while both are active", oldSecret, http.StatusOK)
	f.wantStatus("the new token while both are active", newSecret, http.StatusOK)
	if got := f.list("acme"); len(got) != 2 || !got[0].Active(f.clock.Now()) || !got[1].Active(f.clock.Now()) {
		t.Errorf("List: %+v, want two active tokens", got)
	}

	if err := f.tokens.Revoke(f.ctx, "acme", old.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	f.wantStatus("the revoked token, on the next call", oldSecret, http.StatusUnauthorized)
	f.wantStatus("the other token after the revocation", newSecret, http.StatusOK)
	if err := f.tokens.Revoke(f.ctx, "acme", old.ID); err != nil {
		t.Errorf("Revoke again: %v, want nil", err)
	}
}

func TestTokensRegenerate(t *testing.T) {
	t.Run("at once", func(t *testing.T) {
		f := newTokensFixture(t, scim.TokensConfig{})
		oldSecret, old := f.create("acme", "okta", f.clock.Now().Add(90*24*time.Hour))
		f.clock.Advance(24 * time.Hour)
		newSecret, tok, err := f.tokens.Regenerate(f.ctx, "acme", old.ID, 0)
		if err != nil {
			t.Fatalf("Regenerate: %v", err)
		}
		want := scim.Token{
			ID: tok.ID, Tenant: "acme", Name: "okta", Prefix: tok.Prefix, Digest: tok.Digest,
			Created: f.clock.Now(), Expires: f.clock.Now().Add(90 * 24 * time.Hour),
		}
		if diff := cmp.Diff(want, tok); diff != "" {
			t.Errorf("regenerated token: same name and lifetime, from now (-want +got):\n%s", diff)
		}
		f.wantStatus("the old token", oldSecret, http.StatusUnauthorized)
		f.wantStatus("the new token", newSecret, http.StatusOK)
	})

	t.Run("with an overlap", func(t *testing.T) {
		f := newTokensFixture(t, scim.TokensConfig{})
		oldSecret, old := f.create("acme", "okta", time.Time{})
		newSecret, _, err := f.tokens.Regenerate(f.ctx, "acme", old.ID, time.Hour)
		if err != nil {
			t.Fatalf("Regenerate: %v", err)
		}
		f.wantStatus("the old token during the overlap", oldSecret, http.StatusOK)
		f.wantStatus("the new token during the overlap", newSecret, http.StatusOK)
		f.clock.Advance(time.Hour)
		f.wantStatus("the old token after the overlap", oldSecret, http.StatusUnauthorized)
		f.wantStatus("the new token after the overlap", newSecret, http.StatusOK)
	})

	t.Run("only the tenant's own tokens", func(t *testing.T) {
		f := newTokensFixture(t, scim.TokensConfig{})
		secret, tok := f.create("acme", "okta", time.Time{})
		if _, _, err := f.tokens.Regenerate(f.ctx, "other", tok.ID, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Regenerate of another tenant's token: %v, want ErrNotFound", err)
		}
		if err := f.tokens.Revoke(f.ctx, "other", tok.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Revoke of another tenant's token: %v, want ErrNotFound", err)
		}
		if got := f.list("other"); len(got) != 0 {
			t.Errorf("List(other) = %+v, want none", got)
		}
		f.wantStatus("the token after another tenant's attempts", secret, http.StatusOK)
	})
}

func TestTokensExpire(t *testing.T) {
	f := newTokensFixture(t, scim.TokensConfig{})
	secret, _ := f.create("acme", "okta", f.clock.Now().Add(time.Hour))
	f.wantStatus("before the expiry", secret, http.StatusOK)
	f.clock.Advance(time.Hour - time.Nanosecond)
	f.wantStatus("just before the expiry", secret, http.StatusOK)
	f.clock.Advance(time.Nanosecond)
	f.wantStatus("at the expiry", secret, http.StatusUnauthorized)
	if got := f.list("acme"); len(got) != 1 || got[0].Active(f.clock.Now()) {
		t.Errorf("List: %+v, want one inactive token", got)
	}

	if _, _, err := f.tokens.Create(f.ctx, "acme", "late", f.clock.Now()); err == nil {
		t.Error("Create with an expiry that is not in the future: no error")
	}
}

func TestTokensLastUsedWritesAreThrottled(t *testing.T) {
	f := newTokensFixture(t, scim.TokensConfig{}) // default: a minute
	secret, tok := f.create("acme", "okta", time.Time{})
	other, _ := f.create("acme", "entra", time.Time{})
	start := f.clock.Now()
	for range 10 {
		f.wantStatus("a burst", secret, http.StatusOK)
	}
	if got := f.store.touches.Load(); got != 1 {
		t.Errorf("%d last-used writes for a burst of 10 requests, want 1", got)
	}
	f.wantStatus("another token", other, http.StatusOK)
	if got := f.store.touches.Load(); got != 2 {
		t.Errorf("%d last-used writes after another token's request, want 2 (throttled per token)", got)
	}
	f.clock.Advance(59 * time.Second)
	f.wantStatus("within the minute", secret, http.StatusOK)
	if got := f.store.touches.Load(); got != 2 {
		t.Errorf("%d last-used writes within the minute, want 2", got)
	}
	f.clock.Advance(time.Second)
	f.wantStatus("a minute later", secret, http.StatusOK)
	if got := f.store.touches.Load(); got != 3 {
		t.Errorf("%d last-used writes a minute later, want 3", got)
	}
	list := f.list("acme")
	var got scim.Token
	for _, l := range list {
		if l.ID == tok.ID {
			got = l
		}
	}
	if want := start.Add(time.Minute); !got.LastUsed.Equal(want) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, want)
	}

	t.Run("a failing write does not fail the request", func(t *testing.T) {
		f.store.failTouch.Store(true)
		defer f.store.failTouch.Store(false)
		f.clock.Advance(time.Hour)
		f.wantStatus("with the last-used write failing", secret, http.StatusOK)
		if !strings.Contains(f.logs.String(), "cannot record token use") {
			t.Errorf("the failure is not logged; logs:\n%s", f.logs)
		}
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("the log holds the secret:\n%s", f.logs)
		}
	})

	t.Run("every use when TouchEvery is negative", func(t *testing.T) {
		f := newTokensFixture(t, scim.TokensConfig{TouchEvery: -1})
		secret, _ := f.create("acme", "okta", time.Time{})
		for range 3 {
			f.wantStatus("a request", secret, http.StatusOK)
		}
		if got := f.store.touches.Load(); got != 3 {
			t.Errorf("%d last-used writes, want 3", got)
		}
	})
}

func TestTokensAuthenticate(t *testing.T) {
	f := newTokensFixture(t, scim.TokensConfig{})
	secret, tok := f.create("acme", "okta", time.Time{})
	_, conn, err := f.tokens.CreateConnection(f.ctx, "acme", "entra", "entra", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	connSecret, _, err := f.tokens.Regenerate(f.ctx, "acme", conn.ID, time.Hour) // keeps the connection
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		token string
		want  scim.Principal
	}{
		{"a token", secret, scim.Principal{Tenant: "acme", TokenID: tok.ID}},
		{"a connection's token", connSecret, scim.Principal{Tenant: "acme", TokenID: connSecret[5:13], Connection: "entra"}},
	} {
		p, err := f.tokens.Authenticate(f.ctx, tc.token)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, p); diff != "" {
			t.Errorf("%s: Principal (-want +got):\n%s", tc.name, diff)
		}
	}

	before := f.store.lookups.Load()
	flipped := secret[:len(secret)-2] + "00"
	if strings.HasSuffix(secret, "00") {
		flipped = secret[:len(secret)-2] + "11"
	}
	for _, bad := range []string{"", "not-a-token", "SCIM_" + secret[5:], secret[:len(secret)-1], secret + "x", flipped} {
		if _, err := f.tokens.Authenticate(f.ctx, bad); !errors.Is(err, scim.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q): %v, want ErrUnauthenticated", bad, err)
		}
	}
	if got := f.store.lookups.Load() - before; got != 3 {
		t.Errorf("%d store lookups for 6 bad tokens, want 3 (none without the scim_ prefix)", got)
	}

	t.Run("a stored digest that differs is refused", func(t *testing.T) {
		f.store.wrongDigest.Store(true)
		defer f.store.wrongDigest.Store(false)
		if _, err := f.tokens.Authenticate(f.ctx, secret); !errors.Is(err, scim.ErrUnauthenticated) {
			t.Errorf("Authenticate with a store answering another digest: %v, want ErrUnauthenticated", err)
		}
	})

	t.Run("a failing store is not a refusal", func(t *testing.T) {
		f.store.failLookup.Store(true)
		defer f.store.failLookup.Store(false)
		_, err := f.tokens.Authenticate(f.ctx, secret)
		if err == nil || errors.Is(err, scim.ErrUnauthenticated) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Authenticate with the store down: %v, want an error matching store.ErrUnavailable", err)
		}
		f.wantStatus("with the store down", secret, http.StatusServiceUnavailable)
	})
}

func TestAuthenticatorsChain(t *testing.T) {
	f := newTokensFixture(t, scim.TokensConfig{})
	stored, tok := f.create("acme", "okta", time.Time{})
	set := scim.NewStaticTokens()
	set.Add("beta", "configured-token")
	auth := scim.Authenticators(set, f.tokens)

	for _, tc := range []struct {
		name, token, tenant, tokenID string
	}{
		{"a configured token", "configured-token", "beta", ""},
		{"a stored token", stored, "acme", tok.ID},
	} {
		p, err := auth.Authenticate(f.ctx, tc.token)
		if err != nil || p.Tenant != tc.tenant || (tc.tokenID != "" && p.TokenID != tc.tokenID) {
			t.Errorf("%s: %+v, %v; want tenant %s", tc.name, p, err, tc.tenant)
		}
	}
	if _, err := auth.Authenticate(f.ctx, "scim_unknown"); !errors.Is(err, scim.ErrUnauthenticated) {
		t.Errorf("an unknown token: %v, want ErrUnauthenticated", err)
	}

	f.store.failLookup.Store(true)
	if _, err := auth.Authenticate(f.ctx, "configured-token"); err != nil {
		t.Errorf("a configured token with the token store down: %v, want accepted", err)
	}
	if _, err := auth.Authenticate(f.ctx, "scim_unknown"); err == nil || errors.Is(err, scim.ErrUnauthenticated) {
		t.Errorf("an unknown token with the token store down: %v, want the store's error (503, not 401)", err)
	}
}

func TestNewTokensRefusesAShortKey(t *testing.T) {
	if _, err := scim.NewTokens(memory.New(), scim.TokensConfig{Key: []byte("short")}); err == nil {
		t.Error("NewTokens with a 5-byte key: no error")
	}
	if _, _, err := mustTokens(t).Create(t.Context(), "", "x", time.Time{}); err == nil {
		t.Error("Create without a tenant: no error")
	}
}

func mustTokens(t *testing.T) *scim.Tokens {
	t.Helper()
	tokens, err := scim.NewTokens(memory.New(), scim.TokensConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}
