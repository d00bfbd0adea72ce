package breaker

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Group holds one [Breaker] per node, all with the same [Settings],
// created on first use. It is safe for concurrent use by multiple
// goroutines; looking up an existing node takes no lock. A nil *Group
// returns nil breakers, which allow every call; the zero Group is not
// usable (use [NewGroup]).
//
// The Settings' OnStateChange receives each breaker's node, and may run
// concurrently for different nodes.
type Group struct {
	cfg      *config
	mu       sync.Mutex                          // serialises writers of breakers
	breakers atomic.Pointer[map[string]*Breaker] // copy on write
}

// NewGroup returns an empty group whose breakers use s. It returns an
// error, matching [ErrInvalid], when s is invalid.
func NewGroup(s Settings) (*Group, error) {
	c, err := s.config()
	if err != nil {
		return nil, err
	}
	return &Group{cfg: c}, nil
}

// Get returns the breaker of node, creating it, closed, on first use.
func (g *Group) Get(node string) *Breaker {
	if g == nil {
		return nil
	}
	if m := g.breakers.Load(); m != nil {
		if b, ok := (*m)[node]; ok {
			return b
		}
	}
	return g.add(node)
}

func (g *Group) add(node string) *Breaker {
	g.mu.Lock()
	defer g.mu.Unlock()
	var old map[string]*Breaker
	if m := g.breakers.Load(); m != nil {
		old = *m
	}
	if b, ok := old[node]; ok {
		return b
	}
	m := make(map[string]*Breaker, len(old)+1)
	maps.Copy(m, old)
	b := newBreaker(node, g.cfg)
	m[node] = b
	g.breakers.Store(&m)
	return b
}

// Remove forgets the breaker of node, for example when a cluster node is
// gone for good; a later Get creates a fresh one. Callers that still hold
// the old breaker may keep using it, and its probes stay registered until
// their owners remove them (or it is released). Removing is not a state
// transition and is not reported.
func (g *Group) Remove(node string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.breakers.Load()
	if p == nil {
		return
	}
	if _, ok := (*p)[node]; !ok {
		return
	}
	m := maps.Clone(*p)
	delete(m, node)
	g.breakers.Store(&m)
}

// Each calls fn for every breaker of the group, in node order, on a
// snapshot: fn may call Get or Remove.
func (g *Group) Each(fn func(*Breaker)) {
	if g == nil {
		return
	}
	p := g.breakers.Load()
	if p == nil {
		return
	}
	for _, node := range slices.Sorted(maps.Keys(*p)) {
		fn((*p)[node])
	}
}
