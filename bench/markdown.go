package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// fmtMS renders a time in milliseconds with a unit that fits; "—" for a
// negative (does not apply) or NaN value.
func fmtMS(ms float64) string {
	switch {
	case math.IsNaN(ms) || ms < 0:
		return "—"
	case ms == 0:
		return "0"
	case ms < 1:
		return fmt.Sprintf("%.0f µs", ms*1000)
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.2f s", ms/1000)
}

// fmtRecovery renders a recovery time: "> window" when the contender did
// not recover within the watched window, "—" without a fault.
func fmtRecovery(ms, window float64) string {
	switch {
	case math.IsNaN(ms) || window < 0:
		return "—"
	case ms < 0:
		return "> " + fmtMS(window)
	}
	return fmtMS(ms)
}

func fmtPct(p float64) string {
	switch {
	case p < 0 || math.IsNaN(p):
		return "—"
	case p == 100:
		return "100%"
	case p >= 99.95:
		return "99.9+%"
	}
	return fmt.Sprintf("%.1f%%", p)
}

func fmtNum(x float64, digits int) string {
	if math.IsNaN(x) || x < 0 {
		return "—"
	}
	return fmt.Sprintf("%.*f", digits, x)
}

// metric is one measure on which contenders are compared in the verdicts.
type metric struct {
	name   string
	better string // "higher" or "lower"
	value  func(r *runResult) float64
	// tie is how far apart two values may be and still count as level,
	// given the better of the two.
	tie    func(best float64) float64
	render func(r *runResult) string
}

var measures = []metric{
	{"success rate", "higher", func(r *runResult) float64 { return r.Success },
		func(float64) float64 { return 0.5 }, func(r *runResult) string { return fmtPct(r.Success) }},
	{"throughput (successful calls/s)", "higher", func(r *runResult) float64 { return r.Goodput },
		func(b float64) float64 { return 0.02 * b }, func(r *runResult) string { return fmtNum(r.Goodput, 0) + "/s" }},
	{"p99 latency", "lower", func(r *runResult) float64 { return r.P99 },
		func(b float64) float64 { return max(0.2*b, 2) }, func(r *runResult) string { return fmtMS(r.P99) }},
	{"double executions", "lower", func(r *runResult) float64 { return float64(r.Doubles) },
		func(float64) float64 { return 0 }, func(r *runResult) string { return fmt.Sprint(r.Doubles) }},
	{"recovery time", "lower", func(r *runResult) float64 {
		if r.FaultEnd < 0 {
			return math.NaN()
		}
		if r.Recovery < 0 {
			return math.Inf(1)
		}
		return r.Recovery
	}, func(float64) float64 { return 100 }, func(r *runResult) string { return fmtRecovery(r.Recovery, r.RecoveryWindow) }},
	{"calls returned past their deadline", "lower", func(r *runResult) float64 { return float64(r.Late) },
		func(float64) float64 { return 0 }, func(r *runResult) string { return fmt.Sprint(r.Late) }},
	// Below 1 a breaker refused calls, which is not less amplification:
	// every value up to 1 counts as 1.
	{"amplification (server requests per call)", "lower", func(r *runResult) float64 { return max(1, r.Amplification) },
		func(float64) float64 { return 0.02 }, func(r *runResult) string { return fmtNum(r.Amplification, 2) }},
}

// behind reports whether a is worse than b on m beyond a tie.
func (m metric) behind(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return false
	}
	if m.better == "higher" {
		return b-a > m.tie(b)
	}
	if math.IsInf(a, 1) {
		return !math.IsInf(b, 1)
	}
	return a-b > m.tie(b)
}

// verdicts says, in plain words, where each contender that is this library
// is not ahead of (or level with) every other contender, fault by fault,
// after a line that counts the faults where it is.
func (r *report) verdicts() []string {
	var out []string
	ahead := map[string]int{}
	for _, f := range r.Faults {
		others := slices.DeleteFunc(slices.Clone(f.Results), func(x runResult) bool { return isLibrary(x.Contender) })
		for i := range f.Results {
			lib := &f.Results[i]
			if !isLibrary(lib.Contender) || len(others) == 0 {
				continue
			}
			ahead[lib.Contender] += 0
			var gaps []string
			for _, m := range measures {
				// The best other contender on m.
				best := -1
				for j := range others {
					v := m.value(&others[j])
					if math.IsNaN(v) {
						continue
					}
					if best < 0 {
						best = j
						continue
					}
					if bv := m.value(&others[best]); (m.better == "higher" && v > bv) || (m.better == "lower" && v < bv) {
						best = j
					}
				}
				if best < 0 || !m.behind(m.value(lib), m.value(&others[best])) {
					continue
				}
				o := &others[best]
				gap := fmt.Sprintf("%s: %s against %s for %s", m.name, m.render(lib), m.render(o), o.Contender)
				if m.name == "p99 latency" && o.Success < lib.Success-5 {
					gap += fmt.Sprintf(" (but only %s of %s's calls succeeded, against %s: its fast answers are mostly refusals)",
						fmtPct(o.Success), o.Contender, fmtPct(lib.Success))
				}
				if m.name == "success rate" || strings.HasPrefix(m.name, "throughput") {
					if o.Doubles > lib.Doubles {
						gap += fmt.Sprintf(" (whose successes include %d INCRs run twice; %s ran none twice)",
							o.Doubles, lib.Contender)
						if lib.Doubles > 0 {
							gap = strings.Replace(gap, "ran none twice", fmt.Sprintf("ran %d twice", lib.Doubles), 1)
						}
					}
				}
				gaps = append(gaps, gap)
			}
			if len(gaps) == 0 {
				ahead[lib.Contender]++
				out = append(out, fmt.Sprintf("**%s**, %s: ahead of or level with every other contender on every measure.",
					f.Name, lib.Contender))
				continue
			}
			out = append(out, fmt.Sprintf("**%s**, %s is behind on %s.", f.Name, lib.Contender, strings.Join(gaps, "; ")))
		}
	}
	var summary []string
	for _, name := range libraryNames {
		if n, ok := ahead[name]; ok {
			summary = append(summary, fmt.Sprintf("%s is ahead of or level with every other contender on every measure in %d of %d faults",
				name, n, len(r.Faults)))
		}
	}
	if len(summary) > 0 {
		out = append([]string{strings.Join(summary, "; ") + "."}, out...)
	}
	return out
}

// markdown renders the report.
func (r *report) markdown(js jsonReport, charts map[string][]string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := js.Meta
	p("# retryable against what a Go team would use instead, under real faults\n\n")
	p("Generated by `%s` on %s; the run took %.1f minutes.\n\n", m.Command, m.Date, m.ElapsedS/60)
	p("- Machine: %s, %d CPUs (GOMAXPROCS %d), Linux %s. Timings on this shared machine are noisy: compare "+
		"contenders within this run, as ratios, not with other machines.\n", m.Machine, m.CPUs, m.GOMAXPROCS, m.Kernel)
	p("- Go %s; Redis %s (redis-server processes on loopback, free ports).\n", m.Go, m.Redis)
	var mods []string
	for k, v := range m.Modules {
		mods = append(mods, k+" "+v)
	}
	sort.Strings(mods)
	p("- Modules: %s. Toxiproxy runs inside the command (its proxy package), not as a separate binary.\n", strings.Join(mods, ", "))
	var sets []string
	for k, v := range m.Settings {
		sets = append(sets, k+" "+v)
	}
	sort.Strings(sets)
	p("- Settings: %s.\n\n", strings.Join(sets, ", "))

	if len(r.Failures) > 0 {
		p("**Parts of this run failed**; their figures are missing below:\n\n")
		for _, f := range r.Failures {
			p("- %s\n", f)
		}
		p("\n")
	}
	p("## Headline\n\n")
	p("| contender | double executions | recovery after restart | after outage | after freeze | p50 while frozen | worst amplification | success-path overhead | GET throughput vs %s |\n", r.Config.contenders[0].name)
	p("|---|---|---|---|---|---|---|---|---|\n")
	for _, h := range js.Headline {
		over := "—"
		if !math.IsNaN(float64(h.OverheadNs)) {
			over = fmt.Sprintf("%+.0f ns, %+d allocs", float64(h.OverheadNs), h.OverheadAllocs)
		}
		amp := "—"
		if !math.IsNaN(float64(h.WorstAmp)) {
			amp = fmt.Sprintf("%.2f (%s)", float64(h.WorstAmp), h.WorstAmpFault)
		}
		win := func(name string) float64 {
			if res := r.fault(name).of(h.Contender); res != nil {
				return res.RecoveryWindow
			}
			return -1
		}
		p("| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", h.Contender, h.Doubles,
			fmtRecovery(float64(h.RecoveryRestart), win("restart")), fmtRecovery(float64(h.RecoveryOutage), win("outage")),
			fmtRecovery(float64(h.RecoveryFreeze), win("freeze")), fmtMS(float64(h.FrozenP50)), amp, over,
			fmtNum(float64(h.Throughput), 3))
	}
	p("\n*double executions*: INCRs (each on its own key) that ran more than once, over every fault. "+
		"*recovery*: from the fault's end to the first of %d consecutive %s buckets in each of which at least %.0f%% "+
		"of the calls started succeeded within their deadline (\"> t\" = not within the t watched). "+
		"*p50 while frozen*: median latency of the calls started while the server was stopped (freeze): how fast "+
		"a caller learns. *amplification*: GET and INCR commands the servers received (INFO commandstats, executed "+
		"or rejected) per call the application made; the worst fault is named. *success-path overhead*: in-process "+
		"cost added to a GET whose reply is immediate, over the bare go-redis call (microbenchmarks below). "+
		"*GET throughput*: 64 goroutines, closed loop, against a healthy server, over the first contender.\n\n",
		stableBuckets, fmtMS(msOf(r.Config.bucket())), recoveredAt*100)

	p("## Where this library is not ahead\n\n")
	p("Each library contender (retryable, retryable-tuned) against the four others, fault by fault, on success rate, " +
		"throughput, p99 latency, double executions, recovery time, late calls and amplification. Level means within " +
		"0.5 points of success, 2%% of throughput, 20%% (or 2 ms) of p99, 100 ms of recovery, 0.02 of " +
		"amplification (where values up to 1 count as 1: a breaker that refuses calls does not amplify less). On this shared machine a stall of one worker process for a fraction of a second (other tenants) " +
		"moves its p99 and max: a p99 gap with no other gap in steady traffic is that, not the client.\n\n")
	for _, v := range js.Verdicts {
		p("- %s\n", v)
	}
	p("\n## Contenders\n\n")
	for _, c := range r.Config.contenders {
		p("- **%s**: %s\n", c.name, c.how)
	}
	p("\nThe definitions are in `bench/contenders.go`.\n\n")

	p("## Method\n\n")
	if r.Config.together {
		p("- Every fault runs all contenders at once (this run used `-together`), each in its own worker process (so " +
			"goroutines and memory are its own) against its own servers (so server-side counts and keys are its own). " +
			"The parent process runs the servers, the Toxiproxy proxies and the fault timeline, the same instants for " +
			"every contender. They share the machine's two cores and the parent's Toxiproxy: a contender that churns " +
			"connections or burns CPU in retries slows the others.\n")
	} else {
		p("- Every fault runs one contender after another, each alone on the machine: its own servers (so server-side " +
			"counts and keys are its own), its own worker process (so goroutines and memory are its own), the same " +
			"timeline. The parent process runs the servers, the Toxiproxy proxies and the fault timeline.\n")
	}
	p("- Workload per contender: an open load of %d calls per second, each started on schedule in a goroutine of its own "+
		"whether or not earlier calls have returned, as requests reach a service (a client that blocks piles up "+
		"goroutines; it cannot quietly lower the load). Every call has a %s context deadline. Calls alternate "+
		"GET of %d seeded keys and INCR of a new key each (lost replies: INCR only). A warm-up fills the pool first.\n"+
		"- A call *succeeds* when it returns no error (a miss counts) within its deadline plus %s. *Throughput* counts "+
		"successful calls per second of the window. Latency percentiles are over every call, failed or not.\n"+
		"- *Late*: calls that returned more than %s after their deadline. *Double executions*: after the run every INCR "+
		"key is read; a value above 1 is a command that ran more than once (*silent* when the caller was told it "+
		"succeeded); a key at 1 whose call reported an error ran although the caller was told it failed. The restart "+
		"and outage servers keep an AOF, so a command that ran before the kill still counts.\n"+
		"- *Recovery*: buckets of %s aligned on the fault's end, by call start; recovered at the start of the first "+
		"run of %d buckets that each saw at least one call and at least %.0f%% success. A bucket in which no call "+
		"started (every caller stuck) does not count as recovered.\n"+
		"- *Amplification*: INFO commandstats of every server of the contender (calls + rejected_calls of GET and "+
		"INCR), from just before the window to its end, banked across a restart (Redis does not count an AOF reload). "+
		"Redis counts the commands a replica applies from its master, so while a server is a replica (the failover's "+
		"replica before its promotion, the old master after its demotion) only its GETs and rejected INCRs count. "+
		"Divided by the calls the workload made.\n"+
		"- *Dials*: connections the client opened during the window. *Peak goroutines* and *peak heap* of the "+
		"worker process, sampled every 10 ms: one goroutine per call in flight plus the client's own; the heap "+
		"includes the recorded calls, alike for every contender.\n\n",
		r.Config.rate, r.Config.deadline(),
		getKeys, lateSlack, lateSlack, fmtMS(msOf(r.Config.bucket())), stableBuckets, recoveredAt*100)

	p("## Faults\n\n")
	for _, f := range r.Faults {
		p("### %s\n\n%s\n\n", f.Title, f.What)
		p("Window %s: healthy lead-in %s, fault planned %s, then watched until the end.\n\n",
			fmtMS(f.WindowMS), fmtMS(f.LeadMS), fmtMS(f.LengthMS))
		p("| contender | throughput | success | during fault | p50 | p99 | max | late (max past) | amplification | INCRs run twice (silent) | failed but ran | recovery | dials | peak goroutines | peak heap |\n")
		p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, x := range f.Results {
			late := fmt.Sprint(x.Late)
			if x.Late > 0 {
				late += " (" + fmtMS(x.MaxLate) + ")"
			}
			p("| %s | %s/s | %s | %s | %s | %s | %s | %s | %s | %d (%d) | %d | %s | %d | %d | %.1f MB |\n",
				x.Contender, fmtNum(x.Goodput, 0), fmtPct(x.Success), fmtPct(x.SuccessOn), fmtMS(x.P50), fmtMS(x.P99),
				fmtMS(x.Max), late, fmtNum(x.Amplification, 2), x.Doubles, x.SilentDoubles, x.RanButFailed,
				fmtRecovery(x.Recovery, x.RecoveryWindow), x.Dials, x.PeakGoroutines, x.PeakHeapMB)
		}
		p("\nErrors by kind: ")
		var parts []string
		for _, x := range f.Results {
			parts = append(parts, x.Contender+" "+errorSummary(x.Errors))
		}
		p("%s.", strings.Join(parts, "; "))
		var replies []string
		for _, x := range f.Results {
			m := map[string]int{}
			for k, v := range x.ServerErrors {
				// go-redis's handshake sends CLIENT subcommands that Redis
				// 7.0 does not know: three ERR replies per new connection.
				if k != "ERR" {
					m[k] = int(v)
				}
			}
			if len(m) > 0 {
				replies = append(replies, x.Contender+" "+errorSummary(m))
			}
		}
		if len(replies) > 0 {
			p(" Error replies the servers sent (INFO errorstats, without the ERR replies to go-redis's connection "+
				"handshake): %s.", strings.Join(replies, "; "))
		}
		var lost []string
		for _, x := range f.Results {
			if x.LostAcked > 0 {
				lost = append(lost, fmt.Sprintf("%s %d", x.Contender, x.LostAcked))
			}
		}
		if len(lost) > 0 {
			p(" INCRs reported successful whose key is missing afterwards (acknowledged writes lost): %s.", strings.Join(lost, ", "))
		}
		p("\n\n")
		for _, c := range charts[f.Name] {
			p("![%s](%s)\n", f.Name, c)
		}
		p("\n")
	}
	if c := charts["recovery"]; len(c) > 0 {
		p("## Recovery time per contender\n\n![recovery](%s)\n\nA bar at the top of its fault's watched tail did not recover within it.\n\n", c[0])
	}

	if len(r.Capacity) > 0 {
		p("## Closed-loop GET throughput\n\n%d goroutines doing GET as fast as they can against one healthy server, each "+
			"contender in turn in 50 ms rounds whose order reverses every other round, in the parent process.\n\n", capacityCallers)
		p("| contender | GET/s | vs %s | errors |\n|---|---|---|---|\n", r.Capacity[0].Contender)
		per := map[string]float64{}
		for _, c := range r.Capacity {
			p("| %s | %.0f | %.3f | %d |\n", c.Contender, c.PerSec, c.Ratio, c.Errors)
			per[c.Contender] = c.PerSec
		}
		p("\n")
		// Pairs that differ only by what wraps the calls.
		var pairs []string
		for _, pr := range [][2]string{{"retryable-tuned", "go-redis-tuned"}, {"failsafe-go", "go-redis-tuned"},
			{"cenkalti-backoff", "go-redis-tuned"}} {
			if per[pr[0]] > 0 && per[pr[1]] > 0 {
				pairs = append(pairs, fmt.Sprintf("%s / %s = %.3f", pr[0], pr[1], per[pr[0]]/per[pr[1]]))
			}
		}
		if len(pairs) > 0 {
			p("Contenders on the same go-redis timeouts, so that only the wrapping differs (failsafe-go and "+
				"cenkalti-backoff also turn go-redis's retries off, which costs nothing on success): %s. "+
				"retryable and go-redis differ also by their options (the library turns ContextTimeoutEnabled on).\n\n",
				strings.Join(pairs, ", "))
		}
	}
	if len(r.Micro) > 0 {
		p("## Microbenchmarks\n\nIn process, `testing.Benchmark`: a GET through a go-redis client whose last hook " +
			"answers it at once (no network), bare and wrapped; then the same call refused by an open breaker.\n\n")
		p("| case | path | ns/op | allocs/op | B/op |\n|---|---|---|---|---|\n")
		for _, x := range r.Micro {
			p("| %s | %s | %.0f | %d | %d |\n", x.Case, x.Path, x.NsPerOp, x.AllocsOp, x.BytesOp)
		}
		p("\n")
	}
	p("## Caveats\n\n" +
		"- One run on a shared 2-core machine (other tenants included): small differences (a few percent, a " +
		"bucket of recovery, a p99 in steady traffic) are noise.\n" +
		"- Loopback only: no real network latency or packet loss beyond what Toxiproxy injects.\n" +
		"- failsafe-go's breaker keeps a fixed delay (5 s here); this library's is probe-driven (25-500 ms), so " +
		"the recovery columns compare two designs, not two tunings of one.\n")
	return b.String()
}

// errorSummary renders error counts, largest first.
func errorSummary(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || (l[i].v == l[j].v && l[i].k < l[j].k) })
	var parts []string
	for _, x := range l {
		parts = append(parts, fmt.Sprintf("%s %d", x.k, x.v))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
