package scim

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scimkit/scim/store/memory"
)

// journalOf returns a journal over a memory store, which keeps it, with
// its log lines in buf.
func journalOf(t *testing.T, size int, buf *syncBuffer) (*journal, *memory.Store) {
	t.Helper()
	st := memory.New()
	cfg := Config{JournalSize: size, Now: time.Now}
	return newJournal(cfg, st, slog.New(slog.NewJSONHandler(buf, nil))), st
}

// syncBuffer is a bytes.Buffer safe for the journal's background flush.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(s.b.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// served records one finished request of tenant acme.
func served(j *journal, path string) {
	r := &request{Request: httptest.NewRequest("GET", path, nil), principal: Principal{Tenant: "acme"}}
	j.record(r, &statusWriter{ResponseWriter: httptest.NewRecorder()}, time.Millisecond, nil)
}

// TestJournalDropsPastItsBuffer: while the store is not written, requests
// past the buffer are dropped rather than held up, and the next write
// logs how many.
func TestJournalDropsPastItsBuffer(t *testing.T) {
	var buf syncBuffer
	j, st := journalOf(t, 10, &buf)
	j.every = time.Hour // no write in the background during the test
	for range journalBuffer + 7 {
		served(j, "/Users")
	}
	if err := j.flush(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	var dropped []any
	for _, l := range buf.lines(t) {
		if l["level"] == "WARN" {
			dropped = append(dropped, l["dropped"])
		}
	}
	if len(dropped) != 1 || dropped[0] != float64(7) {
		t.Errorf("warnings' dropped counts %v, want one of 7", dropped)
	}
	if got, _ := st.Journal(t.Context(), "acme", 100); len(got) != 10 {
		t.Errorf("the store holds %d entries, want JournalSize 10 after pruning", len(got))
	}
	// The count starts again.
	served(j, "/Users")
	if err := j.flush(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if n := len(buf.lines(t)); n != 1 {
		t.Errorf("%d log lines after a write without drops, want still 1", n)
	}
}

// TestJournalWrittenInTheBackground: an entry reaches the store without
// Close or Journal being called.
func TestJournalWrittenInTheBackground(t *testing.T) {
	var buf syncBuffer
	j, st := journalOf(t, 10, &buf)
	j.every = time.Millisecond
	served(j, "/Users/u1")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got, _ := st.Journal(t.Context(), "acme", 10); len(got) == 1 {
			if got[0].Path != "/Users/u1" {
				t.Errorf("entry %+v, want /Users/u1", got[0])
			}
			return
		}
	}
	t.Fatal("the entry did not reach the store within 10 s")
}

// TestJournalText: what a store keeps is valid UTF-8 without NUL, bounded.
func TestJournalText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/Users/abc", "/Users/abc"},
		{"/Users/a\x00b", "/Users/a\ufffdb"},
		{"/Users/\xff", "/Users/\ufffd"},
		{"/Users/ééé", "/Users/é…"}, // cut inside the second é
	} {
		if got := journalText(c.in, 10); got != c.want {
			t.Errorf("journalText(%q, 10) = %q, want %q", c.in, got, c.want)
		}
	}
}
