package policy

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// Names under which pipelines and transactions appear in events and in
// [Command].
const (
	pipelineName = "pipeline"
	multiName    = "multi"
)

// recipe is what a policy was built from: the settings as the options
// left them. A built policy keeps its recipe, never changed, so that
// [Policy.With] can start from it and rebuild every override on top of
// changed base settings.
type recipe struct {
	base      rules
	overrides []override
	marks     map[string]retryable.Kind // by lowercase name
	known     map[string]bool           // module commands declared by KnownCommands
	observer  *observer                 // nil: none
	logger    *logSink                  // nil: none
	budget    *breaker.Budget
	limiter   *breaker.Limiter
	breakers  *lineage // nil: no breakers
}

// override is one Command option: names and options, applied at build.
type override struct {
	opt   string // the option that made it: "Command" or "LogAndContinue"
	names []string
	opts  []RuleOption
}

// builder is a recipe under construction, with what the options of this
// one build said beyond the recipe.
type builder struct {
	recipe
	newBreakers     *breaker.Settings // Breaker in this build; nil with NoBreaker
	breakersChanged bool              // Breaker or NoBreaker in this build
	sinkChanged     bool              // Observe or Logger in this build
}

// command records a Command-like option; names are checked at build.
func (b *builder) command(opt string, names []string, opts []RuleOption) error {
	if len(names) == 0 {
		return fmt.Errorf("%s: no command named", opt)
	}
	low := make([]string, len(names))
	for i, n := range names {
		var err error
		if low[i], err = commandName(opt, n); err != nil {
			return err
		}
	}
	for _, o := range opts {
		if o == nil {
			return fmt.Errorf("%s(%s): nil Option", opt, strings.Join(low, ","))
		}
	}
	b.overrides = append(b.overrides[:len(b.overrides):len(b.overrides)], override{opt, low, opts})
	return nil
}

// mark records MarkIdempotent or MarkUnsafe.
func (b *builder) mark(opt string, k retryable.Kind, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%s: no command named", opt)
	}
	for _, n := range names {
		n, err := commandName(opt, n)
		if err != nil {
			return err
		}
		if n == pipelineName || n == multiName {
			return fmt.Errorf("%s: %q names a batch, not a command", opt, n)
		}
		b.marks = cloneAdd(b.marks, n, k)
	}
	return nil
}

func commandName(opt, n string) (string, error) {
	n = strings.ToLower(strings.TrimSpace(n))
	if n == "" {
		return "", fmt.Errorf("%s: empty command name", opt)
	}
	return n, nil
}

// cloneAdd returns a copy of m with k set to v: a built recipe's maps are
// shared with its copies and never written.
func cloneAdd[V any](m map[string]V, k string, v V) map[string]V {
	n := make(map[string]V, len(m)+1)
	maps.Copy(n, m)
	n[k] = v
	return n
}

// build applies opts on top of parent and freezes the result. Every check
// happens here, once.
func build(parent recipe, opts []Option) (*config, error) {
	b := &builder{recipe: parent}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("policy: nil Option")
		}
		if err := o.apply(b); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	if b.breakersChanged {
		b.breakers = nil
		if b.newBreakers != nil {
			l, err := newLineage(*b.newBreakers)
			if err != nil {
				return nil, fmt.Errorf("policy: Breaker: %w", err)
			}
			b.breakers = l
		}
	}
	if b.breakers != nil && (b.sinkChanged || b.breakersChanged) {
		b.breakers.listen(b.observer, b.logger)
	}
	return freeze(b.recipe)
}

// check validates what the options could not check alone: the base rules
// and every command's rules, and the command names.
func (b *builder) check() error {
	if err := b.base.check(""); err != nil {
		return err
	}
	for _, ov := range b.overrides {
		for _, n := range ov.names {
			if !b.knows(n) {
				return fmt.Errorf("policy: %s: unknown command %q (a typo? declare module commands with policy.KnownCommands)", ov.opt, n)
			}
		}
	}
	for n := range b.marks {
		if !b.knows(n) {
			return fmt.Errorf("policy: MarkIdempotent/MarkUnsafe: unknown command %q (a typo? declare module commands with policy.KnownCommands)", n)
		}
	}
	_, err := b.resolve()
	return err
}

func (b *builder) knows(name string) bool {
	return name == pipelineName || name == multiName || b.known[name] || retryable.Known(name)
}

// resolve returns every command's rules: the base rules with the command's
// overrides applied in order. Overrides start from the finished base
// rules, whatever the order of the options.
func (r *recipe) resolve() (map[string]*rules, error) {
	out := make(map[string]*rules)
	for _, ov := range r.overrides {
		where := ov.opt + "(" + strings.Join(ov.names, ",") + ")"
		for _, n := range ov.names {
			cur := r.base
			if prev, ok := out[n]; ok {
				cur = *prev
			}
			for _, o := range ov.opts {
				if err := o.applyRule(&cur); err != nil {
					return nil, fmt.Errorf("policy: %s: %w", where, err)
				}
			}
			if err := cur.check(where); err != nil {
				return nil, err
			}
			if (n == pipelineName || n == multiName) && setsFallback(ov.opts) {
				return nil, fmt.Errorf("policy: %s: fallbacks and log-and-continue apply to single commands, not to %q", where, n)
			}
			out[n] = &cur
		}
	}
	return out, nil
}

// setsFallback reports whether opts set a fallback or log-and-continue.
func setsFallback(opts []RuleOption) bool {
	var probe rules
	for _, o := range opts {
		_ = o.applyRule(&probe) // errors are reported where the options really apply
	}
	return probe.fallback != nil || probe.swallow
}

// check validates one command's finished rules; where is "" for the base.
func (r *rules) check(where string) error {
	prefix := "policy: "
	if where != "" {
		prefix += where + ": "
	}
	if r.retryOn&r.abortOn != 0 {
		return fmt.Errorf("%sRetryOn/AbortOn: a class is both retried and aborted on", prefix)
	}
	if r.maxAttempts > 1 && r.retriesNothing() {
		return fmt.Errorf("%sMaxAttempts(%d) retries nothing: add RetryOn or RetryIf", prefix, r.maxAttempts)
	}
	return nil
}
