package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold returns the case-insensitive key of s: the one definition of "equal
// ignoring case" that every adapter and Eval share, for userName and
// displayName uniqueness, lookups and case-insensitive filters. It lowers
// each rune as strings.ToLower does and then maps it to the lower case of
// the smallest rune of its Unicode simple-folding orbit, so that "SAM",
// "sam" and "ſam" (long s), or "σ" and "ς", share one key.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Map(foldRune, s)
		}
	}
	// ASCII only: every letter's orbit ("K", "k", Kelvin sign) folds to its
	// lower case, and strings.ToLower returns s itself when it has none.
	return strings.ToLower(s)
}

func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return unicode.ToLower(least)
}
