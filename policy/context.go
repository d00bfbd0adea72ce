package policy

import "context"

type noRetryKey struct{}

// NoRetry returns a context under which commands are tried once: the
// policy's breaker, limiter, fallback and log-and-continue still apply, but
// no failure is retried. The engine reads it only after a failure, so it
// costs nothing on the success path.
func NoRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

// retriesDisabled reports whether ctx came from NoRetry.
func retriesDisabled(ctx context.Context) bool {
	v, _ := ctx.Value(noRetryKey{}).(bool)
	return v
}
