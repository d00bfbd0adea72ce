// Package retryableotel records the decisions of a retryable policy (retries, recoveries, give-ups, refusals, breaker changes, fallbacks and swallowed errors) as OpenTelemetry metrics.
package retryableotel
