package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/failsafe-go/failsafe-go/budget"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/go-retryable/retryable"
)

// contender is one way of calling Redis that the benchmark compares.
type contender struct {
	name  string // in flags, tables and charts
	how   string // how it is configured, for the report (Markdown)
	build func(t target) (*conn, error)
}

// target is what a contender's client connects to.
type target struct {
	Addrs   []string
	Cluster bool
	// dialer, when set, dials every connection (the worker counts dials).
	dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

// options returns universal options for t with each tune applied in turn.
func (t target) options(tune ...func(*redis.UniversalOptions)) *redis.UniversalOptions {
	o := &redis.UniversalOptions{Addrs: t.Addrs, IsClusterMode: t.Cluster, Dialer: t.dialer}
	for _, f := range tune {
		if f != nil {
			f(o)
		}
	}
	return o
}

// conn is a contender's client. run, when set, is the retry library every
// call goes through; otherwise calls go to rdb directly.
type conn struct {
	rdb redis.UniversalClient
	run func(ctx context.Context, call func(context.Context) error) error
}

// do runs call the contender's way.
func (c *conn) do(ctx context.Context, call func(context.Context) error) error {
	if c.run == nil {
		return call(ctx)
	}
	return c.run(ctx, call)
}

// contenderNamed returns the contender called name.
func contenderNamed(name string) (contender, error) {
	for _, c := range contenders {
		if c.name == name {
			return c, nil
		}
	}
	return contender{}, fmt.Errorf("no contender %q (have %s)", name, strings.Join(contenderNames(), ", "))
}

func contenderNames() []string {
	n := make([]string, len(contenders))
	for i, c := range contenders {
		n[i] = c.name
	}
	return n
}

// kind is the outcome of one call, as the report counts it.
type kind uint8

const (
	kindOK          kind = iota // a reply (a miss included)
	kindTimeout                 // a socket read or write deadline
	kindDeadline                // the caller's context deadline
	kindRefused                 // connection refused
	kindConnLost                // EOF, reset, broken pipe: the connection died under the call
	kindCircuitOpen             // a breaker refused
	kindThrottled               // a retry budget refused
	kindReadOnly                // READONLY
	kindLoading                 // LOADING
	kindClusterDown             // CLUSTERDOWN, TRYAGAIN, MASTERDOWN
	kindPoolTimeout             // no connection from the pool in time
	kindOther
	kinds
)

var kindNames = [kinds]string{"ok", "timeout", "deadline", "refused", "conn-lost", "circuit-open",
	"throttled", "readonly", "loading", "clusterdown", "pool-timeout", "other"}

func (k kind) String() string {
	if k < kinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// kindOf names the outcome of a call that returned err.
func kindOf(err error) kind {
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, redis.Nil):
		return kindOK
	case retryable.Classify(err) == retryable.CircuitOpen, errors.Is(err, circuitbreaker.ErrOpen),
		errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return kindCircuitOpen
	case retryable.Classify(err) == retryable.Throttled, errors.Is(err, budget.ErrExceeded):
		return kindThrottled
	case redis.IsReadOnlyError(err):
		return kindReadOnly
	case redis.IsLoadingError(err):
		return kindLoading
	case redis.IsClusterDownError(err), redis.IsTryAgainError(err), redis.IsMasterDownError(err):
		return kindClusterDown
	case errors.Is(err, redis.ErrPoolTimeout):
		return kindPoolTimeout
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kindDeadline
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.As(err, &ne) && ne.Timeout():
		return kindTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return kindConnLost
	}
	return kindOther
}
