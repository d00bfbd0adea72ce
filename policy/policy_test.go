package policy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// mustNew builds a policy or fails the test.
func mustNew(t testing.TB, opts ...policy.Option) policy.Policy {
	t.Helper()
	p, err := policy.New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// mustWith derives a policy or fails the test.
func mustWith(t testing.TB, p policy.Policy, opts ...policy.Option) policy.Policy {
	t.Helper()
	q, err := p.With(opts...)
	if err != nil {
		t.Fatalf("With: %v", err)
	}
	return q
}

func testBudget(t testing.TB) *breaker.Budget {
	t.Helper()
	b, err := breaker.NewBudget(breaker.DefaultBudgetSettings())
	if err != nil {
		t.Fatalf("NewBudget: %v", err)
	}
	return b
}

func testLimiter(t testing.TB) *breaker.Limiter {
	t.Helper()
	l, err := breaker.NewLimiter(100, 1, false)
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	return l
}

// recorder is an Observe function that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []policy.Event
}

func (r *recorder) observe(e policy.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []policy.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]policy.Event(nil), r.events...)
}

func TestNewInvalid(t *testing.T) {
	get := []string{"get"}
	never := func(cl retryable.Class) []policy.Option { return []policy.Option{policy.RetryOn(cl)} }
	tests := []struct {
		name string
		opts []policy.Option
		want []string // substrings of the error
		is   error    // matched with errors.Is when set
	}{
		{"MaxAttempts 0", []policy.Option{policy.MaxAttempts(0)}, []string{"MaxAttempts", "0"}, nil},
		{"MaxAttempts -1", []policy.Option{policy.MaxAttempts(-1)}, []string{"MaxAttempts", "-1"}, nil},
		{"negative MaxElapsed", []policy.Option{policy.MaxElapsed(-time.Second)}, []string{"MaxElapsed", "-1s"}, nil},
		{"negative AttemptTimeout", []policy.Option{policy.AttemptTimeout(-time.Millisecond)}, []string{"AttemptTimeout", "-1ms"}, nil},
		{"max below base", []policy.Option{policy.Backoff(backoff.NewExponential(10*time.Millisecond, 5*time.Millisecond, 2))}, []string{"Backoff"}, backoff.ErrInvalid},
		{"negative constant", []policy.Option{policy.Backoff(backoff.Constant(-time.Second))}, []string{"Backoff"}, backoff.ErrInvalid},
		{"invalid jitter", []policy.Option{policy.Backoff(backoff.FullJitter(nil))}, []string{"Backoff"}, backoff.ErrInvalid},
		{"RetryOn OK", never(retryable.OK), []string{"RetryOn", "OK"}, nil},
		{"RetryOn Response", never(retryable.Response), []string{"RetryOn", "Response"}, nil},
		{"RetryOn Data", never(retryable.Data), []string{"RetryOn", "Data"}, nil},
		{"RetryOn Canceled", never(retryable.Canceled), []string{"RetryOn", "Canceled"}, nil},
		{"RetryOn Closed", never(retryable.Closed), []string{"RetryOn", "Closed"}, nil},
		{"RetryOn Closed among valid", []policy.Option{policy.RetryOn(retryable.Connection, retryable.Closed)}, []string{"RetryOn", "Closed"}, nil},
		{"RetryOn unknown class", never(retryable.Class(200)), []string{"RetryOn", "unknown class", "200"}, nil},
		{"RetryOn one past the last class", never(retryable.Class(len(retryable.Classes()))), []string{"RetryOn", "unknown class"}, nil},
		{"AbortOn unknown class", []policy.Option{policy.AbortOn(retryable.Class(99))}, []string{"AbortOn", "unknown class", "99"}, nil},
		{"Command no names", []policy.Option{policy.Command(nil, policy.MaxAttempts(2))}, []string{"Command", "no command"}, nil},
		{"Command empty name", []policy.Option{policy.Command([]string{"get", ""}, policy.MaxAttempts(2))}, []string{"Command", "empty"}, nil},
		{"Command blank name", []policy.Option{policy.Command([]string{"  "})}, []string{"Command", "empty"}, nil},
		{"Command nil option", []policy.Option{policy.Command(get, nil)}, []string{"Command(get)", "nil Option"}, nil},
		{"Command bad MaxAttempts", []policy.Option{policy.Command(get, policy.MaxAttempts(0))}, []string{"Command(get)", "MaxAttempts"}, nil},
		{"Command bad Backoff", []policy.Option{policy.Command([]string{"get", "mget"}, policy.Backoff(backoff.Constant(-1)))}, []string{"Command(get,mget)", "Backoff"}, backoff.ErrInvalid},
		{"Command RetryOn Response", []policy.Option{policy.Command(get, policy.RetryOn(retryable.Response))}, []string{"Command(get)", "RetryOn", "Response"}, nil},
		{"Command negative MaxElapsed", []policy.Option{policy.Command(get, policy.MaxElapsed(-1))}, []string{"Command(get)", "MaxElapsed"}, nil},
		{"Command negative AttemptTimeout", []policy.Option{policy.Command(get, policy.AttemptTimeout(-1))}, []string{"Command(get)", "AttemptTimeout"}, nil},
		{"MarkIdempotent no names", []policy.Option{policy.MarkIdempotent()}, []string{"MarkIdempotent", "no command"}, nil},
		{"MarkIdempotent empty name", []policy.Option{policy.MarkIdempotent("evalsha", " ")}, []string{"MarkIdempotent", "empty"}, nil},
		{"MarkUnsafe no names", []policy.Option{policy.MarkUnsafe()}, []string{"MarkUnsafe", "no command"}, nil},
		{"LogAndContinue no names", []policy.Option{policy.LogAndContinue()}, []string{"LogAndContinue", "no command"}, nil},
		{"MaxAttempts without RetryOn", []policy.Option{policy.MaxAttempts(5)}, []string{"MaxAttempts(5)", "retries nothing", "RetryOn"}, nil},
		{"Command MaxAttempts without RetryOn", []policy.Option{policy.RetryOn(), policy.Command(get, policy.MaxAttempts(2))}, []string{"Command(get)", "MaxAttempts(2)", "retries nothing"}, nil},
		{"Command unknown name", []policy.Option{policy.Command([]string{"gte"}, policy.MaxAttempts(1))}, []string{"Command", `"gte"`, "KnownCommands"}, nil},
		{"MarkIdempotent unknown name", []policy.Option{policy.MarkIdempotent("json.set")}, []string{"MarkIdempotent", `"json.set"`, "KnownCommands"}, nil},
		{"MarkUnsafe pipeline", []policy.Option{policy.MarkUnsafe("pipeline")}, []string{"MarkUnsafe", "batch"}, nil},
		{"LogAndContinue unknown name", []policy.Option{policy.LogAndContinue("sett")}, []string{"LogAndContinue", `"sett"`}, nil},
		{"LogAndContinue pipeline", []policy.Option{policy.LogAndContinue("pipeline")}, []string{"LogAndContinue(pipeline)", "single commands"}, nil},
		{"Command multi Fallback", []policy.Option{policy.Command([]string{"multi"}, policy.Fallback(func(context.Context, policy.Cmd, error) error { return nil }))}, []string{"Command(multi)", "single commands"}, nil},
		{"nil Option", []policy.Option{policy.MaxAttempts(2), nil}, []string{"nil Option"}, nil},
		{"Breaker ratio", []policy.Option{policy.Breaker(breaker.Settings{FailureRatio: 1.5})}, []string{"Breaker", "FailureRatio"}, breaker.ErrInvalid},
		{"Breaker open timeout", []policy.Option{policy.Breaker(breaker.Settings{OpenTimeout: -time.Second})}, []string{"Breaker", "OpenTimeout"}, breaker.ErrInvalid},
		{"Breaker interval", []policy.Option{policy.Breaker(breaker.Settings{Interval: -1})}, []string{"Breaker", "Interval"}, breaker.ErrInvalid},
		{"error after valid options", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3), policy.MaxAttempts(0)}, []string{"MaxAttempts"}, nil},
	}
	newOnly := map[string]bool{"MaxAttempts without RetryOn": true, "Command MaxAttempts without RetryOn": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(how string, p policy.Policy, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", how)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "policy: ") {
					t.Errorf("%s: error %q does not start with the package name", how, msg)
				}
				for _, w := range tt.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: error %q does not mention %q", how, msg, w)
					}
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("%s: errors.Is(%q, %v) is false", how, msg, tt.is)
				}
				if p.Breakers() != nil || policy.BudgetOf(p) != nil || policy.MaxAttemptsOf(p, "get") != 1 {
					t.Errorf("%s: the policy returned with an error is not the zero Policy", how)
				}
			}
			p, err := policy.New(tt.opts...)
			check("New", p, err)

			if newOnly[tt.name] {
				return // valid on top of Default(), which retries
			}
			base := policy.Default()
			q, err := base.With(tt.opts...)
			check("Default().With", q, err)
			// The failed With left base as it was.
			if policy.MaxAttemptsOf(base, "get") != policy.DefaultMaxAttempts || base.Breakers() == nil || policy.BudgetOf(base) == nil {
				t.Errorf("a failed With changed the original policy")
			}
		})
	}
}

// TestCommandPerCommandOptions checks that every option documented as
// per-command is accepted inside Command.
func TestCommandPerCommandOptions(t *testing.T) {
	fb := func(context.Context, policy.Cmd, error) error { return nil }
	opts := []policy.RuleOption{
		policy.RetryOn(retryable.Connection), policy.AbortOn(retryable.Timeout),
		policy.RetryIf(func(policy.Failure) bool { return false }),
		policy.MaxAttempts(4), policy.MaxElapsed(time.Second), policy.AttemptTimeout(time.Second),
		policy.Backoff(backoff.Constant(time.Millisecond)), policy.RetryAmbiguous(true),
		policy.Fallback(fb),
	}
	for _, o := range opts {
		if _, err := policy.New(policy.RetryOn(retryable.Connection), policy.Command([]string{"get"}, o)); err != nil {
			t.Errorf("per-command option refused: %v", err)
		}
	}
	if _, err := policy.New(policy.Command([]string{"get"}, opts...)); err != nil {
		t.Errorf("per-command options refused together: %v", err)
	}
}

func TestWithIsACopy(t *testing.T) {
	p := mustNew(t, policy.RetryOn(retryable.Connection), policy.MaxAttempts(3), policy.Command([]string{"get"}, policy.MaxAttempts(5)))
	q := mustWith(t, p, policy.MaxAttempts(7), policy.Command([]string{"get"}, policy.MaxAttempts(2)),
		policy.Command([]string{"hget"}, policy.AttemptTimeout(time.Second)))

	for _, c := range []struct {
		name string
		p    policy.Policy
		cmd  string
		want int
	}{
		{"original base", p, "set", 3},
		{"original override", p, "get", 5},
		{"original has no hget override", p, "hget", 3},
		{"copy base", q, "set", 7},
		{"copy override", q, "get", 2},
		{"copy new override inherits base", q, "hget", 7},
	} {
		if got := policy.MaxAttemptsOf(c.p, c.cmd); got != c.want {
			t.Errorf("%s: MaxAttempts(%q) = %d, want %d", c.name, c.cmd, got, c.want)
		}
	}
	if policy.HasAttemptTimeout(p) || !policy.HasAttemptTimeout(q) {
		t.Errorf("HasAttemptTimeout: original %v, copy %v; want false, true", policy.HasAttemptTimeout(p), policy.HasAttemptTimeout(q))
	}
	if policy.AttemptTimeoutOf(p, "hget") != 0 || policy.AttemptTimeoutOf(q, "hget") != time.Second || policy.AttemptTimeoutOf(q, "get") != 0 {
		t.Errorf("AttemptTimeout: original hget %v, copy hget %v, copy get %v", policy.AttemptTimeoutOf(p, "hget"), policy.AttemptTimeoutOf(q, "hget"), policy.AttemptTimeoutOf(q, "get"))
	}

	// With with no options is an equal, independent copy.
	r := mustWith(t, p)
	if policy.MaxAttemptsOf(r, "get") != 5 || policy.MaxAttemptsOf(r, "set") != 3 {
		t.Errorf("With(): MaxAttempts get %d, set %d; want 5, 3", policy.MaxAttemptsOf(r, "get"), policy.MaxAttemptsOf(r, "set"))
	}

	// The zero Policy has a With too, and stays zero.
	var zero policy.Policy
	z := mustWith(t, zero, policy.RetryOn(retryable.Connection), policy.MaxAttempts(4))
	if policy.MaxAttemptsOf(z, "get") != 4 || policy.MaxAttemptsOf(zero, "get") != 1 {
		t.Errorf("Policy{}.With: copy %d, zero %d; want 4, 1", policy.MaxAttemptsOf(z, "get"), policy.MaxAttemptsOf(zero, "get"))
	}
	if again := mustWith(t, zero); policy.MaxAttemptsOf(again, "get") != 1 {
		t.Errorf("the zero Policy changed after With: MaxAttempts %d", policy.MaxAttemptsOf(again, "get"))
	}
}

// decideDelay is the delay Decide gives a read command's first retryable
// failure under p, failing the test if it is not retried.
func decideDelay(t *testing.T, p policy.Policy, cmd string) time.Duration {
	t.Helper()
	d, why := p.Decide(policy.Failure{Command: cmd, Attempt: 1, Class: retryable.Connection,
		Execution: retryable.NotExecuted, Info: retryable.Info{Kind: retryable.Read}}, 0)
	if why != policy.Retry {
		t.Fatalf("%s: Decide = %v, want a retry", cmd, why)
	}
	return d
}

func TestOverrides(t *testing.T) {
	c10 := backoff.Constant(10 * time.Millisecond)
	c20 := backoff.Constant(20 * time.Millisecond)
	get := []string{"get"}

	t.Run("inherit base settings given after them", func(t *testing.T) {
		p := mustNew(t, policy.Command(get, policy.Backoff(c10)), policy.RetryOn(retryable.Connection), policy.MaxAttempts(5))
		if got := policy.MaxAttemptsOf(p, "get"); got != 5 {
			t.Errorf("GET MaxAttempts = %d, want 5 from the base", got)
		}
		if got := decideDelay(t, p, "get"); got != 10*time.Millisecond {
			t.Errorf("GET delay = %v, want the override's 10ms", got)
		}
		if got := decideDelay(t, p, "del"); got != 0 {
			t.Errorf("DEL delay = %v, want 0 (no base backoff)", got)
		}
	})

	t.Run("override beats base whatever the order", func(t *testing.T) {
		p := mustNew(t, policy.Command(get, policy.MaxAttempts(9)), policy.MaxAttempts(5), policy.RetryOn(retryable.Connection))
		if got := policy.MaxAttemptsOf(p, "get"); got != 9 {
			t.Errorf("GET MaxAttempts = %d, want 9", got)
		}
	})

	t.Run("With on the base re-derives overrides", func(t *testing.T) {
		p := mustNew(t, policy.RetryOn(retryable.Connection), policy.Command(get, policy.Backoff(c10)), policy.MaxAttempts(2))
		q := mustWith(t, p, policy.MaxAttempts(6), policy.Backoff(c20))
		if policy.MaxAttemptsOf(p, "get") != 2 || policy.MaxAttemptsOf(q, "get") != 6 {
			t.Errorf("GET MaxAttempts: original %d, copy %d; want 2, 6", policy.MaxAttemptsOf(p, "get"), policy.MaxAttemptsOf(q, "get"))
		}
		if got := decideDelay(t, q, "get"); got != 10*time.Millisecond {
			t.Errorf("copy GET delay = %v, want the override's 10ms", got)
		}
		if got := decideDelay(t, q, "del"); got != 20*time.Millisecond {
			t.Errorf("copy DEL delay = %v, want the new base 20ms", got)
		}
		if got := decideDelay(t, p, "del"); got != 0 {
			t.Errorf("original DEL delay = %v, want 0", got)
		}
	})

	t.Run("two overrides of one command merge", func(t *testing.T) {
		p := mustNew(t, policy.RetryOn(retryable.Connection),
			policy.Command(get, policy.MaxAttempts(4)),
			policy.Command([]string{"GET", "mget"}, policy.Backoff(c10)),
			policy.Command(get, policy.MaxAttempts(6)))
		if got := policy.MaxAttemptsOf(p, "get"); got != 6 {
			t.Errorf("GET MaxAttempts = %d, want the later 6", got)
		}
		if got := decideDelay(t, p, "get"); got != 10*time.Millisecond {
			t.Errorf("GET delay = %v, want 10ms from the second override", got)
		}
		if got := policy.MaxAttemptsOf(p, "mget"); got != 1 {
			t.Errorf("MGET MaxAttempts = %d, want the base 1", got)
		}
		// A later With merges too.
		q := mustWith(t, p, policy.Command(get, policy.Backoff(c20)))
		if policy.MaxAttemptsOf(q, "get") != 6 || decideDelay(t, q, "get") != 20*time.Millisecond {
			t.Errorf("With(Command(get, ...)): MaxAttempts %d, delay %v; want 6, 20ms", policy.MaxAttemptsOf(q, "get"), decideDelay(t, q, "get"))
		}
		if decideDelay(t, p, "get") != 10*time.Millisecond {
			t.Errorf("With changed the original's override")
		}
	})

	t.Run("names are case-insensitive and trimmed", func(t *testing.T) {
		p := mustNew(t, policy.RetryOn(retryable.Connection), policy.Command([]string{" GET ", "HSet", "mget"}, policy.MaxAttempts(4)))
		for _, cmd := range []string{"get", "hset", "mget"} {
			if got := policy.MaxAttemptsOf(p, cmd); got != 4 {
				t.Errorf("MaxAttempts(%q) = %d, want 4", cmd, got)
			}
		}
		if got := policy.MaxAttemptsOf(p, "set"); got != 1 {
			t.Errorf("MaxAttempts(set) = %d, want 1", got)
		}
	})

	t.Run("pipeline and multi", func(t *testing.T) {
		p := mustNew(t, policy.RetryOn(retryable.Connection), policy.MaxAttempts(3),
			policy.Command([]string{"pipeline"}, policy.MaxAttempts(5)),
			policy.Command([]string{"MULTI"}, policy.MaxAttempts(1)))
		if policy.MaxAttemptsOf(p, "pipeline") != 5 || policy.MaxAttemptsOf(p, "multi") != 1 || policy.MaxAttemptsOf(p, "get") != 3 {
			t.Errorf("MaxAttempts pipeline %d, multi %d, get %d; want 5, 1, 3",
				policy.MaxAttemptsOf(p, "pipeline"), policy.MaxAttemptsOf(p, "multi"), policy.MaxAttemptsOf(p, "get"))
		}
	})

	t.Run("fallback and log-and-continue per command", func(t *testing.T) {
		fb := func(context.Context, policy.Cmd, error) error { return nil }
		p := mustNew(t, policy.Command(get, policy.Fallback(fb)), policy.LogAndContinue("SET", "Expire"))
		if policy.FallbackOf(p, "get") == nil || policy.FallbackOf(p, "set") != nil {
			t.Errorf("Fallback: get %v, set %v; want set only for get", policy.FallbackOf(p, "get") != nil, policy.FallbackOf(p, "set") != nil)
		}
		if !policy.SwallowsOf(p, "set") || !policy.SwallowsOf(p, "expire") || policy.SwallowsOf(p, "get") {
			t.Errorf("Swallows: set %v, expire %v, get %v; want true, true, false",
				policy.SwallowsOf(p, "set"), policy.SwallowsOf(p, "expire"), policy.SwallowsOf(p, "get"))
		}
		// A base fallback reaches every command, overrides included.
		q := mustWith(t, p, policy.Fallback(fb))
		if policy.FallbackOf(q, "set") == nil || policy.FallbackOf(q, "hget") == nil {
			t.Errorf("base Fallback not inherited")
		}
		if !policy.SwallowsOf(q, "set") {
			t.Errorf("With dropped LogAndContinue")
		}
	})

	t.Run("the caller's option slice is copied", func(t *testing.T) {
		opts := []policy.RuleOption{policy.MaxAttempts(2)}
		p := mustNew(t, policy.RetryOn(retryable.Connection), policy.Command(get, opts...))
		opts[0] = policy.MaxAttempts(9)
		q := mustWith(t, p, policy.MaxAttempts(3))
		if got := policy.MaxAttemptsOf(q, "get"); got != 2 {
			t.Errorf("GET MaxAttempts after the caller changed its slice = %d, want 2", got)
		}
	})
}

func TestSharedState(t *testing.T) {
	p := mustNew(t, policy.RetryOn(retryable.Connection), policy.Breaker(breaker.Settings{}), policy.Budget(testBudget(t)), policy.Limit(testLimiter(t)))
	if p.Breakers() == nil || policy.BudgetOf(p) == nil || policy.LimiterOf(p) == nil {
		t.Fatalf("Breakers %v, Budget %v, Limiter %v: want all set", p.Breakers(), policy.BudgetOf(p), policy.LimiterOf(p))
	}
	q := mustWith(t, p, policy.MaxAttempts(3))
	if q.Breakers() != p.Breakers() || policy.BudgetOf(q) != policy.BudgetOf(p) || policy.LimiterOf(q) != policy.LimiterOf(p) {
		t.Errorf("With(MaxAttempts) did not share breakers, budget and limiter")
	}
	r := mustWith(t, p, policy.Breaker(breaker.Settings{ConsecutiveFailures: 2}))
	if r.Breakers() == nil || r.Breakers() == p.Breakers() {
		t.Errorf("With(Breaker) kept the old breakers")
	}
	s := mustWith(t, p, policy.NoBreaker(), policy.Budget(nil), policy.Limit(nil))
	if s.Breakers() != nil || policy.BudgetOf(s) != nil || policy.LimiterOf(s) != nil {
		t.Errorf("NoBreaker, Budget(nil), Limit(nil) did not remove them")
	}
	if p.Breakers() == nil || policy.BudgetOf(p) == nil || policy.LimiterOf(p) == nil {
		t.Errorf("With changed the original's breakers, budget or limiter")
	}
	// NoBreaker then Breaker in one build gives breakers.
	if u := mustNew(t, policy.NoBreaker(), policy.Breaker(breaker.Settings{})); u.Breakers() == nil {
		t.Errorf("Breaker after NoBreaker: no breakers")
	}
	if u := mustNew(t, policy.Breaker(breaker.Settings{}), policy.NoBreaker()); u.Breakers() != nil {
		t.Errorf("NoBreaker after Breaker: breakers kept")
	}
}

func TestLookupMarks(t *testing.T) {
	p := mustNew(t, policy.MarkIdempotent("EVALSHA", "blpop"), policy.MarkUnsafe("get"))
	tests := []struct {
		name string
		args []any
		want retryable.Info
	}{
		{"marked idempotent keeps Script", []any{"evalsha", "abc", 0}, retryable.Info{Kind: retryable.Idempotent, Script: true}},
		{"mark is case-insensitive", []any{"EvalSha", "abc", 0}, retryable.Info{Kind: retryable.Idempotent, Script: true}},
		{"[]byte name", []any{[]byte("evalsha"), "abc", 0}, retryable.Info{Kind: retryable.Idempotent, Script: true}},
		{"marked idempotent keeps Blocking", []any{"blpop", "l", 0}, retryable.Info{Kind: retryable.Idempotent, Blocking: true}},
		{"marked unsafe", []any{"get", "k"}, retryable.Info{Kind: retryable.Unsafe}},
		{"marked unsafe, []byte name", []any{[]byte("GET"), "k"}, retryable.Info{Kind: retryable.Unsafe}},
		{"unmarked", []any{"incr", "k"}, retryable.Lookup([]any{"incr", "k"})},
		{"unmarked script", []any{"eval", "return 1", 0}, retryable.Lookup([]any{"eval", "return 1", 0})},
		{"empty", nil, retryable.Info{}},
		{"not a name", []any{42}, retryable.Info{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy.LookupOf(p, tt.args); got != tt.want {
				t.Errorf("Lookup(%v) = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
	// Without marks, Lookup is the table's answer.
	for _, args := range [][]any{{"get", "k"}, {"evalsha", "abc", 0}, {"incr", "k"}, {"blpop", "l", 0}} {
		var zero policy.Policy
		if got, want := policy.LookupOf(zero, args), retryable.Lookup(args); got != want {
			t.Errorf("Policy{}.Lookup(%v) = %+v, want %+v", args, got, want)
		}
	}
	// A mark changes what Decide does with an ambiguous failure.
	q := mustWith(t, p, policy.RetryOn(retryable.Connection), policy.MaxAttempts(2))
	for _, c := range []struct {
		args []any
		want policy.Reason
	}{
		{[]any{"evalsha", "abc", 0}, policy.Retry},
		{[]any{"eval", "return 1", 0}, policy.Unsafe},
		{[]any{"get", "k"}, policy.Unsafe},
	} {
		f := policy.Failure{Command: c.args[0].(string), Attempt: 1, Err: io.EOF, Class: retryable.Connection,
			Execution: retryable.Ambiguous, Info: policy.LookupOf(q, c.args)}
		if _, why := q.Decide(f, 0); why != c.want {
			t.Errorf("Decide(%v after EOF) = %v, want %v", c.args[0], why, c.want)
		}
	}
	// Marks survive With and can be flipped.
	r := mustWith(t, p, policy.MarkUnsafe("evalsha"))
	if policy.LookupOf(r, []any{"evalsha", "abc", 0}).Kind != retryable.Unsafe || policy.LookupOf(p, []any{"evalsha", "abc", 0}).Kind != retryable.Idempotent {
		t.Errorf("MarkUnsafe in With: copy %v, original %v; want unsafe, idempotent",
			policy.LookupOf(r, []any{"evalsha", "abc", 0}).Kind, policy.LookupOf(p, []any{"evalsha", "abc", 0}).Kind)
	}
	if policy.LookupOf(r, []any{"blpop", "l", 0}).Kind != retryable.Idempotent {
		t.Errorf("With dropped the mark of blpop")
	}
}

func TestDefault(t *testing.T) {
	p := policy.Default()
	if got := policy.MaxAttemptsOf(p, "get"); got != 3 || policy.DefaultMaxAttempts != 3 {
		t.Errorf("MaxAttempts = %d, DefaultMaxAttempts = %d; want 3, 3", got, policy.DefaultMaxAttempts)
	}
	if p.Breakers() == nil || policy.BudgetOf(p) == nil {
		t.Fatalf("Breakers %v, Budget %v: want both", p.Breakers(), policy.BudgetOf(p))
	}
	if policy.LimiterOf(p) != nil || policy.HasAttemptTimeout(p) || policy.FallbackOf(p, "get") != nil || policy.SwallowsOf(p, "set") || policy.ObservedOf(p) {
		t.Errorf("Default has a limiter, attempt timeout, fallback, log-and-continue or observer")
	}

	read := retryable.Info{Kind: retryable.Read}
	retried := map[retryable.Class]bool{
		retryable.Connection: true, retryable.Timeout: true, retryable.BusyLoading: true,
		retryable.ReadOnly: true, retryable.ClusterDown: true, retryable.Busy: true, retryable.Capacity: true,
	}
	for _, cl := range retryable.Classes() {
		f := policy.Failure{Command: "get", Attempt: 1, Class: cl, Execution: retryable.NotExecuted, Info: read}
		d, why := p.Decide(f, 0)
		if retried[cl] {
			if why != policy.Retry || d < 0 || d > policy.DefaultBaseDelay {
				t.Errorf("%v: Decide = %v, %v; want a retry within [0, %v]", cl, d, why, policy.DefaultBaseDelay)
			}
		} else {
			want := policy.NotRetryable // a refusal says who refused
			switch cl {
			case retryable.CircuitOpen:
				want = policy.CircuitOpen
			case retryable.Throttled:
				want = policy.RateLimited
			}
			if why != want || d != 0 {
				t.Errorf("%v: Decide = %v, %v; want 0, %v", cl, d, why, want)
			}
		}
	}

	// Delays are jittered and stay within [0, DefaultMaxDelay].
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		f := policy.Failure{Command: "get", Attempt: 1 + i%2, Class: retryable.Timeout, Execution: retryable.Ambiguous, Info: read}
		d, why := p.Decide(f, 0)
		if why != policy.Retry || d < 0 || d > policy.DefaultMaxDelay {
			t.Fatalf("attempt %d: Decide = %v, %v; want a retry within [0, 1s]", f.Attempt, d, why)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Errorf("200 delays took %d value(s): not jittered", len(seen))
	}

	for _, c := range []struct {
		name string
		f    policy.Failure
		want policy.Reason
	}{
		{"third attempt", policy.Failure{Command: "get", Attempt: 3, Class: retryable.Connection, Info: read}, policy.Exhausted},
		{"past max elapsed", policy.Failure{Command: "get", Attempt: 1, Class: retryable.Connection, Info: read, Elapsed: policy.DefaultMaxElapsed + time.Nanosecond}, policy.ElapsedLimit},
		{"unsafe ambiguous", policy.Failure{Command: "incr", Attempt: 1, Class: retryable.Connection, Execution: retryable.Ambiguous, Info: retryable.Info{Kind: retryable.Unsafe}}, policy.Unsafe},
		{"unsafe not executed", policy.Failure{Command: "incr", Attempt: 1, Class: retryable.Connection, Execution: retryable.NotExecuted, Info: retryable.Info{Kind: retryable.Unsafe}}, policy.Retry},
		{"blocking timeout", policy.Failure{Command: "blpop", Attempt: 1, Class: retryable.Timeout, Execution: retryable.Ambiguous, Info: retryable.Info{Kind: retryable.Read, Blocking: true}}, policy.BlockingTimeout},
	} {
		if _, why := p.Decide(c.f, 0); why != c.want {
			t.Errorf("%s: Decide = %v, want %v", c.name, why, c.want)
		}
	}

	// Two Default() calls share nothing.
	q := policy.Default()
	if q.Breakers() == p.Breakers() || policy.BudgetOf(q) == policy.BudgetOf(p) {
		t.Fatalf("two Default() calls share breakers or budget")
	}
	b := p.Breakers().Get("n")
	for i := 0; i < int(breaker.DefaultConsecutiveFailures); i++ {
		tk, err := b.Allow()
		if err != nil {
			t.Fatalf("Allow %d: %v", i, err)
		}
		b.Done(tk, breaker.Failure)
	}
	if b.State() != breaker.Open {
		t.Fatalf("after %d failures the breaker is %v, want open", breaker.DefaultConsecutiveFailures, b.State())
	}
	if s := q.Breakers().Get("n").State(); s != breaker.Closed {
		t.Errorf("the other Default()'s breaker is %v, want closed", s)
	}
}

func TestEmit(t *testing.T) {
	var rec recorder
	p := mustNew(t, policy.Observe(rec.observe))
	if !policy.ObservedOf(p) {
		t.Errorf("Observed() = false with an observer")
	}
	e := policy.Event{Kind: policy.RetryScheduled, Command: "get", Attempt: 1, Delay: time.Millisecond, Class: retryable.Timeout, Err: io.EOF}
	policy.EmitOf(p, context.Background(), e)
	if got := rec.all(); len(got) != 1 || got[0] != e {
		t.Fatalf("observer got %+v, want [%+v]", got, e)
	}

	// Emit without observer or logger does nothing, and does not panic.
	var zero policy.Policy
	if policy.ObservedOf(zero) {
		t.Errorf("Policy{}.Observed() = true")
	}
	policy.EmitOf(zero, context.Background(), e)

	// Observe(nil) in With removes the observer.
	q := mustWith(t, p, policy.Observe(nil))
	if policy.ObservedOf(q) {
		t.Errorf("Observed() after Observe(nil) = true")
	}
	policy.EmitOf(q, context.Background(), e)
	if n := len(rec.all()); n != 1 {
		t.Errorf("observer called %d times after it was removed from a copy, want 1", n)
	}
}

func TestLogger(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		e     policy.Event
		want  []string // empty: nothing logged
	}{
		{"retry at debug", slog.LevelDebug,
			policy.Event{Kind: policy.RetryScheduled, Command: "get", Attempt: 2, Delay: 30 * time.Millisecond, Class: retryable.Timeout, Err: io.EOF},
			[]string{"level=DEBUG", `msg="retryable: retry scheduled"`, "command=get", "attempt=2", "delay=30ms", "class=Timeout", "error=EOF"}},
		{"retry hidden at info", slog.LevelInfo,
			policy.Event{Kind: policy.RetryScheduled, Command: "get", Attempt: 2, Class: retryable.Timeout, Err: io.EOF}, nil},
		{"gave up at debug", slog.LevelDebug,
			policy.Event{Kind: policy.GaveUp, Command: "incr", Attempt: 1, Reason: policy.Unsafe, Class: retryable.Connection, Err: io.EOF},
			[]string{"level=DEBUG", `msg="retryable: gave up"`, "command=incr", `reason="unsafe to repeat"`, "class=Connection", "error=EOF"}},
		{"gave up hidden at info", slog.LevelInfo,
			policy.Event{Kind: policy.GaveUp, Command: "incr", Attempt: 1, Reason: policy.Unsafe, Class: retryable.Connection, Err: io.EOF}, nil},
		{"breaker opened", slog.LevelWarn,
			policy.Event{Kind: policy.BreakerChanged, Node: "127.0.0.1:6379", From: breaker.Closed, To: breaker.Open},
			[]string{"level=WARN", `msg="retryable: breaker open"`, "node=127.0.0.1:6379", "from=closed", "to=open"}},
		{"breaker closed", slog.LevelInfo,
			policy.Event{Kind: policy.BreakerChanged, Node: "n", From: breaker.HalfOpen, To: breaker.Closed},
			[]string{"level=INFO", `msg="retryable: breaker closed"`, "node=n", "from=half-open", "to=closed"}},
		{"probing hidden at info", slog.LevelInfo,
			policy.Event{Kind: policy.BreakerChanged, Node: "n", From: breaker.Open, To: breaker.HalfOpen}, nil},
		{"re-opened hidden at info", slog.LevelInfo,
			policy.Event{Kind: policy.BreakerChanged, Node: "n", From: breaker.HalfOpen, To: breaker.Open}, nil},
		{"refused at debug", slog.LevelDebug,
			policy.Event{Kind: policy.Refused, Command: "set", Node: "n", Reason: policy.CircuitOpen, Class: retryable.CircuitOpen, Err: errors.New("breaker: n: open")},
			[]string{"level=DEBUG", `msg="retryable: refused"`, "command=set", "node=n", "attempt=0", `reason="circuit open"`, "class=CircuitOpen"}},
		{"fallback at debug", slog.LevelDebug,
			policy.Event{Kind: policy.FallbackUsed, Command: "get", Class: retryable.Connection, Err: io.EOF},
			[]string{"level=DEBUG", `msg="retryable: fallback used"`, "command=get"}},
		{"swallowed at debug", slog.LevelDebug,
			policy.Event{Kind: policy.Swallowed, Command: "set", Class: retryable.Connection, Err: io.EOF},
			[]string{"level=DEBUG", `msg="retryable: error swallowed"`, "command=set", "error=EOF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			p := mustNew(t, policy.Logger(l))
			if !policy.ObservedOf(p) {
				t.Errorf("Observed() = false with a logger")
			}
			policy.EmitOf(p, context.Background(), tt.e)
			out := buf.String()
			if len(tt.want) == 0 {
				if out != "" {
					t.Errorf("logged %q, want nothing", out)
				}
				return
			}
			if strings.Count(out, "\n") != 1 {
				t.Errorf("logged %q, want one line", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("log line %q lacks %q", out, w)
				}
			}
		})
	}
	// Logger(nil) turns logging off.
	var buf bytes.Buffer
	p := mustNew(t, policy.Logger(slog.New(slog.NewTextHandler(&buf, nil))), policy.Logger(nil))
	policy.EmitOf(p, context.Background(), policy.Event{Kind: policy.GaveUp, Command: "get"})
	if buf.Len() != 0 || policy.ObservedOf(p) {
		t.Errorf("Logger(nil) still logs: %q", buf.String())
	}
}

// TestLoggerSummary floods a logger with the refusals of an outage: above
// Debug it writes the breaker's changes and one summary with the counts,
// when the breaker closes or every SummaryInterval, not a line per call.
func TestLoggerSummary(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p := mustNew(t, policy.Logger(l))
	now := time.Unix(1000, 0)
	policy.SetLogClock(p, func() time.Time { return now })
	ctx := context.Background()
	refused := policy.Event{Kind: policy.Refused, Command: "get", Node: "n", Reason: policy.CircuitOpen, Class: retryable.CircuitOpen, Err: errors.New("breaker: n: open")}
	policy.EmitOf(p, ctx, policy.Event{Kind: policy.BreakerChanged, Node: "n", From: breaker.Closed, To: breaker.Open})
	for range 10000 {
		policy.EmitOf(p, ctx, refused)
	}
	policy.EmitOf(p, ctx, policy.Event{Kind: policy.GaveUp, Command: "get", Attempt: 3, Reason: policy.Exhausted, Class: retryable.Timeout, Err: io.EOF})
	now = now.Add(3 * time.Second)
	policy.EmitOf(p, ctx, policy.Event{Kind: policy.BreakerChanged, Node: "n", From: breaker.HalfOpen, To: breaker.Closed})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines for an outage of 10,001 failed calls, want 3 (open, closed, summary):\n%s", len(lines), buf.String())
	}
	for _, w := range []string{"level=WARN", `msg="retryable: summary of the outage"`, "over=3s", "refused=10000", "gave_up=1", "reasons.circuit_open=10000", "reasons.attempts_exhausted=1", "last_error=EOF"} {
		if !strings.Contains(lines[2], w) {
			t.Errorf("summary %q lacks %q", lines[2], w)
		}
	}
	// Without a breaker closing, a summary comes every SummaryInterval.
	buf.Reset()
	for i := range 3 {
		now = now.Add(policy.SummaryInterval / 2)
		policy.EmitOf(p, ctx, refused)
		_ = i
	}
	if got := strings.Count(buf.String(), "summary"); got != 1 {
		t.Errorf("%d summaries after %v of refusals, want 1:\n%s", got, 3*policy.SummaryInterval/2, buf.String())
	}
}

func TestEventLogValue(t *testing.T) {
	e := policy.Event{Kind: policy.RetryScheduled, Command: "get", Attempt: 1, Delay: 20 * time.Millisecond, Class: retryable.Timeout, Err: io.EOF}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "e", e)
	want := `e.event="retry scheduled" e.command=get e.attempt=1 e.delay=20ms e.class=Timeout e.error=EOF`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("logged %q, want it to hold %q", buf.String(), want)
	}
	if strings.Contains(buf.String(), "reason") || strings.Contains(buf.String(), "from") {
		t.Errorf("logged %q: fields that do not apply to a retry", buf.String())
	}
}

// tripOnce makes the breaker of node in p fail once.
func tripOnce(t *testing.T, p policy.Policy, node string) {
	t.Helper()
	b := p.Breakers().Get(node)
	tk, err := b.Allow()
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	b.Done(tk, breaker.Failure)
}

func TestBreakerEvents(t *testing.T) {
	want := policy.Event{Kind: policy.BreakerChanged, Node: "n", From: breaker.Closed, To: breaker.Open}
	for _, order := range []string{"Observe first", "Breaker first"} {
		t.Run(order, func(t *testing.T) {
			var rec recorder
			var userCalls int
			var buf bytes.Buffer
			s := breaker.Settings{ConsecutiveFailures: 1, OnStateChange: func(string, breaker.State, breaker.State) { userCalls++ }}
			sinks := []policy.Option{policy.Observe(rec.observe), policy.Logger(slog.New(slog.NewTextHandler(&buf, nil)))}
			opts := append(sinks, policy.Breaker(s))
			if order == "Breaker first" {
				opts = append([]policy.Option{policy.Breaker(s)}, sinks...)
			}
			p := mustNew(t, opts...)
			tripOnce(t, p, "n")
			if got := rec.all(); len(got) != 1 || got[0] != want {
				t.Fatalf("observer got %+v, want [%+v]", got, want)
			}
			if userCalls != 1 {
				t.Errorf("the settings' own OnStateChange ran %d times, want 1", userCalls)
			}
			if out := buf.String(); !strings.Contains(out, "breaker open") || !strings.Contains(out, "node=n") {
				t.Errorf("log %q lacks the breaker change", out)
			}
		})
	}

	t.Run("With(Observe) keeps the breakers and tells both observers", func(t *testing.T) {
		var first, second recorder
		p := mustNew(t, policy.Breaker(breaker.Settings{ConsecutiveFailures: 1}), policy.Observe(first.observe))
		q := mustWith(t, p, policy.Observe(second.observe))
		r := mustWith(t, q, policy.Logger(slog.New(slog.DiscardHandler)), policy.MaxAttempts(1))
		if q.Breakers() != p.Breakers() || r.Breakers() != p.Breakers() {
			t.Fatalf("a copy that only changes what observes it has breakers of its own")
		}
		tripOnce(t, q, "n")
		if p.Breakers().Get("n").State() != breaker.Open {
			t.Errorf("the copy's failure did not open the original's breaker for the same node")
		}
		for name, rec := range map[string]*recorder{"original": &first, "copy": &second} {
			if got := rec.all(); len(got) != 1 || got[0] != want {
				t.Errorf("%s's observer got %+v, want [%+v]", name, got, want)
			}
		}
		// New breaker settings make new breakers.
		fresh := mustWith(t, p, policy.Breaker(breaker.Settings{ConsecutiveFailures: 2}))
		if fresh.Breakers() == p.Breakers() || fresh.Breakers().Get("n").State() != breaker.Closed {
			t.Errorf("With(Breaker) kept the old breakers")
		}
	})

	t.Run("no observer", func(t *testing.T) {
		p := mustNew(t, policy.Breaker(breaker.Settings{ConsecutiveFailures: 1}))
		tripOnce(t, p, "n")
		if s := p.Breakers().Get("n").State(); s != breaker.Open {
			t.Errorf("state %v, want open", s)
		}
	})
}

func TestNoRetry(t *testing.T) {
	bg := context.Background()
	if policy.RetriesDisabled(bg) {
		t.Errorf("RetriesDisabled(Background) = true")
	}
	ctx := policy.NoRetry(bg)
	if !policy.RetriesDisabled(ctx) {
		t.Errorf("RetriesDisabled(NoRetry(ctx)) = false")
	}
	child, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	if !policy.RetriesDisabled(child) {
		t.Errorf("a context derived from NoRetry lost it")
	}
	type otherKey struct{}
	if policy.RetriesDisabled(context.WithValue(bg, otherKey{}, true)) {
		t.Errorf("another key's true value reads as NoRetry")
	}
	if !policy.RetriesDisabled(context.WithoutCancel(ctx)) {
		t.Errorf("WithoutCancel dropped NoRetry")
	}
}

func TestStrings(t *testing.T) {
	reasons := []policy.Reason{policy.Retry, policy.NotRetryable, policy.Unsafe, policy.BlockingTimeout, policy.Exhausted,
		policy.ElapsedLimit, policy.Deadline, policy.BudgetExhausted, policy.CallerOptOut}
	seen := map[string]bool{}
	for _, r := range reasons {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("Reason(%d).String() = %q: empty, unknown or repeated", r, s)
		}
		seen[s] = true
	}
	if s := policy.Reason(200).String(); s != "unknown" {
		t.Errorf("Reason(200).String() = %q, want unknown", s)
	}
	kinds := []policy.EventKind{policy.RetryScheduled, policy.GaveUp, policy.BreakerChanged, policy.Refused, policy.FallbackUsed, policy.Swallowed}
	seen = map[string]bool{}
	for _, k := range kinds {
		s := k.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("EventKind(%d).String() = %q: empty, unknown or repeated", k, s)
		}
		seen[s] = true
	}
	for _, k := range []policy.EventKind{0, 200} {
		if s := k.String(); s != "unknown" {
			t.Errorf("EventKind(%d).String() = %q, want unknown", k, s)
		}
	}
}

// TestConcurrentUse shares one policy between goroutines that decide, derive
// and emit; run with -race.
func TestConcurrentUse(t *testing.T) {
	var rec recorder
	p := mustNew(t, policy.RetryOn(retryable.Connection), policy.MaxAttempts(3),
		policy.Backoff(backoff.FullJitter(backoff.NewExponential(time.Millisecond, 10*time.Millisecond, 2))),
		policy.Command([]string{"xadd"}, policy.MaxAttempts(1)), policy.MarkIdempotent("evalsha"),
		policy.Breaker(breaker.Settings{ConsecutiveFailures: 1}), policy.Observe(rec.observe))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				f := policy.Failure{Command: "get", Attempt: 1 + i%3, Class: retryable.Connection,
					Execution: retryable.Ambiguous, Info: policy.LookupOf(p, []any{"evalsha", "x", 0})}
				if d, why := p.Decide(f, 0); d < 0 || (why != policy.Retry && why != policy.Exhausted) {
					t.Errorf("Decide = %v, %v", d, why)
					return
				}
				if _, err := p.With(policy.MaxAttempts(1 + i%4)); err != nil {
					t.Errorf("With: %v", err)
					return
				}
				policy.EmitOf(p, context.Background(), policy.Event{Kind: policy.GaveUp, Command: "get"})
				b := p.Breakers().Get("n")
				if tk, err := b.Allow(); err == nil {
					b.Done(tk, breaker.Success)
				}
			}
		}()
	}
	wg.Wait()
	if got := policy.MaxAttemptsOf(p, "get"); got != 3 {
		t.Errorf("MaxAttempts after concurrent With = %d, want 3", got)
	}
	if n := len(rec.all()); n < 800 {
		t.Errorf("observer saw %d events, want at least 800", n)
	}
}

// The later of RetryOn and AbortOn wins for a class both name, so an
// override can retry what the base aborts on.
func TestRetryOnAfterAbortOnWins(t *testing.T) {
	p, err := policy.New(policy.AbortOn(retryable.Timeout), policy.RetryOn(retryable.Timeout), policy.MaxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	f := policy.Failure{Command: "get", Attempt: 1, Class: retryable.Timeout, Execution: retryable.Ambiguous, Info: retryable.Info{Kind: retryable.Read}}
	if _, why := p.Decide(f, 0); why != policy.Retry {
		t.Fatalf("RetryOn after AbortOn: %v, want retry", why)
	}
	p, err = policy.New(policy.RetryOn(retryable.Connection), policy.AbortOn(retryable.Timeout), policy.MaxAttempts(2),
		policy.Command([]string{"get"}, policy.RetryOn(retryable.Timeout)))
	if err != nil {
		t.Fatal(err)
	}
	if _, why := p.Decide(f, 0); why != policy.Retry {
		t.Fatalf("override RetryOn(Timeout) under base AbortOn(Timeout): %v, want retry", why)
	}
	f.Command = "exists"
	if _, why := p.Decide(f, 0); why != policy.NotRetryable {
		t.Fatalf("base AbortOn(Timeout): %v, want not retryable", why)
	}
}
