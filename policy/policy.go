// Package policy builds immutable, composable retry policies for Redis
// commands: which failures are retried, how long to wait, when to stop,
// what happens when the last attempt fails, and the circuit breakers and
// retry budget that keep a fleet of clients from hammering a sick node.
//
// A [Policy] decides from a command name, its arguments and the class of
// an error (see the retryable package); the hooks package runs it around
// a go-redis client.
package policy

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/bridge"
)

// Policy is an immutable retry policy. It is safe for concurrent use by
// any number of goroutines and clients; [Policy.With] returns a changed
// copy. Build one with [New] or [Default].
//
// The zero Policy runs every command once: no retries, no breaker, no
// budget, errors returned unchanged.
type Policy bridge.Handle

// engine and engineRules are the bridge's types as this package fills
// them.
type (
	engine      = bridge.Engine[Failure, Reason, Event, FallbackFunc]
	engineRules = bridge.Rules[Failure, Reason, FallbackFunc]
)

// config is a built policy: its recipe and what was derived from it.
type config struct {
	recipe
	rules  map[string]*rules // every command with overrides, by lowercase name
	base   *rules
	engine *engine
}

var zeroConfig = func() *config {
	c, err := freeze(recipe{base: rules{maxAttempts: 1}})
	if err != nil {
		panic("policy: the zero policy does not build: " + err.Error()) // constant settings: cannot happen
	}
	return c
}()

func (p Policy) cfg() *config {
	if e, ok := bridge.Handle(p).Engine().(*engine); ok {
		return e.Policy.(*config)
	}
	return zeroConfig
}

// New builds a policy from options, starting from a policy that retries
// nothing: MaxAttempts 1, no backoff, no breaker, no budget. Every setting
// is validated here, and a policy that cannot do what its options ask
// (MaxAttempts above 1 with nothing to retry, an unknown command name) is
// an error too; New never panics on user input.
func New(opts ...Option) (Policy, error) {
	return Policy{}.with(recipe{base: rules{maxAttempts: 1}}, opts)
}

// With returns a copy of p with opts applied on top of p's settings.
// Per-command overrides of p are kept and rebuilt on top of the changed
// settings; a new override for the same command merges with the old one,
// its options winning. The copy shares p's breakers, budget and limiter
// unless an option sets new ones: changing what observes a policy never
// splits a node's breaker.
func (p Policy) With(opts ...Option) (Policy, error) {
	return p.with(p.cfg().recipe, opts)
}

func (Policy) with(parent recipe, opts []Option) (Policy, error) {
	c, err := build(parent, opts)
	if err != nil {
		return Policy{}, err
	}
	return Policy(bridge.NewHandle(c.engine)), nil
}

// Decide returns whether the failure f is retried and after how long;
// prev is the previous delay (0 before the first retry). It checks, in
// order: the class (RetryOn, RetryIf, AbortOn), blocking commands, the
// command-safety rule, MaxAttempts, then the delay against MaxElapsed.
// The context's deadline, the breaker and the budget are checked by the
// hooks, with the same function, when a call runs. Decide is pure and
// allocates nothing: use it to test a policy.
func (p Policy) Decide(f Failure, prev time.Duration) (time.Duration, Reason) {
	return p.cfg().rulesFor(f.Command).stop(&f, prev, &bridge.Inputs{}, nil)
}

// Describe returns the Failure of a first attempt of the command line
// args that failed with err, as the hooks build it: its class, whether it
// can have run, and what the command table (with this policy's marks)
// says of it. With [Policy.Decide] it answers "what would this policy do
// if GET failed with this error?".
func (p Policy) Describe(err error, args ...any) Failure {
	info := p.cfg().lookup(args)
	class, exec := retryable.Describe(err, info, false)
	var name string
	if len(args) > 0 {
		switch v := args[0].(type) {
		case string:
			name = strings.ToLower(v)
		case []byte:
			name = strings.ToLower(string(v))
		}
	}
	return Failure{Command: name, Attempt: 1, Err: err, Class: class, Execution: exec, Info: info}
}

// Breakers returns the policy's breakers, one per node, or nil when it has
// none. Use it to read a node's state or to isolate a node by hand.
func (p Policy) Breakers() *breaker.Group {
	if l := p.cfg().breakers; l != nil {
		return l.group
	}
	return nil
}

func (c *config) rulesFor(name string) *rules {
	if r, ok := c.rules[name]; ok {
		return r
	}
	return c.base
}

// lookup is retryable.Lookup with the policy's marks applied.
func (c *config) lookup(args []any) retryable.Info {
	info := retryable.Lookup(args)
	if len(c.marks) != 0 && len(args) > 0 {
		// The same name types as retryable.Lookup, so that a []byte name
		// cannot slip past MarkUnsafe.
		var name string
		switch v := args[0].(type) {
		case string:
			name = v
		case []byte:
			name = string(v)
		}
		if k, ok := c.marks[strings.ToLower(name)]; ok {
			info.Kind = k
		}
	}
	return info
}

// freeze builds the config of a checked recipe and the engine the hooks
// run it with.
func freeze(r recipe) (*config, error) {
	raw, err := r.resolve()
	if err != nil {
		return nil, err
	}
	c := &config{recipe: r, rules: make(map[string]*rules, len(raw))}
	slow := r.limiter != nil
	ready := func(ru rules) *rules {
		ru.retryOn, ru.abortOn = ru.retryOn.kinds(), ru.abortOn.kinds()
		slow = slow || ru.attemptTimeout > 0
		return &ru
	}
	c.base = ready(r.base)
	for n, ru := range raw {
		c.rules[n] = ready(*ru)
	}
	byName := make(map[string]*engineRules, len(c.rules))
	for n, ru := range c.rules {
		byName[n] = c.engineRules(ru)
	}
	baseRules := c.engineRules(c.base)
	c.engine = &engine{
		Policy:   c,
		Budget:   r.budget,
		Limiter:  r.limiter,
		Slow:     slow,
		Observed: r.observer != nil || r.logger != nil,
		Emit:     func(ctx context.Context, e Event) { emit(ctx, r.observer, r.logger, e) },
		OptedOut: retriesDisabled,
		Lookup:   c.lookup,
		Rules: func(name string) *engineRules {
			if er, ok := byName[name]; ok {
				return er
			}
			return baseRules
		},
	}
	if r.breakers != nil {
		c.engine.Breakers = r.breakers.group
	}
	return c, nil
}

func (c *config) engineRules(ru *rules) *engineRules {
	budget := c.budget
	return &engineRules{
		AttemptTimeout: ru.attemptTimeout,
		Fallback:       ru.fallback,
		Swallow:        ru.swallow,
		Stop: func(f Failure, prev time.Duration, in bridge.Inputs) (time.Duration, Reason) {
			return ru.stop(&f, prev, &in, budget)
		},
	}
}

// lineage is a set of breakers and what observes them: the observers and
// loggers of a policy and of every copy made from it with With, until one
// sets Breaker or NoBreaker. Each breaker change reaches each once.
type lineage struct {
	group     *breaker.Group
	mu        sync.Mutex // serialises listen
	listeners atomic.Pointer[listeners]
}

type listeners struct {
	observers []*observer
	loggers   []*logSink
}

func newLineage(s breaker.Settings) (*lineage, error) {
	l := &lineage{}
	user := s.OnStateChange
	s.OnStateChange = func(node string, from, to breaker.State) {
		if user != nil {
			user(node, from, to)
		}
		l.changed(node, from, to)
	}
	g, err := breaker.NewGroup(s)
	if err != nil {
		return nil, err
	}
	l.group = g
	return l, nil
}

// listen adds o and lg (either may be nil) to those told of breaker
// changes, once each.
func (l *lineage) listen(o *observer, lg *logSink) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var cur listeners
	if p := l.listeners.Load(); p != nil {
		cur = *p
	}
	next := listeners{observers: slices.Clone(cur.observers), loggers: slices.Clone(cur.loggers)}
	if o != nil && !slices.Contains(next.observers, o) {
		next.observers = append(next.observers, o)
	}
	if lg != nil && !slices.Contains(next.loggers, lg) {
		next.loggers = append(next.loggers, lg)
	}
	l.listeners.Store(&next)
}

func (l *lineage) changed(node string, from, to breaker.State) {
	p := l.listeners.Load()
	if p == nil {
		return
	}
	e := Event{Kind: BreakerChanged, Node: node, From: from, To: to}
	for _, o := range p.observers {
		o.f(e)
	}
	for _, lg := range p.loggers {
		lg.log(context.Background(), e)
	}
}
