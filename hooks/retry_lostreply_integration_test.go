package hooks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// Real-Redis tests of what the retry loop repeats: a command whose reply
// was lost, and error replies that repeating cannot fix.

// TestIntegrationLostReply loses the reply of a command after the server
// ran it (redistest.Proxy): unsafe commands, pipelines and transactions
// are not repeated, reads and idempotent writes are. The server's
// counters say how many times each command ran.
func TestIntegrationLostReply(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	px := redistest.NewProxy(t, s.Addr())
	var rec policytest.Recorder
	c := itClient(t, itOptions(px.Addr()), itPolicy(t, policy.Observe(rec.Observe)))
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("warm-up SET: %v", err)
	}

	counter := func(t *testing.T, key string) string {
		t.Helper()
		v, _ := s.Do(t, "GET", key).(string)
		return v
	}
	// lose arms the proxy, runs fn and checks that exactly one reply was
	// swallowed, returning the server's command counts before and after.
	type counts map[string]int64
	lose := func(t *testing.T, names []string, fn func() error) (delta counts, err error) {
		t.Helper()
		before := counts{}
		for _, n := range names {
			before[n] = s.CommandStat(t, n).Calls
		}
		drops := px.Drops()
		px.DropNextReply()
		err = fn()
		if got := px.Drops() - drops; got != 1 {
			t.Fatalf("the proxy swallowed %d replies, want 1", got)
		}
		delta = counts{}
		for _, n := range names {
			delta[n] = s.CommandStat(t, n).Calls - before[n]
		}
		return delta, err
	}
	notRetried := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("the call succeeded although its reply was lost and it must not be repeated")
		}
		if cl := retryable.Classify(err); !cl.Is(retryable.Connection) || itRefusal(err) {
			t.Errorf("error %v (class %v); want go-redis's own Connection-class error", err, cl)
		}
	}

	t.Run("INCR is not retried", func(t *testing.T) {
		d, err := lose(t, []string{"incr"}, func() error { return c.Incr(ctx, "ctr:incr").Err() })
		notRetried(t, err)
		if d["incr"] != 1 || counter(t, "ctr:incr") != "1" {
			t.Errorf("the server ran INCR %d times and the counter is %q; want 1 and \"1\"", d["incr"], counter(t, "ctr:incr"))
		}
	})
	t.Run("SET k v is retried", func(t *testing.T) {
		d, err := lose(t, []string{"set"}, func() error { return c.Set(ctx, "k", "v2", 0).Err() })
		if err != nil {
			t.Fatalf("SET: %v", err)
		}
		if d["set"] != 2 {
			t.Errorf("the server ran SET %d times; want 2 (the lost run and the retry)", d["set"])
		}
	})
	t.Run("GET is retried", func(t *testing.T) {
		var v string
		d, err := lose(t, []string{"get"}, func() (err error) {
			v, err = c.Get(ctx, "k").Result()
			return err
		})
		if err != nil || v != "v2" {
			t.Fatalf("GET = %q, %v; want \"v2\"", v, err)
		}
		if d["get"] != 2 {
			t.Errorf("the server ran GET %d times; want 2", d["get"])
		}
	})
	t.Run("pipeline with INCR is not retried", func(t *testing.T) {
		d, err := lose(t, []string{"incr", "get"}, func() error {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "ctr:pipe")
				p.Get(ctx, "k")
				return nil
			})
			return err
		})
		notRetried(t, err)
		if d["incr"] != 1 || d["get"] != 1 || counter(t, "ctr:pipe") != "1" {
			t.Errorf("the server ran INCR %d and GET %d times, counter %q; want 1, 1, \"1\"", d["incr"], d["get"], counter(t, "ctr:pipe"))
		}
	})
	t.Run("pipeline of GET and SET is retried", func(t *testing.T) {
		var get *redis.StringCmd
		d, err := lose(t, []string{"set", "get"}, func() error {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "k2", "w", 0)
				get = p.Get(ctx, "k")
				return nil
			})
			return err
		})
		if err != nil || get.Val() != "v2" {
			t.Fatalf("pipeline: %v, GET = %q; want success and \"v2\"", err, get.Val())
		}
		if d["set"] != 2 || d["get"] != 2 {
			t.Errorf("the server ran SET %d and GET %d times; want 2 and 2", d["set"], d["get"])
		}
	})
	t.Run("MULTI INCR EXEC is not retried", func(t *testing.T) {
		d, err := lose(t, []string{"incr", "exec"}, func() error {
			_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "ctr:tx")
				return nil
			})
			return err
		})
		notRetried(t, err)
		if d["exec"] != 1 || d["incr"] != 1 || counter(t, "ctr:tx") != "1" {
			t.Errorf("the server ran EXEC %d and INCR %d times, counter %q; want 1, 1, \"1\"", d["exec"], d["incr"], counter(t, "ctr:tx"))
		}
	})
	if n := rec.Count(policy.RetryScheduled, "", retryable.Connection); n != 3 {
		t.Errorf("%d retries scheduled; want 3 (SET, GET, the GET/SET pipeline): %s", n, rec.Summary())
	}

	// go-redis's own loop (MaxRetries 3 by default) repeats an INCR whose
	// reply was lost. This documents it; it is not this library's behaviour.
	t.Run("bare go-redis", func(t *testing.T) {
		bare := redis.NewClient(&redis.Options{Addr: px.Addr()})
		defer bare.Close()
		if err := bare.Ping(ctx).Err(); err != nil {
			t.Fatalf("bare PING: %v", err)
		}
		d, _ := lose(t, []string{"incr"}, func() error { return bare.Incr(ctx, "ctr:bare").Err() })
		n := counter(t, "ctr:bare")
		if n == "2" {
			t.Logf("bare go-redis client (MaxRetries 3): one INCR call after a lost reply ran %d times; the counter is %s", d["incr"], n)
		} else {
			t.Logf("bare go-redis client did NOT run INCR twice after a lost reply: ran %d times, counter %q", d["incr"], n)
		}
		if d["incr"] < 1 {
			t.Errorf("the bare INCR never reached the server")
		}
	})
}

// TestIntegrationResponseErrorsNotRetried sends commands that fail with an
// error reply that is not recoverable: exactly one attempt reaches the
// server, even with a RetryIf that asks for every failure to be retried.
func TestIntegrationResponseErrorsNotRetried(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	var rec policytest.Recorder
	c := itClient(t, itOptions(s.Addr()), itPolicy(t, policy.Observe(rec.Observe),
		policy.RetryIf(func(policy.Failure) bool { return true })))
	ctx := context.Background()
	if err := c.Set(ctx, "str", "text", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	tests := []struct {
		name    string
		cmd     string // commandstats name, "" when the server has none
		errCode string
		call    func() error
	}{
		{"WRONGTYPE", "lpush", "WRONGTYPE", func() error { return c.LPush(ctx, "str", "x").Err() }},
		{"not an integer", "incr", "ERR", func() error { return c.Incr(ctx, "str").Err() }},
		{"NOSCRIPT", "evalsha", "NOSCRIPT", func() error {
			return c.EvalSha(ctx, strings.Repeat("0", 40), nil).Err()
		}},
		{"wrong number of arguments", "get", "ERR", func() error { return c.Do(ctx, "GET").Err() }},
		{"unknown command", "", "ERR", func() error { return c.Do(ctx, "NOSUCHCOMMAND", "x").Err() }},
		{"EXECABORT", "exec", "EXECABORT", func() error {
			_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Do(ctx, "GET") // arity error while queuing
				return nil
			})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before redistest.CommandStat
			if tt.cmd != "" {
				before = s.CommandStat(t, tt.cmd)
			}
			errsBefore := s.ErrorStat(t, tt.errCode)
			eventsBefore := len(rec.Events())
			err := tt.call()
			if err == nil {
				t.Fatal("the command succeeded")
			}
			if cl := retryable.Classify(err); cl != retryable.Response {
				t.Errorf("error %v has class %v; want Response", err, cl)
			}
			if tt.cmd != "" {
				after := s.CommandStat(t, tt.cmd)
				if got := after.Reached() - before.Reached(); got != 1 {
					t.Errorf("%s reached the server %d times (calls %d->%d, rejected %d->%d); want 1",
						tt.cmd, got, before.Calls, after.Calls, before.Rejected, after.Rejected)
				}
			}
			if got := s.ErrorStat(t, tt.errCode) - errsBefore; got != 1 {
				t.Errorf("errorstat_%s grew by %d; want 1", tt.errCode, got)
			}
			for _, e := range rec.Events()[eventsBefore:] {
				if e.Kind == policy.RetryScheduled {
					t.Errorf("a retry was scheduled for %s (%v)", e.Command, e.Err)
				}
			}
		})
	}
}
