package store

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fold returns the case-insensitive key of s: the one definition of "equal
// ignoring case" that every adapter and Eval share, for userName and
// displayName uniqueness, lookups, case-insensitive filters (eq, ne, co,
// sw, ew, gt, ge, lt, le) and sorting.
//
// The key is the compatibility caseless form of s (Unicode's D146): s
// without its format characters (category Cf, such as U+200B ZERO WIDTH
// SPACE or the bidirectional controls), in compatibility decomposition
// (NFKD), with Unicode full case folding, decomposed again. So "ADMIN",
// "admin" and "ａｄｍｉｎ" (fullwidth) share one key, as do "Straße" and
// "STRASSE", "é" written as one code point (NFC) or as "e" and a combining
// accent (NFD), "\u212Aelvin" (Kelvin sign) and "kelvin", "σ" and "ς".
// Keys are decomposed: co, sw and ew compare decomposed text, so
// userName sw "e" matches "élan".
//
// For ASCII text, the key is strings.ToLower(s). Fold(Fold(s)) == Fold(s).
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return foldUnicode(s)
		}
	}
	// ASCII only: every letter's case orbit ("K", "k", Kelvin sign) folds
	// to its lower case, and strings.ToLower returns s itself when it has
	// none.
	return strings.ToLower(s)
}

// casers holds case folders, which keep state between calls and so
// cannot be shared between goroutines.
var casers = sync.Pool{New: func() any { c := cases.Fold(); return &c }}

func foldUnicode(s string) string {
	s = strings.Map(dropFormat, s)
	s = norm.NFKD.String(s)
	c := casers.Get().(*cases.Caser)
	s = c.String(s)
	casers.Put(c)
	// cases.Fold leaves a few case pairs apart (it folds Cherokee capitals
	// to small letters and small letters to capitals): foldRune maps every
	// rune of a case orbit to one member.
	s = strings.Map(foldRune, s)
	// Folding can turn a character into one that decomposes (U+0130, İ,
	// folds to i and a combining dot).
	return norm.NFKD.String(s)
}

// dropFormat drops the invisible format characters (category Cf).
func dropFormat(r rune) rune {
	if r >= 0xAD && unicode.Is(unicode.Cf, r) {
		return -1
	}
	return r
}

// foldRune maps each rune of a simple case-folding orbit to the same rune
// (the lower case of the upper case of its lower case: "ſ", "s" and "S"
// give "s", the Kelvin sign, "k" and "K" give "k"), which is never a
// combining mark.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(unicode.ToLower(r)))
}
