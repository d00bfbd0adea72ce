// This file is copied into a copy of go-redis's test suite (package
// redis_test) by scripts/conformance.sh; it lives under testdata so the
// retryable module does not build it. internal/conformance/rewrite points
// every client constructor call of the suite at the wrappers below.
//
// CONFORMANCE_POLICY picks what the wrappers install:
//
//	none (or unset)  nothing: the bare run, same binary
//	default          policy.Default()
//	nobreaker        policy.Default() without its breakers
//
// Each client gets its own policy value (its own breakers and budget), so
// the breaker state of one spec does not leak into the next.
//
// CONFORMANCE_INSTALL_LOG, when set, names a file that gets one line per
// client built: the wrapper, the client's type, "installed" or "bare", and
// the spec that built it (empty outside specs: BeforeSuite).
// An Install error panics: inside a spec that fails the spec with the
// error, outside one it stops the binary.
//
// CONFORMANCE_EVENTS, when set, names a file that gets every event of the
// hooked run's policies (policy.Observe), each with the spec that caused it:
// for finding out why a spec fails hooked. It is off by default because an
// observer is itself a small change to the hook's failure paths.
package redis_test

import (
	"fmt"
	"os"
	"sync"

	. "github.com/bsm/ginkgo/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

// conformanceFile is a file the wrappers append lines to, opened on first
// use.
type conformanceFile struct {
	env  string
	once sync.Once
	mu   sync.Mutex
	f    *os.File
}

var (
	conformanceInstalls = &conformanceFile{env: "CONFORMANCE_INSTALL_LOG"}
	conformanceEvents   = &conformanceFile{env: "CONFORMANCE_EVENTS"}
)

func (cf *conformanceFile) enabled() bool { return os.Getenv(cf.env) != "" }

func (cf *conformanceFile) printf(format string, args ...any) {
	path := os.Getenv(cf.env)
	if path == "" {
		return
	}
	cf.once.Do(func() {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			panic("conformance: " + cf.env + ": " + err.Error())
		}
		cf.f = f
	})
	cf.mu.Lock()
	defer cf.mu.Unlock()
	fmt.Fprintf(cf.f, format, args...)
}

func conformancePolicy() (policy.Policy, bool) {
	var p policy.Policy
	switch name := os.Getenv("CONFORMANCE_POLICY"); name {
	case "", "none":
		return policy.Policy{}, false
	case "default":
		p = policy.Default()
	case "nobreaker":
		var err error
		if p, err = policy.Default().With(policy.NoBreaker()); err != nil {
			panic("conformance: policy.Default().With(policy.NoBreaker()): " + err.Error())
		}
	default:
		panic(fmt.Sprintf("conformance: unknown CONFORMANCE_POLICY %q (want none, default or nobreaker)", name))
	}
	if conformanceEvents.enabled() {
		var err error
		if p, err = p.With(policy.Observe(conformanceObserve)); err != nil {
			panic("conformance: policy.Observe: " + err.Error())
		}
	}
	return p, true
}

func conformanceObserve(e policy.Event) {
	conformanceEvents.printf("spec=%q kind=%q cmd=%s node=%s attempt=%d class=%v reason=%v delay=%v from=%v to=%v err=%T %q\n",
		CurrentSpecReport().FullText(), e.Kind, e.Command, e.Node, e.Attempt, e.Class, e.Reason, e.Delay, e.From, e.To, e.Err, fmt.Sprint(e.Err))
}

func conformanceRecord(wrapper string, c redis.UniversalClient, state string) {
	conformanceInstalls.printf("%s %T %s %q\n", wrapper, c, state, CurrentSpecReport().FullText())
}

// conformanceInstall installs the chosen policy on c. The suite builds its
// clients with go-redis's default retries and, mostly, without
// ContextTimeoutEnabled: the two Allow options accept them as they are, so
// the hook is the only change.
func conformanceInstall(wrapper string, c redis.UniversalClient) {
	p, ok := conformancePolicy()
	if !ok {
		conformanceRecord(wrapper, c, "bare")
		return
	}
	if err := hooks.Install(c, p, hooks.AllowBuiltinRetries(), hooks.AllowNoContextTimeout()); err != nil {
		msg := fmt.Sprintf("CONFORMANCE: hooks.Install failed in %s for %T: %v", wrapper, c, err)
		fmt.Fprintln(os.Stderr, msg)
		conformanceRecord(wrapper, c, "INSTALL-ERROR")
		panic(msg)
	}
	conformanceRecord(wrapper, c, "installed")
}

func conformanceNewClient(opt *redis.Options) *redis.Client {
	c := redis.NewClient(opt)
	conformanceInstall("NewClient", c)
	return c
}

func conformanceNewClusterClient(opt *redis.ClusterOptions) *redis.ClusterClient {
	c := redis.NewClusterClient(opt)
	conformanceInstall("NewClusterClient", c)
	return c
}

func conformanceNewRing(opt *redis.RingOptions) *redis.Ring {
	c := redis.NewRing(opt)
	conformanceInstall("NewRing", c)
	return c
}

func conformanceNewFailoverClient(opt *redis.FailoverOptions) *redis.Client {
	c := redis.NewFailoverClient(opt)
	conformanceInstall("NewFailoverClient", c)
	return c
}

func conformanceNewFailoverClusterClient(opt *redis.FailoverOptions) *redis.ClusterClient {
	c := redis.NewFailoverClusterClient(opt)
	conformanceInstall("NewFailoverClusterClient", c)
	return c
}

func conformanceNewUniversalClient(opt *redis.UniversalOptions) redis.UniversalClient {
	c := redis.NewUniversalClient(opt)
	conformanceInstall("NewUniversalClient", c)
	return c
}
