package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/breaker"
)

// synthetic builds a worker report of calls started every step from 0 to
// window, each failing when fail(start) says so.
func synthetic(window, step time.Duration, fail func(time.Duration) bool) *workerReport {
	rep := &workerReport{}
	for at := time.Duration(0); at < window; at += step {
		k := kindOK
		if fail(at) {
			k = kindRefused
		}
		rep.Start = append(rep.Start, int64(at))
		rep.Lat = append(rep.Lat, int64(time.Millisecond))
		rep.Kind = append(rep.Kind, k)
		rep.Seq = append(rep.Seq, -1)
	}
	return rep
}

func TestRecovery(t *testing.T) {
	const (
		window = 4 * time.Second
		bucket = 100 * time.Millisecond
		end    = time.Second // the fault's end
	)
	for _, tc := range []struct {
		name  string
		fail  func(time.Duration) bool
		want  time.Duration
		found bool
	}{
		{"never failed", func(time.Duration) bool { return false }, 0, true},
		{"fails until the end", func(at time.Duration) bool { return at < end }, 0, true},
		{"fails 350 ms past the end", func(at time.Duration) bool { return at < end+350*time.Millisecond }, 400 * time.Millisecond, true},
		{"one failure in 100 is still recovered", func(at time.Duration) bool { return at > end && at%time.Second == 0 }, 0, true},
		{"a relapse restarts the run", func(at time.Duration) bool {
			return at < end+200*time.Millisecond || (at >= end+500*time.Millisecond && at < end+600*time.Millisecond)
		}, 600 * time.Millisecond, true},
		{"never recovers", func(at time.Duration) bool { return at >= time.Second/2 }, 0, false},
		{"recovers too late to show a full run", func(at time.Duration) bool { return at < window-300*time.Millisecond }, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := synthetic(window, time.Millisecond, tc.fail)
			ok := func(i int) bool { return rep.Kind[i] == kindOK }
			got, found := recovery(rep, ok, end, window, bucket)
			if got != tc.want || found != tc.found {
				t.Errorf("recovery = %v, %v; want %v, %v", got, found, tc.want, tc.found)
			}
		})
	}
	t.Run("an empty bucket is not recovered", func(t *testing.T) {
		rep := synthetic(window, time.Millisecond, func(time.Duration) bool { return false })
		var kept workerReport
		for i, s := range rep.Start {
			if s >= int64(end) && s < int64(end+250*time.Millisecond) {
				continue // every caller stuck: no call started
			}
			kept.Start = append(kept.Start, s)
			kept.Lat = append(kept.Lat, rep.Lat[i])
			kept.Kind = append(kept.Kind, rep.Kind[i])
			kept.Seq = append(kept.Seq, rep.Seq[i])
		}
		got, found := recovery(&kept, func(int) bool { return true }, end, window, bucket)
		if want := 200 * time.Millisecond; got != want || !found {
			t.Errorf("recovery = %v, %v; want %v, true", got, found, want)
		}
	})
}

func TestAnalyze(t *testing.T) {
	const deadline = 100 * time.Millisecond
	rep := &workerReport{
		// GET ok; INCR #0 ok; GET late success; INCR #1 failed; INCR #2 ok; INCR #3 ok.
		Start: []int64{0, int64(10 * time.Millisecond), int64(20 * time.Millisecond), int64(1100 * time.Millisecond),
			int64(1200 * time.Millisecond), int64(1300 * time.Millisecond)},
		Lat: []int64{int64(time.Millisecond), int64(2 * time.Millisecond), int64(150 * time.Millisecond),
			int64(5 * time.Millisecond), int64(time.Millisecond), int64(time.Millisecond)},
		Kind:  []kind{kindOK, kindOK, kindOK, kindConnLost, kindOK, kindOK},
		Seq:   []int32{-1, 0, -1, 1, 2, 3},
		Dials: 3,
	}
	// INCR #0 ran twice (reported ok), #1 ran once (reported failed), #2
	// once, #3 never (reported ok: lost).
	counts := []int64{2, 1, 1, 0}
	ep := episode{On: [][2]time.Duration{{time.Second, 1250 * time.Millisecond}}, End: 1250 * time.Millisecond}
	r := analyze("x", runInputs{rep: rep, ep: ep, window: 2 * time.Second, bucket: 100 * time.Millisecond,
		deadline: deadline, received: 9, counts: counts})
	check := func(name string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("calls", r.Calls, 6)
	check("ok", r.OK, 4) // the late success does not count
	check("success", math.Round(r.Success*100)/100, 66.67)
	check("goodput", r.Goodput, 2.0)
	check("late", r.Late, 1)
	check("max late", r.MaxLate, 50.0)
	check("errors", r.Errors, map[string]int{"conn-lost": 1})
	check("success on", r.SuccessOn, 50.0) // calls at 1.1 s (failed) and 1.2 s (ok)
	check("amplification", r.Amplification, 1.5)
	check("incrs", r.Incrs, 4)
	check("doubles", r.Doubles, 1)
	check("silent doubles", r.SilentDoubles, 1)
	check("extra runs", r.ExtraRuns, 1)
	check("ran but failed", r.RanButFailed, 1)
	check("lost acked", r.LostAcked, 1)
	check("max", r.Max, 150.0)
	check("fault end", r.FaultEnd, 1250.0)
	check("dials", r.Dials, 3)
	check("series buckets", len(r.Series.Success), 20)
	check("empty bucket", r.Series.Success[5], -1.0)
	check("first bucket", math.Round(r.Series.Success[0]), 67.0)
}

func TestKindOf(t *testing.T) {
	var timeout net.Error = &net.OpError{Op: "read", Err: &timeoutErr{}}
	for _, tc := range []struct {
		err  error
		want kind
	}{
		{nil, kindOK},
		{redis.Nil, kindOK},
		{fmt.Errorf("wrapped: %w", redis.Nil), kindOK},
		{&breaker.OpenError{Node: "n", Err: errors.New("open")}, kindCircuitOpen},
		{circuitbreaker.ErrOpen, kindCircuitOpen},
		{&breaker.ThrottledError{Reason: breaker.ReasonBudget}, kindThrottled},
		{context.DeadlineExceeded, kindDeadline},
		{timeout, kindTimeout},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, kindRefused},
		{io.EOF, kindConnLost},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, kindConnLost},
		{redis.ErrPoolTimeout, kindPoolTimeout},
		{errors.New("mystery"), kindOther},
	} {
		if got := kindOf(tc.err); got != tc.want {
			t.Errorf("kindOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{redis.Nil, false},
		{context.Canceled, false},
		{io.EOF, true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtMS(-1), "—"},
		{fmtMS(0), "0"},
		{fmtMS(0.0123), "12 µs"},
		{fmtMS(4.25), "4.2 ms"},
		{fmtMS(250), "250 ms"},
		{fmtMS(1500), "1.50 s"},
		{fmtRecovery(-1, 3000), "> 3.00 s"},
		{fmtRecovery(-1, -1), "—"},
		{fmtRecovery(200, 3000), "200 ms"},
		{fmtPct(100), "100%"},
		{fmtPct(99.96), "99.9+%"},
		{fmtPct(42.04), "42.0%"},
		{errorSummary(map[string]int{"timeout": 2, "refused": 5}), "(refused 5, timeout 2)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
