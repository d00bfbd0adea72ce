// Package hooks runs a retry policy inside go-redis v9 clients: a
// redis.Hook whose ProcessHook and ProcessPipelineHook retry failed
// commands as the policy says, with a circuit breaker per node.
//
// Build clients with [NewClient], [NewClusterClient], [NewFailoverClient],
// [NewRing] or [NewUniversalClient]: they turn go-redis's own retries off
// (so the two loops do not multiply) and its context deadlines on (so a
// deadline-aware policy means something). [Install] adds the policy to a
// client that already exists, and refuses one whose settings would defeat
// it.
//
// # Errors
//
// Errors the caller sees are go-redis's own, unchanged: err == redis.Nil,
// err == redis.TxFailedErr and err.(net.Error) keep working. A call that
// reached the node returns the node's last error, whatever refused a
// later retry (the breaker, the retry budget, the deadline); a
// *breaker.OpenError (class CircuitOpen) or *breaker.ThrottledError
// (class Throttled) is what a call gets only when none of its attempts
// reached the node. A pipeline refused before its first attempt gives
// every command in it the refusal as its own error.
//
// # What is never run twice
//
// An unsafe command (INCR, LPUSH, XADD *, EVAL, MULTI/EXEC, ...) is retried
// only after a failure that proves it did not run; a plain pipeline only
// when every command in it may be retried, each judged by its own error (a
// write error in a pipeline of several commands is ambiguous: the ones
// before the failing byte may have run). In a ClusterClient, the node
// hooks also keep go-redis's own cluster loops from repeating commands: a
// node's failure is passed up to the policy instead of to go-redis's
// retry, and go-redis's re-send of a batch after a lost reply is refused
// except for MOVED and ASK redirects (node.go documents that contract).
// A call on a dedicated connection (Conn, the Tx of Watch) whose failure
// broke that connection ends with that failure: go-redis refuses the retry
// without sending it, and it costs neither a breaker count nor a budget
// token.
//
// # Breakers
//
// Each node has its breaker, from the policy's [breaker.Group]: the node
// of a plain client, each node of a ClusterClient (nodes found later
// too), each shard of a Ring, and for a Sentinel client the master it is
// connected to, keyed by the master's address, so that after a failover
// the new master is not held back by the old one's open breaker (while
// that breaker refuses calls, a [NewFailoverClient] asks the Sentinels
// which master they name and moves to a new one as soon as they do). A call
// counts once against its node's breaker, at its first attempt. An open
// breaker refuses calls in microseconds and checks the node itself with a
// PING on a connection of its own, then through the client; callers are
// never used as probes.
package hooks
