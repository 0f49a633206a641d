package store

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

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

// foldUnicode is Fold beyond ASCII: NFKD, then each rune folded (format
// characters dropped, ß and ẞ as "ss", the rest by foldRune), then NFKD
// again where the result is not in NFKD (a format character dropped from
// between combining marks can leave them out of canonical order). After
// NFKD, Unicode's full case folding differs from its simple folding only
// on ß and ẞ: TestFoldIsFullCaseFolding checks every code point against
// golang.org/x/text/cases.
func foldUnicode(s string) string {
	f := folders.Get().(*folder)
	defer folders.Put(f)
	f.it.InitString(norm.NFKD, s)
	b := f.buf[:0]
	for !f.it.Done() {
		for seg := f.it.Next(); len(seg) > 0; {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			switch {
			case r < utf8.RuneSelf:
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				b = append(b, byte(r))
			case r == 'ß' || r == 'ẞ':
				b = append(b, "ss"...)
			case r >= 0xAD && unicode.Is(unicode.Cf, r):
			default:
				b = utf8.AppendRune(b, foldRune(r))
			}
		}
	}
	out := string(b)
	if norm.NFKD.QuickSpan(b) != len(b) {
		out = norm.NFKD.String(out)
	}
	if cap(b) <= 4096 {
		f.buf = b // a buffer for the next call, unless a rare big one
	}
	return out
}

// folder is foldUnicode's state, kept between calls: a normalising
// iterator and a buffer.
type folder struct {
	it  norm.Iter
	buf []byte
}

var folders = sync.Pool{New: func() any { return new(folder) }}

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
