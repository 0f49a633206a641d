package scim_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCIFuzzesEveryTarget checks that .ci/run's fuzzing step names every
// fuzz target of the module, so that a new one is not left to its seeds.
func TestCIFuzzesEveryTarget(t *testing.T) {
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(b, -1) {
			name := string(m[1])
			pkg := "./" + filepath.ToSlash(filepath.Dir(path))
			if pkg == "./." {
				pkg = "."
			}
			if !strings.Contains(string(ci), `"`+name+" "+pkg+" ") {
				t.Errorf(".ci/run does not fuzz %s in %s (%s)", name, pkg, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
