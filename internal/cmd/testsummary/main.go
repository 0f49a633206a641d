// Command testsummary reads `go test -json` output on standard input,
// prints each package's result and the output of failing tests as they
// finish, and ends with the line "N passed, N failed, N skipped". It exits
// non-zero when a test or a build failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	var passed, failed, skipped int
	buildFailed := false
	output := map[string][]string{} // package/test → output lines
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		line := in.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// Build errors are printed as plain text.
			fmt.Println(string(line))
			if strings.Contains(string(line), "FAIL") || strings.Contains(string(line), "error") {
				buildFailed = true
			}
			continue
		}
		key := e.Package + "/" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Print(e.Output)
		case "build-fail":
			buildFailed = true
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass":
			if e.Test != "" {
				passed++
			} else {
				fmt.Printf("ok   %s\t%.1fs\n", e.Package, e.Elapsed)
			}
			delete(output, key)
		case "skip":
			if e.Test != "" {
				skipped++
				// Say why a test skipped: the reason is its last output.
				if out := output[key]; len(out) > 0 && !strings.Contains(e.Test, "/") {
					fmt.Printf("skip %s %s: %s", e.Package, e.Test, strings.TrimSpace(out[len(out)-1])+"\n")
				}
			} else {
				fmt.Printf("?    %s\t[no test files]\n", e.Package)
			}
			delete(output, key)
		case "fail":
			if e.Test != "" {
				failed++
			}
			fmt.Print(strings.Join(output[key], ""))
			if e.Test == "" {
				fmt.Printf("FAIL %s\t%.1fs\n", e.Package, e.Elapsed)
				buildFailed = true
			}
			delete(output, key)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || buildFailed {
		os.Exit(1)
	}
}
