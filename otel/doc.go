// Package retryableotel records the decisions of a retryable policy (retries, give-ups, refusals, breaker changes, fallbacks and swallowed errors) as OpenTelemetry metrics.
package retryableotel
