// Package retryable classifies the errors a go-redis v9 client returns and
// the commands it sends, so that a retry policy can decide what is safe to
// run again.
//
// It is the Go counterpart of redis-py's exception hierarchy: [Classify] maps
// any error to a [Class] (Connection, Timeout, BusyLoading, ...), [Executed]
// tells whether the failed command can have run on the server, and [Lookup]
// tells whether a command is read-only, idempotent or unsafe to repeat.
// The policy engine lives in the policy package and installs on a client
// through the hooks package.
package retryable

// Class is the kind of failure an error represents. The zero value is OK.
//
// Classes form a small hierarchy, as redis-py's exceptions do: Timeout and
// BusyLoading are kinds of Connection, so Timeout.Is(Connection) is true.
type Class uint8

// The classes. Their order is not part of the API.
const (
	// OK is a nil error or redis.Nil: a miss is not a failure.
	OK Class = iota
	// Connection is a network failure: refused, reset, EOF, broken pipe,
	// dial error, pool timeout or exhaustion.
	Connection
	// Timeout is a read or write deadline that the socket hit while the
	// caller's own context was still live. It is a kind of Connection.
	Timeout
	// BusyLoading is the LOADING reply of a server that is loading its
	// dataset. It is a kind of Connection.
	BusyLoading
	// ReadOnly is the READONLY reply of a replica: a failover is under way.
	ReadOnly
	// ClusterDown is CLUSTERDOWN, TRYAGAIN, MASTERDOWN or NOREPLICAS.
	ClusterDown
	// Busy is the BUSY reply of a server that is running a long script.
	Busy
	// Capacity is OOM or the server's max number of clients.
	Capacity
	// Response is every other error reply (WRONGTYPE, ERR ..., NOSCRIPT,
	// EXECABORT, NOAUTH, NOPERM) and redis.TxFailedErr: a bug or a lost
	// race that repeating the command will not fix.
	Response
	// Data is a client-side encoding or decoding failure, and any error
	// that is none of the above: retrying it cannot help.
	Data
	// Canceled is the caller's own context.Canceled or
	// context.DeadlineExceeded.
	Canceled
	// Closed is redis.ErrClosed: the client was closed.
	Closed
	// CircuitOpen is a call refused by this library's circuit breaker.
	CircuitOpen
	// Throttled is a call or retry refused by this library's retry budget
	// or rate limit.
	Throttled

	numClasses
)

// Classes returns every class, in declaration order, in a new slice.
func Classes() []Class {
	cs := make([]Class, numClasses)
	for i := range cs {
		cs[i] = Class(i)
	}
	return cs
}

// Valid reports whether c is one of the classes [Classes] returns.
func (c Class) Valid() bool { return c < numClasses }

type classInfo struct {
	name        string
	parent      Class
	recoverable bool
	counts      bool
	action      string
}

var classTable = [numClasses]classInfo{
	OK:          {"OK", OK, false, false, "none: the command succeeded (a miss is an answer, not a failure)"},
	Connection:  {"Connection", Connection, true, true, "retry with backoff or fall back to an alternative"},
	Timeout:     {"Timeout", Connection, true, true, "retry with backoff"},
	BusyLoading: {"BusyLoading", Connection, true, true, "retry with backoff until the server has loaded its dataset"},
	ReadOnly:    {"ReadOnly", ReadOnly, true, true, "retry with backoff: a failover is under way"},
	ClusterDown: {"ClusterDown", ClusterDown, true, true, "retry with backoff while the cluster recovers"},
	Busy:        {"Busy", Busy, true, true, "retry slowly: a script is running"},
	Capacity:    {"Capacity", Capacity, true, true, "retry slowly and shed load"},
	Response:    {"Response", Response, false, false, "fix the command or its arguments; do not retry"},
	Data:        {"Data", Data, false, false, "log, invalidate cached data, fetch fresh data"},
	Canceled:    {"Canceled", Canceled, false, false, "none: the caller gave up"},
	Closed:      {"Closed", Closed, false, false, "none: the client was closed"},
	CircuitOpen: {"CircuitOpen", CircuitOpen, true, false, "fail fast or fall back; retry after the breaker's open time"},
	Throttled:   {"Throttled", Throttled, true, false, "fail fast or fall back; retry later"},
}

func (c Class) info() classInfo {
	if c >= numClasses {
		return classInfo{name: "Class(?)", parent: c}
	}
	return classTable[c]
}

// String returns the class's name, for example "Timeout".
func (c Class) String() string { return c.info().name }

// Is reports whether c is target or a kind of target:
// Timeout.Is(Connection) and BusyLoading.Is(Connection) are true.
func (c Class) Is(target Class) bool {
	return c == target || (c.info().parent == target && c < numClasses)
}

// Recoverable reports whether a later attempt may succeed where this one
// failed, as the "Recoverable" column of redis-py's table does. OK is not
// recoverable: there is nothing to recover from.
func (c Class) Recoverable() bool { return c.info().recoverable }

// CountsAsFailure reports whether a circuit breaker counts an error of this
// class against the node's health. redis.Nil, Response, Data and the
// caller's own cancellation do not: the node answered, or was never asked.
func (c Class) CountsAsFailure() bool { return c.info().counts }

// Action returns the recommended action for an error of this class, as the
// "Recommended action" column of redis-py's table gives it.
func (c Class) Action() string { return c.info().action }
