// Command compare reads the ginkgo JSON reports of go-redis's suite run
// bare and hooked (see scripts/conformance.sh) and compares them spec by
// spec.
//
//	compare candidates -bare B.json -hooked H.json
//	    prints, one per line, the FILE:LINE focus of every spec that failed
//	    hooked after passing bare, or that failed bare: the specs to rerun.
//
//	compare report -bare B.json -hooked H.json [-rerun-bare R.json]... [-rerun-hooked R.json]...
//	    prints the counts and the differences, and exits 1 when there is
//	    at least one.
//
// A spec is known by its container texts, its own text and its file and
// line; specs that share all of these (the suite builds some in loops) are
// told apart by their order, which a fixed -ginkgo.seed keeps the same in
// every run, focused or not.
//
// The suite's BeforeSuite and AfterSuite are compared too. A failed bare
// BeforeSuite is an error (exit 2): the run says nothing.
//
// A difference is a spec that failed in every hooked run in which it ran
// (the full run and each rerun) and passed in every bare rerun; without
// reruns, one that passed bare and failed hooked. A spec that failed hooked
// once and passed a hooked rerun is reported as not reproducible; one that
// failed bare once and passed a bare rerun as flaky bare.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The parts of ginkgo's types.Report this command reads.
type suiteReport struct {
	SuiteSucceeded             bool
	SpecialSuiteFailureReasons []string
	RunTime                    int64
	SpecReports                []specReport
}

type location struct {
	FileName   string
	LineNumber int
}

type specReport struct {
	ContainerHierarchyTexts []string
	LeafNodeType            string
	LeafNodeLocation        location
	LeafNodeText            string
	State                   string
	RunTime                 int64
	Failure                 struct {
		Message        string
		Location       location
		ForwardedPanic string
	}
}

// spec is one spec of one run.
type spec struct {
	key   string // name, file:line and, for twins, #n
	name  string
	focus string // base file name and line, for -ginkgo.focus-file
	state string
	fail  string // first lines of the failure
	skip  string // why the spec skipped itself; "" when a filter skipped it
	// suite is set for the suite's own nodes (BeforeSuite, AfterSuite):
	// compared like specs, left out of the counts.
	suite bool
}

func (s spec) ran() bool    { return s.state != "skipped" && s.state != "pending" }
func (s spec) passed() bool { return s.state == "passed" }
func (s spec) failed() bool { return s.ran() && !s.passed() }

type run struct {
	path  string
	specs map[string]spec
	order []string
	suite suiteReport
}

func load(path string) (*run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var reports []suiteReport
	if err := json.Unmarshal(b, &reports); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(reports) != 1 {
		return nil, fmt.Errorf("%s: %d suites in the report, want 1", path, len(reports))
	}
	r := &run{path: path, specs: map[string]spec{}, suite: reports[0]}
	seen := map[string]int{}
	for _, sr := range reports[0].SpecReports {
		suiteNode := false
		switch sr.LeafNodeType {
		case "It":
		case "BeforeSuite", "AfterSuite", "SynchronizedBeforeSuite", "SynchronizedAfterSuite":
			suiteNode = true
		default:
			continue // report nodes
		}
		name := strings.Join(append(append([]string{}, sr.ContainerHierarchyTexts...), sr.LeafNodeText), " / ")
		if suiteNode {
			name = "[" + sr.LeafNodeType + "]"
		}
		focus := fmt.Sprintf("%s:%d", filepath.Base(sr.LeafNodeLocation.FileName), sr.LeafNodeLocation.LineNumber)
		base := name + " @ " + focus
		seen[base]++
		key := base
		if n := seen[base]; n > 1 {
			key = fmt.Sprintf("%s #%d", base, n)
		}
		s := spec{key: key, name: name, focus: focus, state: sr.State, fail: failureText(sr), suite: suiteNode}
		if sr.State == "skipped" {
			s.skip = skipReason(sr.Failure.Message)
		}
		r.specs[key] = s
		r.order = append(r.order, key)
	}
	return r, nil
}

func failureText(sr specReport) string {
	if sr.State == "passed" || sr.State == "skipped" || sr.State == "pending" {
		return ""
	}
	msg := strings.TrimSpace(sr.Failure.Message)
	if sr.Failure.ForwardedPanic != "" {
		msg = "panic: " + sr.Failure.ForwardedPanic + "\n" + msg
	}
	lines := strings.Split(msg, "\n")
	var keep []string
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			continue
		}
		keep = append(keep, l)
		if len(keep) == 6 {
			break
		}
	}
	if len(lines) > len(keep) && len(keep) == 6 {
		keep = append(keep, "...")
	}
	where := ""
	if sr.Failure.Location.FileName != "" {
		where = fmt.Sprintf("[%s at %s:%d] ", sr.State, filepath.Base(sr.Failure.Location.FileName), sr.Failure.Location.LineNumber)
	} else {
		where = "[" + sr.State + "] "
	}
	return where + strings.Join(keep, "\n")
}

// skipReason shortens the message of a spec that called Skip, so that the
// version gates group: "(redis version < 8.2) CLUSTER SHARDS..." gives
// "redis version < 8.2".
func skipReason(msg string) string {
	msg = strings.TrimSpace(msg)
	if strings.HasPrefix(msg, "(") {
		if i := strings.IndexByte(msg, ')'); i > 0 {
			return msg[1:i]
		}
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 60 {
		msg = msg[:60] + "..."
	}
	return msg
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	bare := fs.String("bare", "", "report of the full bare run")
	hooked := fs.String("hooked", "", "report of the full hooked run")
	unhookedFiles := fs.String("unhooked-files", "", "file listing the suite's package redis test files (run unhooked in both runs)")
	var rb, rh multi
	fs.Var(&rb, "rerun-bare", "report of a focused bare rerun (repeatable)")
	fs.Var(&rh, "rerun-hooked", "report of a focused hooked rerun (repeatable)")
	_ = fs.Parse(os.Args[2:])
	if *bare == "" || *hooked == "" {
		usage()
	}
	b, err := load(*bare)
	check(err)
	h, err := load(*hooked)
	check(err)
	switch os.Args[1] {
	case "candidates":
		candidates(b, h)
	case "report":
		var rbs, rhs []*run
		for _, p := range rb {
			r, err := load(p)
			check(err)
			rbs = append(rbs, r)
		}
		for _, p := range rh {
			r, err := load(p)
			check(err)
			rhs = append(rhs, r)
		}
		unhooked := map[string]bool{}
		if *unhookedFiles != "" {
			data, err := os.ReadFile(*unhookedFiles)
			check(err)
			for _, f := range strings.Fields(string(data)) {
				unhooked[filepath.Base(f)] = true
			}
		}
		os.Exit(report(b, h, rbs, rhs, unhooked))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: compare candidates|report -bare B.json -hooked H.json [-rerun-bare R.json]... [-rerun-hooked R.json]...")
	os.Exit(2)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
}

func candidates(b, h *run) {
	seen := map[string]bool{}
	for _, k := range b.order {
		bs := b.specs[k]
		hs, ok := h.specs[k]
		if bs.suite {
			continue // runs in every rerun anyway
		}
		if bs.failed() || (bs.passed() && ok && hs.failed()) {
			if !seen[bs.focus] {
				seen[bs.focus] = true
				fmt.Println(bs.focus)
			}
		}
	}
}

// verdict of one spec across every run.
type verdict struct {
	key            string
	bare, hooked   spec
	hookedFails    int // hooked runs it failed in
	hookedRuns     int
	bareRerunPass  int
	bareRerunRuns  int
	hookedRerunErr string // failure of the last hooked rerun
}

func report(b, h *run, rbs, rhs []*run, unhooked map[string]bool) int {
	if !sane(b, h) {
		return 2
	}
	printCounts(b, h, unhooked)
	j := judge(b, h, rbs, rhs)
	reruns := ""
	if len(rhs) > 0 || len(rbs) > 0 {
		reruns = fmt.Sprintf(" (reproduced in %d focused hooked rerun(s), passing %d bare rerun(s))", len(rhs), len(rbs))
	}
	fmt.Printf("differences:           %d%s\n", len(j.diffs), reruns)
	printJudgement(j)
	printBothFailed(b, h)
	if len(j.diffs) > 0 {
		return 1
	}
	return 0
}

// sane warns about runs that did not see the same suite, and reports
// false when the bare run's suite itself failed, so that its specs say
// nothing.
func sane(b, h *run) bool {
	if len(b.order) != len(h.order) {
		fmt.Printf("WARNING: the bare report has %d specs, the hooked one %d: the runs did not see the same suite\n",
			len(b.order), len(h.order))
	}
	for _, r := range []*run{b, h} {
		for _, why := range r.suite.SpecialSuiteFailureReasons {
			fmt.Printf("WARNING: %s: %s\n", filepath.Base(r.path), why)
		}
	}
	for _, k := range b.order {
		if s := b.specs[k]; s.suite && s.failed() {
			fmt.Printf("ERROR: the bare run's %s failed, so its specs say nothing:\n%s\n", s.name, indent(s.fail, "    "))
			return false
		}
	}
	return true
}

// count returns the specs of r (suite nodes aside) for which f holds.
func count(r *run, f func(spec) bool) int {
	n := 0
	for _, s := range r.specs {
		if !s.suite && f(s) {
			n++
		}
	}
	return n
}

// printCounts prints how many specs ran, were skipped and passed.
func printCounts(b, h *run, unhooked map[string]bool) {
	ranB, ranH := count(b, spec.ran), count(h, spec.ran)
	filtered, selfSkip := 0, map[string]int{}
	internal, nodes := 0, 0
	for _, s := range b.specs {
		switch {
		case s.suite:
			nodes++
		case s.state == "skipped" && s.skip == "":
			filtered++
		case s.state == "skipped":
			selfSkip[s.skip]++
		}
		if s.ran() && unhooked[s.focus[:strings.LastIndexByte(s.focus, ':')]] {
			internal++
		}
	}
	fmt.Printf("specs in the suite:    %d\n", len(b.order)-nodes)
	fmt.Printf("specs run:             %d bare, %d hooked\n", ranB, ranH)
	if len(unhooked) > 0 {
		fmt.Printf("                       of which %d in package redis test files, which cannot import the hook: unhooked in both runs\n", internal)
	}
	fmt.Printf("skipped (bare run):    %d by this script's filters, %d by the specs themselves: %s\n",
		filtered, len(b.specs)-nodes-ranB-filtered, topReasons(selfSkip))
	fmt.Printf("passed bare:           %d (failed %d)\n", count(b, spec.passed), count(b, spec.failed))
	fmt.Printf("passed hooked:         %d (failed %d)\n", count(h, spec.passed), count(h, spec.failed))
}

// judgement sorts the specs whose outcome differs.
type judgement struct {
	diffs, unrepro, flakyBare, skippedHooked []verdict
}

// judge weighs every spec across the full runs and the reruns: a
// difference passes every bare run it was in and fails every hooked one.
func judge(b, h *run, rbs, rhs []*run) judgement {
	var j judgement
	for _, k := range b.order {
		bs := b.specs[k]
		hs, ok := h.specs[k]
		if !ok {
			fmt.Printf("WARNING: %s ran bare only\n", k)
			continue
		}
		v := weigh(k, bs, hs, rbs, rhs)
		bareOK := v.bareRerunPass == v.bareRerunRuns && (bs.passed() || v.bareRerunRuns > 0)
		switch {
		case bs.failed() && v.bareRerunPass > 0:
			j.flakyBare = append(j.flakyBare, v)
			if bareOK && hs.failed() && v.hookedFails == v.hookedRuns {
				j.diffs = append(j.diffs, v)
			}
		case bs.passed() && hs.failed() && bareOK && v.hookedFails == v.hookedRuns:
			j.diffs = append(j.diffs, v)
		case bs.passed() && hs.failed():
			j.unrepro = append(j.unrepro, v)
		case bs.passed() && !hs.ran():
			j.skippedHooked = append(j.skippedHooked, v)
		}
	}
	return j
}

// weigh counts one spec's runs and failures across the reruns.
func weigh(k string, bs, hs spec, rbs, rhs []*run) verdict {
	v := verdict{key: k, bare: bs, hooked: hs, hookedRuns: 1}
	if hs.failed() {
		v.hookedFails = 1
	}
	for _, r := range rhs {
		if s, ok := r.specs[k]; ok && s.ran() {
			v.hookedRuns++
			if s.failed() {
				v.hookedFails++
				v.hookedRerunErr = s.fail
			}
		}
	}
	for _, r := range rbs {
		if s, ok := r.specs[k]; ok && s.ran() {
			v.bareRerunRuns++
			if s.passed() {
				v.bareRerunPass++
			}
		}
	}
	return v
}

// printJudgement prints the differences and the specs that came close.
func printJudgement(j judgement) {
	for i, v := range j.diffs {
		fmt.Printf("\n--- difference %d: %s\n", i+1, v.bare.name)
		fmt.Printf("    at %s; hooked: failed %d of %d runs", v.bare.focus, v.hookedFails, v.hookedRuns)
		if v.bareRerunRuns > 0 {
			fmt.Printf("; bare: passed %d of %d reruns", v.bareRerunPass, v.bareRerunRuns)
		}
		if v.bare.failed() {
			fmt.Printf(" (failed the full bare run once: flaky bare)")
		}
		fmt.Println()
		fmt.Println(indent(v.hooked.fail, "    "))
	}
	if len(j.unrepro) > 0 {
		fmt.Printf("\nnot reproducible (failed the full hooked run, passed a hooked rerun): %d\n", len(j.unrepro))
		for _, v := range j.unrepro {
			fmt.Printf("  - %s (%s): failed %d of %d hooked runs\n", v.bare.name, v.bare.focus, v.hookedFails, v.hookedRuns)
			fmt.Println(indent(v.hooked.fail, "      "))
		}
	}
	if len(j.flakyBare) > 0 {
		fmt.Printf("\nflaky bare (failed the full bare run, passed a bare rerun): %d\n", len(j.flakyBare))
		for _, v := range j.flakyBare {
			fmt.Printf("  - %s (%s): passed %d of %d bare reruns\n", v.bare.name, v.bare.focus, v.bareRerunPass, v.bareRerunRuns)
		}
	}
	if len(j.skippedHooked) > 0 {
		fmt.Printf("\npassed bare, skipped hooked (not counted as differences): %d\n", len(j.skippedHooked))
		for i, v := range j.skippedHooked {
			if i == 20 {
				fmt.Printf("  ... and %d more (see the reports)\n", len(j.skippedHooked)-i)
				break
			}
			fmt.Printf("  - %s (%s)\n", v.bare.name, v.bare.focus)
		}
	}
}

// printBothFailed lists, by file, the specs that fail both ways: they say
// something about this machine, not the hook.
func printBothFailed(b, h *run) {
	both := map[string]int{}
	for _, k := range b.order {
		if b.specs[k].failed() && h.specs[k].failed() {
			both[b.specs[k].focus[:strings.LastIndexByte(b.specs[k].focus, ':')]]++
		}
	}
	if len(both) == 0 {
		return
	}
	files := make([]string, 0, len(both))
	for f := range both {
		files = append(files, f)
	}
	sort.Strings(files)
	var parts []string
	for _, f := range files {
		parts = append(parts, fmt.Sprintf("%s %d", f, both[f]))
	}
	fmt.Printf("\nfailed bare and hooked (this machine's Redis 7.0, not the hook): %s\n", strings.Join(parts, ", "))
}

func topReasons(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range m {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n || l[i].n == l[j].n && l[i].k < l[j].k })
	var parts []string
	for _, e := range l {
		parts = append(parts, fmt.Sprintf("%d %q", e.n, e.k))
	}
	return strings.Join(parts, ", ")
}

func indent(s, pre string) string {
	if s == "" {
		return pre + "(no failure text)"
	}
	return pre + strings.ReplaceAll(s, "\n", "\n"+pre)
}
