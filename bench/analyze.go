package main

import (
	"math"
	"slices"
	"time"
)

// Definitions shared by the analysis and the report.
const (
	// lateSlack is how far past its deadline a call may return and still
	// count as on time: timer and scheduler noise of a busy machine.
	lateSlack = 10 * time.Millisecond
	// stableBuckets is how many buckets in a row must reach recoveredAt
	// for a contender to count as recovered.
	stableBuckets = 5
	// recoveredAt is the success rate of a recovered bucket.
	recoveredAt = 0.99
)

// runResult is what one contender did in one fault. Times are milliseconds;
// -1 stands for "does not apply".
type runResult struct {
	Contender string `json:"contender"`

	Calls     int     `json:"calls"`      // calls started in the window
	OK        int     `json:"ok"`         // calls that succeeded within their deadline
	Goodput   float64 `json:"goodput"`    // OK per second of the window
	Success   float64 `json:"success"`    // OK/Calls, percent
	SuccessOn float64 `json:"success_on"` // the same for calls started while the fault was on

	P50   float64 `json:"p50_ms"` // latency of every call, successful or not
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	P50On float64 `json:"p50_on_ms"` // p50 of the calls started while the fault was on

	Late    int     `json:"late"`        // calls that returned more than lateSlack after their deadline
	MaxLate float64 `json:"max_late_ms"` // the latest, past the deadline

	Errors map[string]int `json:"errors"` // failed calls by kind (late successes are not here)

	Received int64 `json:"received"` // GET and INCR commands the servers received
	// ServerErrors are the error replies the servers sent, by prefix
	// (INFO errorstats): READONLY, LOADING, ...
	ServerErrors  map[string]int64 `json:"server_errors"`
	Amplification float64          `json:"amplification"` // Received/Calls

	Incrs         int   `json:"incrs"`          // INCR calls, each on its own key
	Doubles       int   `json:"doubles"`        // keys above 1: INCRs that ran more than once
	ExtraRuns     int64 `json:"extra_runs"`     // the runs beyond the first, summed
	SilentDoubles int   `json:"silent_doubles"` // doubles the caller was told succeeded
	RanButFailed  int   `json:"ran_but_failed"` // INCRs reported failed that ran anyway
	LostAcked     int   `json:"lost_acked"`     // INCRs reported successful whose key is missing

	Recovery float64 `json:"recovery_ms"` // from the fault's end to recovered; -1 if never within the window
	// RecoveryWindow is the time after the fault's end that was watched.
	RecoveryWindow float64 `json:"recovery_window_ms"`
	FaultEnd       float64 `json:"fault_end_ms"` // from T0; -1 without a fault

	Dials          int64   `json:"dials"`           // connections the client dialed
	BaseGoroutines int     `json:"base_goroutines"` // of the worker process before the load
	PeakGoroutines int     `json:"peak_goroutines"`
	PeakHeapMB     float64 `json:"peak_heap_mb"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`

	Series series `json:"series"`
}

// series is the run over time, in buckets of Bucket ms by call start:
// the success rate (percent; -1 for a bucket in which no call started)
// and the p99 latency (ms; -1 when empty).
type series struct {
	Bucket  float64   `json:"bucket_ms"`
	Success []float64 `json:"success"`
	P99     []float64 `json:"p99_ms"`
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// inputs of analyze.
type runInputs struct {
	rep      *workerReport
	ep       episode
	window   time.Duration
	bucket   time.Duration
	deadline time.Duration
	received int64
	counts   []int64 // values of the INCR keys by sequence number
}

// analyze turns what a worker recorded into a runResult.
func analyze(name string, in runInputs) runResult {
	rep := in.rep
	r := runResult{Contender: name, Errors: map[string]int{}, SuccessOn: -1, P50On: -1,
		Recovery: -1, RecoveryWindow: -1, FaultEnd: -1, Received: in.received, Dials: rep.Dials,
		BaseGoroutines: rep.BaseGoroutines, PeakGoroutines: rep.PeakGoroutines,
		PeakHeapMB: float64(rep.PeakHeap) / (1 << 20), PeakRSSMB: float64(rep.PeakRSS) / (1 << 20)}
	r.Calls = len(rep.Start)
	limit := int64(in.deadline + lateSlack)
	ok := func(i int) bool { return rep.Kind[i] == kindOK && rep.Lat[i] <= limit }
	on := func(start int64) bool {
		for _, iv := range in.ep.On {
			if start >= int64(iv[0]) && start < int64(iv[1]) {
				return true
			}
		}
		return false
	}
	var lat, latOn []int64
	var callsOn, okOn int
	for i := range rep.Start {
		lat = append(lat, rep.Lat[i])
		if ok(i) {
			r.OK++
		} else if rep.Kind[i] != kindOK {
			r.Errors[rep.Kind[i].String()]++
		}
		if rep.Lat[i] > limit {
			r.Late++
			r.MaxLate = max(r.MaxLate, msOf(time.Duration(rep.Lat[i]-int64(in.deadline))))
		}
		if on(rep.Start[i]) {
			callsOn++
			latOn = append(latOn, rep.Lat[i])
			if ok(i) {
				okOn++
			}
		}
	}
	if r.Calls > 0 {
		r.Success = 100 * float64(r.OK) / float64(r.Calls)
		r.Amplification = float64(in.received) / float64(r.Calls)
	}
	r.Goodput = float64(r.OK) / in.window.Seconds()
	slices.Sort(lat)
	r.P50, r.P99, r.Max = msOf(pct(lat, 0.5)), msOf(pct(lat, 0.99)), msOf(pct(lat, 1))
	if callsOn > 0 {
		r.SuccessOn = 100 * float64(okOn) / float64(callsOn)
		slices.Sort(latOn)
		r.P50On = msOf(pct(latOn, 0.5))
	}

	// Double executions: every INCR has its own key.
	acked := make([]bool, len(in.counts))
	for i, s := range rep.Seq {
		if s >= 0 {
			r.Incrs++
			if int(s) < len(acked) && rep.Kind[i] == kindOK {
				acked[s] = true
			}
		}
	}
	for s, v := range in.counts {
		switch {
		case v >= 2:
			r.Doubles++
			r.ExtraRuns += v - 1
			if acked[s] {
				r.SilentDoubles++
			}
		case v == 1 && !acked[s]:
			r.RanButFailed++
		case v == 0 && acked[s]:
			r.LostAcked++
		}
	}

	if in.ep.End >= 0 {
		r.FaultEnd = msOf(in.ep.End)
		r.RecoveryWindow = msOf(in.window - in.ep.End)
		if d, found := recovery(rep, ok, in.ep.End, in.window, in.bucket); found {
			r.Recovery = msOf(d)
		}
	}
	r.Series = seriesOf(rep, ok, in.window, in.bucket)
	return r
}

// pct returns the q-th quantile (0 < q <= 1) of sorted values.
func pct(sorted []int64, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return time.Duration(sorted[max(0, min(i, len(sorted)-1))])
}

// recovery returns the time from end to the start of the first of
// stableBuckets consecutive buckets (of width bucket, aligned on end, by
// call start) in each of which at least one call started and at least
// recoveredAt of the calls succeeded within their deadline. It reports
// false when no such run fits in the window.
func recovery(rep *workerReport, ok func(int) bool, end, window, bucket time.Duration) (time.Duration, bool) {
	n := int((window - end) / bucket)
	if n < stableBuckets {
		return 0, false
	}
	started, good := make([]int, n), make([]int, n)
	for i, s := range rep.Start {
		if s < int64(end) {
			continue
		}
		k := int((s - int64(end)) / int64(bucket))
		if k >= n {
			continue
		}
		started[k]++
		if ok(i) {
			good[k]++
		}
	}
	run := 0
	for k := range n {
		if started[k] > 0 && float64(good[k]) >= recoveredAt*float64(started[k]) {
			run++
			if run == stableBuckets {
				return time.Duration(k-stableBuckets+1) * bucket, true
			}
		} else {
			run = 0
		}
	}
	return 0, false
}

// seriesOf buckets the calls by start time.
func seriesOf(rep *workerReport, ok func(int) bool, window, bucket time.Duration) series {
	n := int((window + bucket - 1) / bucket)
	s := series{Bucket: msOf(bucket), Success: make([]float64, n), P99: make([]float64, n)}
	lats := make([][]int64, n)
	good := make([]int, n)
	for i, st := range rep.Start {
		k := min(int(st/int64(bucket)), n-1)
		lats[k] = append(lats[k], rep.Lat[i])
		if ok(i) {
			good[k]++
		}
	}
	for k := range n {
		if len(lats[k]) == 0 {
			s.Success[k], s.P99[k] = -1, -1
			continue
		}
		s.Success[k] = 100 * float64(good[k]) / float64(len(lats[k]))
		slices.Sort(lats[k])
		s.P99[k] = msOf(pct(lats[k], 0.99))
	}
	return s
}
