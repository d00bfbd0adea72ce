// Package policy builds immutable, composable retry policies for Redis
// commands: which failures are retried, how long to wait, when to stop, and
// what happens when the last attempt fails.
//
// A [Policy] decides from a command name, its arguments and the class of an
// error (see the retryable package); the hooks package runs it around a
// go-redis client.
package policy

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
)

// Policy is an immutable retry policy. It is safe for concurrent use by any
// number of goroutines and clients; [Policy.With] returns a changed copy.
//
// The zero Policy runs every command once: no retries, no breaker, no
// budget, errors returned unchanged.
type Policy struct {
	c *config
}

// rules are the settings that may differ per command.
type rules struct {
	retryOn        classSet
	abortOn        classSet
	retryIf        func(Failure) bool
	maxAttempts    int
	maxElapsed     time.Duration
	attemptTimeout time.Duration
	backoff        backoff.Strategy
	retryAmbiguous bool
	fallback       FallbackFunc
	swallow        bool
}

type config struct {
	rules
	overrides map[string]*rules // by lowercase command name
	marks     map[string]retryable.Kind
	observer  func(Event)
	logger    *slog.Logger
	breakers  *breaker.Group
	budget    *breaker.Budget
	limiter   *breaker.Limiter

	// overrideOpts are kept so that With can rebuild every override on top
	// of changed base rules.
	overrideOpts []override

	// breakerBase is the Breaker settings the breakers were made from.
	breakerBase *breaker.Settings

	// builder state
	breakerSettings *breaker.Settings // set by Breaker in this build
	sinkChanged     bool              // Observe or Logger given in this build
	inOverride      string
}

type override struct {
	names []string
	opts  []Option
}

// classSet is a set of classes as a bit mask.
type classSet uint32

func setOf(cs ...retryable.Class) classSet {
	var s classSet
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// has reports whether c, or a class c is a kind of, is in the set.
func (s classSet) has(c retryable.Class) bool {
	for _, t := range retryable.Classes {
		if s&(1<<t) != 0 && c.Is(t) {
			return true
		}
	}
	return false
}

var zeroConfig = &config{rules: rules{maxAttempts: 1}}

func (p Policy) cfg() *config {
	if p.c == nil {
		return zeroConfig
	}
	return p.c
}

// Option changes a policy under construction. Options are applied in order;
// an invalid one makes [New] or [Policy.With] return an error naming it.
type Option func(*config) error

// New builds a policy from options, starting from a policy that retries
// nothing: MaxAttempts 1, no backoff, no breaker, no budget. Every setting is
// validated here; New never panics on user input.
func New(opts ...Option) (Policy, error) {
	return Policy{}.with(&config{rules: rules{maxAttempts: 1}}, opts)
}

// With returns a copy of p with opts applied on top of p's settings.
// Per-command overrides of p are kept and rebuilt on top of the changed
// settings; a new override for the same command merges with the old one,
// its options winning. Breakers, budget and limiter are shared with p unless
// an option sets new ones; Observe and Logger also give the copy new
// breakers, because breakers report their changes to the observer and
// logger they were made with.
func (p Policy) With(opts ...Option) (Policy, error) {
	return p.with(p.cfg().clone(), opts)
}

func (p Policy) with(c *config, opts []Option) (Policy, error) {
	for _, o := range opts {
		if o == nil {
			return Policy{}, errors.New("policy: nil Option")
		}
		if err := o(c); err != nil {
			return Policy{}, err
		}
	}
	if err := c.rules.validate(""); err != nil {
		return Policy{}, err
	}
	// The breakers report state changes to the observer and logger in force
	// when they are made, so a copy with a new observer gets new breakers.
	if c.breakerSettings == nil && c.sinkChanged && c.breakerBase != nil {
		c.breakerSettings = c.breakerBase
	}
	if c.breakerSettings != nil {
		g, err := newGroup(*c.breakerSettings, c.observer, c.logger)
		if err != nil {
			return Policy{}, fmt.Errorf("policy: Breaker: %w", err)
		}
		c.breakers = g
		c.breakerBase = c.breakerSettings
		c.breakerSettings = nil
	}
	c.sinkChanged = false
	// Overrides start from the finished base rules, whatever the order of
	// options, then apply their own in order; two overrides of one command
	// merge, the later winning.
	c.overrides = make(map[string]*rules)
	for _, ov := range c.overrideOpts {
		where := strings.Join(ov.names, ",")
		for _, n := range ov.names {
			sub := &config{rules: c.rules, inOverride: where}
			if r, ok := c.overrides[n]; ok {
				sub.rules = *r
			}
			for _, o := range ov.opts {
				if o == nil {
					return Policy{}, fmt.Errorf("policy: Command(%s): nil Option", where)
				}
				if err := o(sub); err != nil {
					return Policy{}, err
				}
			}
			if sub.observer != nil || sub.logger != nil || sub.breakers != nil || sub.breakerSettings != nil ||
				sub.budget != nil || sub.limiter != nil || len(sub.marks) > 0 || len(sub.overrideOpts) > 0 {
				return Policy{}, fmt.Errorf("policy: Command(%s): only retry, backoff, limit and fallback options may be set per command", where)
			}
			if err := sub.rules.validate(where); err != nil {
				return Policy{}, err
			}
			r := sub.rules
			c.overrides[n] = &r
		}
	}
	return Policy{c: c}, nil
}

func (c *config) clone() *config {
	n := *c
	n.overrides = make(map[string]*rules, len(c.overrides))
	for k, v := range c.overrides {
		n.overrides[k] = v
	}
	n.marks = make(map[string]retryable.Kind, len(c.marks))
	for k, v := range c.marks {
		n.marks[k] = v
	}
	n.overrideOpts = append([]override(nil), c.overrideOpts...)
	n.breakerSettings = nil
	n.sinkChanged = false
	return &n
}

func (r *rules) validate(where string) error {
	name := func(setting string) string {
		if where == "" {
			return "policy: " + setting
		}
		return "policy: Command(" + where + "): " + setting
	}
	if r.maxAttempts < 1 {
		return fmt.Errorf("%s: %d attempts: must be at least 1 (1 means no retries)", name("MaxAttempts"), r.maxAttempts)
	}
	if r.maxElapsed < 0 {
		return fmt.Errorf("%s: negative duration %v", name("MaxElapsed"), r.maxElapsed)
	}
	if r.attemptTimeout < 0 {
		return fmt.Errorf("%s: negative duration %v", name("AttemptTimeout"), r.attemptTimeout)
	}
	if r.backoff != nil {
		if err := backoff.Validate(r.backoff); err != nil {
			return fmt.Errorf("%s: %w", name("Backoff"), err)
		}
	}
	if r.retryOn&r.abortOn != 0 {
		return fmt.Errorf("%s: a class is both retried and aborted on", name("RetryOn/AbortOn"))
	}
	return nil
}
