package store

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// TestFoldASCII checks Fold's ASCII shortcut against the Unicode path, for
// every ASCII byte alone and in a mixed string.
func TestFoldASCII(t *testing.T) {
	var all strings.Builder
	for c := range 128 {
		s := string(rune(c))
		all.WriteString(s)
		if got, want := Fold(s), foldUnicode(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	s := all.String()
	if got, want := Fold(s), foldUnicode(s); got != want {
		t.Errorf("Fold(%q) = %q, want %q", s, got, want)
	}
}

func TestFoldEqualKeys(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"alice", "ALICE"},
		{"ALICE@Example.COM ſam", "alice@example.com sam"}, // long s
		{"Élodie", "éLODIE"},
		{"é", "e\u0301"},          // NFC and NFD
		{"ａｄｍｉｎ", "admin"},        // fullwidth
		{"ＡＤＭＩＮ", "admin"},        // fullwidth capitals
		{"admin\u200b", "admin"},  // zero-width space
		{"ad\u200dmin", "admin"},  // zero-width joiner
		{"\u202eadmin", "admin"},  // right-to-left override
		{"straße", "STRASSE"},     // full case folding
		{"ẞ", "ss"},               // capital sharp s
		{"\u212Aelvin", "kelvin"}, // Kelvin sign
		{"σς", "ΣΣ"},              // final sigma
		{"ﬁle", "FILE"},           // ligature
		{"Ꭰ", "ꭰ"},                // Cherokee, which cases.Fold leaves apart
		{"ǅ", "ǆ"},                // title case
		{"İstanbul", "i\u0307stanbul"},
	} {
		if Fold(tc.a) != Fold(tc.b) {
			t.Errorf("Fold(%q) = %q, Fold(%q) = %q, want equal", tc.a, Fold(tc.a), tc.b, Fold(tc.b))
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"admin", "admln"},
		{"é", "e"},
		{"a b", "ab"},
	} {
		if Fold(tc.a) == Fold(tc.b) {
			t.Errorf("Fold(%q) = Fold(%q) = %q, want different", tc.a, tc.b, Fold(tc.a))
		}
	}
}

// TestFoldIsStable checks, for every code point of the Basic Multilingual
// Plane alone and followed by combining marks, that a key folds to itself
// and that the composed and decomposed forms share it.
func TestFoldIsStable(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 7
	}
	for r := rune(0x80); r <= 0xFFFF; r += rune(step) {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, m := range []string{"", "\u0301", "\u0345", "\u0308\u0301"} {
			s := string(r) + m
			k := Fold(s)
			if Fold(k) != k {
				t.Errorf("Fold(%q) = %q, which folds to %q", s, k, Fold(k))
			}
			if d := Fold(norm.NFD.String(s)); d != k {
				t.Errorf("Fold(%q) = %q, but its NFD folds to %q", s, k, d)
			}
		}
	}
}

// TestFoldIsFullCaseFolding checks Fold against its definition written
// with golang.org/x/text/cases (full case folding; its folds of Cherokee
// letters, capitals to small and small to capitals, mapped to one member
// by foldRune), on every code point beyond ASCII, alone and before
// combining marks.
func TestFoldIsFullCaseFolding(t *testing.T) {
	caser := cases.Fold()
	def := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Cf, r) {
				return -1
			}
			return r
		}, s)
		s = caser.String(norm.NFKD.String(s))
		return norm.NFKD.String(strings.Map(foldRune, s))
	}
	last := rune(unicode.MaxRune)
	if testing.Short() {
		last = 0xFFFF
	}
	for r := rune(0x80); r <= last; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, m := range []string{"", "\u0345", "\u0301"} {
			if m != "" && r > 0xFFFF {
				break
			}
			s := string(r) + m
			if got, want := Fold(s), def(s); got != want {
				t.Errorf("Fold(%q) = %q, want %q", s, got, want)
			}
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"admin", "ＡＤＭＩＮ", "Straße", "e\u0301", "\u212A", "ᾼ", "\U00010391\u0345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Fold(s)
		if Fold(k) != k {
			t.Errorf("Fold(%q) = %q, which folds to %q", s, k, Fold(k))
		}
		if d := Fold(norm.NFD.String(s)); d != k {
			t.Errorf("Fold(%q) = %q, but its NFD folds to %q", s, k, d)
		}
	})
}

func BenchmarkFold(b *testing.B) {
	for _, s := range []string{"Alice.Smith@Example.com", "Élodie.Ünal@example.com"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Fold(s)
			}
		})
	}
}
