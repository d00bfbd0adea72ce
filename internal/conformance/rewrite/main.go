// Command rewrite replaces, in the package redis_test files of a copy of
// go-redis's test suite, every call of a go-redis client constructor with a
// call of the wrapper that installs the retry hook (see
// ../testdata/hooked_test.go). It edits the files in place, byte for byte
// around the selector it replaces, so line numbers do not move and the
// ginkgo reports of the bare and hooked runs name the same locations.
//
// Calls inside a node factory (a func literal given as the NewClient field
// of ClusterOptions or RingOptions) are left alone: the cluster or ring owns
// those clients, and Install guards them through its node hooks.
//
// Usage: rewrite DIR
//
// It prints one line per file changed and a total per constructor.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const redisPath = "github.com/redis/go-redis/v9"

// wrappers maps a go-redis constructor to the wrapper that replaces it.
// NewSentinelClient is absent: hooks.Install takes no *redis.SentinelClient.
var wrappers = map[string]string{
	"NewClient":                "conformanceNewClient",
	"NewClusterClient":         "conformanceNewClusterClient",
	"NewRing":                  "conformanceNewRing",
	"NewFailoverClient":        "conformanceNewFailoverClient",
	"NewFailoverClusterClient": "conformanceNewFailoverClusterClient",
	"NewUniversalClient":       "conformanceNewUniversalClient",
}

type edit struct {
	start, end int
	text       string
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rewrite DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		fail(err)
	}
	totals := map[string]int{}
	skipped := 0
	sentinels := 0
	for _, name := range files {
		n, s, err := rewriteFile(name, totals, &sentinels)
		if err != nil {
			fail(err)
		}
		skipped += s
		if n > 0 {
			fmt.Printf("rewrite: %s: %d calls\n", filepath.Base(name), n)
		}
	}
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("rewrite: total redis.%s -> %s: %d\n", k, wrappers[k], totals[k])
	}
	fmt.Printf("rewrite: left alone inside node factories (NewClient: func...): %d\n", skipped)
	fmt.Printf("rewrite: left alone: redis.NewSentinelClient (hooks.Install takes no *redis.SentinelClient): %d\n", sentinels)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rewrite:", err)
	os.Exit(1)
}

// rewriteFile edits one file; it returns the number of calls replaced and
// the number left alone inside node factories.
func rewriteFile(name string, totals map[string]int, sentinels *int) (int, int, error) {
	src, err := os.ReadFile(name)
	if err != nil {
		return 0, 0, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return 0, 0, err
	}
	if f.Name.Name != "redis_test" {
		// Package redis (internal) test files cannot import the hook
		// without an import cycle; they run unhooked in both runs.
		return 0, 0, nil
	}
	local := redisName(f)
	if local == "" || local == "_" || local == "." {
		return 0, 0, nil
	}
	edits, skipped := findCalls(f, fset.File(f.Pos()), local, totals, sentinels)
	if len(edits) == 0 {
		return 0, skipped, nil
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := src
	for _, e := range edits {
		if strings.ContainsRune(string(out[e.start:e.end]), '\n') {
			return 0, 0, fmt.Errorf("%s: a selector spans lines at offset %d", name, e.start)
		}
		out = append(out[:e.start:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	if bytes.Equal(out, src) {
		return 0, skipped, nil
	}
	return len(edits), skipped, os.WriteFile(name, out, 0o644)
}

// redisName returns the name under which f imports go-redis, or "".
func redisName(f *ast.File) string {
	local := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p != redisPath {
			continue
		}
		local = "redis"
		if imp.Name != nil {
			local = imp.Name.Name
		}
	}
	return local
}

// findCalls returns the edits that point f's constructor calls at their
// wrappers, and how many it left alone inside node factories.
func findCalls(f *ast.File, tf *token.File, local string, totals map[string]int, sentinels *int) ([]edit, int) {
	factories := nodeFactories(f)
	var edits []edit
	skipped := 0
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok || pkg.Name != local {
			return true
		}
		w, ok := wrappers[sel.Sel.Name]
		if !ok {
			if sel.Sel.Name == "NewSentinelClient" {
				*sentinels++
			}
			return true
		}
		for _, fl := range factories {
			if call.Pos() >= fl.Pos() && call.End() <= fl.End() {
				skipped++
				return true
			}
		}
		edits = append(edits, edit{tf.Offset(sel.Pos()), tf.Offset(sel.End()), w})
		totals[sel.Sel.Name]++
		return true
	})
	return edits, skipped
}

// nodeFactories returns the func literals that build a cluster's or a
// ring's node clients: the value of a NewClient field in a composite
// literal, or the right side of an assignment to x.NewClient.
func nodeFactories(f *ast.File) []*ast.FuncLit {
	var out []*ast.FuncLit
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "NewClient" {
				if fl, ok := n.Value.(*ast.FuncLit); ok {
					out = append(out, fl)
				}
			}
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				s, ok := l.(*ast.SelectorExpr)
				if !ok || s.Sel.Name != "NewClient" || i >= len(n.Rhs) {
					continue
				}
				if fl, ok := n.Rhs[i].(*ast.FuncLit); ok {
					out = append(out, fl)
				}
			}
		}
		return true
	})
	return out
}
