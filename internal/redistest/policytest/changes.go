package policytest

import (
	"fmt"
	"slices"
	"time"

	"github.com/go-retryable/retryable/breaker"
)

// StateChange is one state change of a node's breaker, as a [Recorder]
// recorded it.
type StateChange struct {
	Node     string
	From, To breaker.State
	// At is when the change reached the Recorder.
	At time.Time
	// Dials is what the Recorder's Dials function returned then, or 0.
	Dials int64
}

// String renders the change as "closed->open".
func (c StateChange) String() string { return c.From.String() + "->" + c.To.String() }

// automatic are the changes a breaker makes by itself, unforced.
var automatic = map[[2]breaker.State]bool{
	{breaker.Closed, breaker.Open}:     true,
	{breaker.Open, breaker.HalfOpen}:   true,
	{breaker.HalfOpen, breaker.Open}:   true,
	{breaker.HalfOpen, breaker.Closed}: true,
}

// CheckChain returns an error unless changes, of one node, form a chain of
// the changes a breaker makes by itself that starts closed: each From is
// the previous To, so a change reported twice, or lost, breaks it, and a
// forced change (ForceOpen, ForceClose) does not belong in it.
func CheckChain(changes []StateChange) error {
	state := breaker.Closed
	for i, c := range changes {
		if c.From != state {
			return fmt.Errorf("change %d is %v but the breaker was %v: %v", i, c, state, changes)
		}
		if !automatic[[2]breaker.State{c.From, c.To}] {
			return fmt.Errorf("change %d (%v) is not one a breaker makes by itself: %v", i, c, changes)
		}
		state = c.To
	}
	return nil
}

// CountChanges returns how many of changes go from -> to.
func CountChanges(changes []StateChange, from, to breaker.State) int {
	n := 0
	for _, c := range changes {
		if c.From == from && c.To == to {
			n++
		}
	}
	return n
}

// SameChanges reports whether a and b name the same nodes and transitions
// in the same order, when they arrived and the dial counts aside.
func SameChanges(a, b []StateChange) bool {
	return slices.EqualFunc(a, b, func(x, y StateChange) bool {
		return x.Node == y.Node && x.From == y.From && x.To == y.To
	})
}

// ChangesBetween returns the changes that arrived in [from, to), in their
// order.
func ChangesBetween(changes []StateChange, from, to time.Time) []StateChange {
	return within(changes, func(c StateChange) time.Time { return c.At }, from, to)
}
