package retryable

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeCodeIsExampleCode keeps the README honest: every line of its Go
// snippets must stand in a testable example, where it is compiled and its
// output checked.
func TestReadmeCodeIsExampleCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples strings.Builder
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") && strings.Contains(filepath.Base(path), "example") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			examples.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(examples.String(), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	blocks := 0
	in := false
	for i, l := range strings.Split(string(readme), "\n") {
		switch {
		case strings.HasPrefix(l, "```go"):
			in = true
			blocks++
		case in && strings.HasPrefix(l, "```"):
			in = false
		case in:
			line := strings.TrimSpace(l)
			if line == "" || strings.HasPrefix(line, "//") || line == "}" || line == ")" {
				continue
			}
			if !have[line] {
				t.Errorf("README.md:%d: %q is in no testable example", i+1, line)
			}
		}
	}
	if blocks == 0 {
		t.Fatal("no Go snippets found in README.md")
	}
}
