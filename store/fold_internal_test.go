package store

import (
	"strings"
	"testing"
)

// TestFoldASCII checks Fold's ASCII shortcut against the rune-by-rune
// definition, for every ASCII byte alone and in a mixed string.
func TestFoldASCII(t *testing.T) {
	var all strings.Builder
	for c := range 128 {
		s := string(rune(c))
		all.WriteString(s)
		if got, want := Fold(s), strings.Map(foldRune, s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	s := all.String()
	if got, want := Fold(s), strings.Map(foldRune, s); got != want {
		t.Errorf("Fold(%q) = %q, want %q", s, got, want)
	}
	if got, want := Fold("ALICE@Example.COM ſam"), "alice@example.com sam"; got != want {
		t.Errorf("Fold of a non-ASCII string = %q, want %q", got, want)
	}
}
