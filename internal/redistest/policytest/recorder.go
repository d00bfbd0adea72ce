package policytest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/policy"
)

// Recorder records a policy's events ([Recorder.Observe], for
// policy.Observe) and its breakers' state changes
// ([Recorder.OnStateChange], for breaker.Settings), each with the time it
// arrived. A state change is kept as the BreakerChanged event the policy
// would report for it, so a Recorder given both functions sees every
// change twice: give each its own Recorder to compare what they report.
//
// The zero value is ready to use. A Recorder is safe for concurrent use;
// it must not be copied after first use.
type Recorder struct {
	// Dials, when set, is called at each BreakerChanged event and its
	// result kept in [StateChange.Dials], so that a test can tell how many
	// dials a node had got when its breaker changed. Set it before the
	// Recorder is first used.
	Dials func() int64

	mu      sync.Mutex
	entries []entry
}

// entry is one recorded event.
type entry struct {
	event policy.Event
	at    time.Time
	dials int64
}

// Observe records e. Pass it as policy.Observe(r.Observe).
func (r *Recorder) Observe(e policy.Event) {
	en := entry{event: e, at: time.Now()}
	if e.Kind == policy.BreakerChanged && r.Dials != nil {
		en.dials = r.Dials()
	}
	r.mu.Lock()
	r.entries = append(r.entries, en)
	r.mu.Unlock()
}

// OnStateChange records the breaker change of node as a BreakerChanged
// event. Its signature is breaker.Settings.OnStateChange's.
func (r *Recorder) OnStateChange(node string, from, to breaker.State) {
	r.Observe(policy.Event{Kind: policy.BreakerChanged, Node: node, From: from, To: to})
}

// Events returns the events recorded so far, in the order they arrived.
func (r *Recorder) Events() []policy.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]policy.Event, len(r.entries))
	for i, en := range r.entries {
		out[i] = en.event
	}
	return out
}

// Count returns the number of events of kind for the command cmd ("" for
// any command) whose class is one of classes or a kind of one
// (Class.Is), or of any class when none is given.
func (r *Recorder) Count(kind policy.EventKind, cmd string, classes ...retryable.Class) int {
	n := 0
	for _, e := range r.Events() {
		if e.Kind != kind || cmd != "" && e.Command != cmd {
			continue
		}
		if len(classes) == 0 || slices.ContainsFunc(classes, e.Class.Is) {
			n++
		}
	}
	return n
}

// Summary renders the events as "[kind command class: n]" groups in
// sorted order, for logs: "[gave up get Connection (attempts exhausted):
// 2] [retry scheduled get Connection: 7]". Breaker changes are grouped by
// node and transition.
func (r *Recorder) Summary() string {
	m := make(map[string]int)
	for _, e := range r.Events() {
		var k string
		switch e.Kind {
		case policy.BreakerChanged:
			k = fmt.Sprintf("%s %s %v->%v", e.Kind, e.Node, e.From, e.To)
		case policy.GaveUp:
			k = fmt.Sprintf("%s %s %s (%s)", e.Kind, e.Command, e.Class, e.Reason)
		default:
			k = fmt.Sprintf("%s %s %s", e.Kind, e.Command, e.Class)
		}
		m[k]++
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("[%s: %d]", k, m[k])
	}
	return strings.Join(parts, " ")
}

// Changes returns the BreakerChanged events of node ("" for every node)
// as state changes, in the order they arrived.
func (r *Recorder) Changes(node string) []StateChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []StateChange
	for _, en := range r.entries {
		e := en.event
		if e.Kind == policy.BreakerChanged && (node == "" || e.Node == node) {
			out = append(out, StateChange{Node: e.Node, From: e.From, To: e.To, At: en.at, Dials: en.dials})
		}
	}
	return out
}

// FindChange returns node's first from->to change that arrived at or
// after since, and whether there is one.
func (r *Recorder) FindChange(node string, from, to breaker.State, since time.Time) (StateChange, bool) {
	for _, c := range r.Changes(node) {
		if c.From == from && c.To == to && !c.At.Before(since) {
			return c, true
		}
	}
	return StateChange{}, false
}

// AwaitChange waits until node's breaker reports from->to at or after
// since, and returns that change, as [Recorder.FindChange] does. It fails
// the test, listing node's changes, if that does not happen within
// timeout. It must run on the test's goroutine.
func (r *Recorder) AwaitChange(t testing.TB, timeout time.Duration, node string, from, to breaker.State, since time.Time) StateChange {
	t.Helper()
	var got StateChange
	if !redistest.Poll(timeout, func() bool {
		var ok bool
		got, ok = r.FindChange(node, from, to, since)
		return ok
	}) {
		t.Fatalf("policytest: the breaker of %s did not report %v->%v within %v; its changes: %v", node, from, to, timeout, r.Changes(node))
	}
	return got
}
