package policytest

import (
	"strings"
	"testing"
	"time"

	"github.com/go-retryable/retryable/breaker"
)

// chain returns changes of node "n" through the states given, a second
// apart from t0.
func chain(t0 time.Time, states ...breaker.State) []StateChange {
	var out []StateChange
	for i := 1; i < len(states); i++ {
		out = append(out, StateChange{Node: "n", From: states[i-1], To: states[i], At: t0.Add(time.Duration(i) * time.Second)})
	}
	return out
}

func TestCheckChain(t *testing.T) {
	t.Parallel()
	const c, o, h = breaker.Closed, breaker.Open, breaker.HalfOpen
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name    string
		changes []StateChange
		wantErr string
	}{
		{"none", nil, ""},
		{"an outage", chain(t0, c, o, h, o, h, c), ""},
		{"still open", chain(t0, c, o, h, o), ""},
		{"starts open", chain(t0, o, h, c), "change 0 is open->half-open but the breaker was closed"},
		{"a change reported twice", append(chain(t0, c, o), chain(t0, c, o)...), "change 1 is closed->open but the breaker was open"},
		{"a change lost", append(chain(t0, c, o), chain(t0, h, c)...), "change 1 is half-open->closed but the breaker was open"},
		{"forced closed", chain(t0, c, o, c), "change 1 (open->closed) is not one a breaker makes by itself"},
		{"closed to half-open", chain(t0, c, h), "change 0 (closed->half-open) is not one"},
	}
	for _, tt := range tests {
		err := CheckChain(tt.changes)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: CheckChain = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: CheckChain = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestCountSameAndBetween(t *testing.T) {
	t.Parallel()
	const c, o, h = breaker.Closed, breaker.Open, breaker.HalfOpen
	t0 := time.Unix(1000, 0)
	ch := chain(t0, c, o, h, o, h, c) // at t0+1s .. t0+5s
	if n := CountChanges(ch, o, h); n != 2 {
		t.Errorf("CountChanges(open->half-open) = %d, want 2", n)
	}
	if n := CountChanges(ch, c, h); n != 0 {
		t.Errorf("CountChanges(closed->half-open) = %d, want 0", n)
	}
	later := chain(t0.Add(time.Hour), c, o, h, o, h, c)
	later[0].Dials = 9
	if !SameChanges(ch, later) {
		t.Error("SameChanges: the same transitions at other times and dial counts differ")
	}
	other := chain(t0, c, o, h, o, h, c)
	other[2].Node = "m"
	if SameChanges(ch, other) || SameChanges(ch, ch[1:]) || !SameChanges(nil, []StateChange{}) {
		t.Error("SameChanges: wrong answer for another node, a shorter list or two empty ones")
	}
	got := ChangesBetween(ch, t0.Add(2*time.Second), t0.Add(4*time.Second))
	if !SameChanges(got, ch[1:3]) || !got[0].At.Equal(t0.Add(2*time.Second)) {
		t.Errorf("ChangesBetween(+2s, +4s) = %v, want changes 1 and 2 of %v", got, ch)
	}
}
