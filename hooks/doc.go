// Package hooks runs a retry policy inside go-redis v9 clients: a
// redis.Hook whose ProcessHook and ProcessPipelineHook retry failed
// commands as the policy says, with a circuit breaker per node.
//
// Build clients with [NewClient], [NewClusterClient], [NewFailoverClient],
// [NewRing] or [NewUniversalClient]: they turn go-redis's own retries off
// (so the two loops do not multiply) and its context deadlines on (so a
// deadline-aware policy means something). [Install] adds the policy to a
// client that already exists, and refuses one whose settings would defeat it.
//
// Errors the caller sees are go-redis's own, unchanged: err == redis.Nil and
// err == redis.TxFailedErr keep working. The only new errors are a
// breaker's *breaker.OpenError and a budget's or limiter's
// *breaker.ThrottledError, which wrap their cause.
package hooks
