package retryable

// Kind says what running a command twice would do.
// The zero value is Unsafe, the kind of every unknown command.
type Kind uint8

const (
	// Unsafe commands change the outcome when run twice (INCR, LPUSH,
	// SET ... NX, EVAL, ...). They are retried only after a failure that
	// proves they did not run.
	Unsafe Kind = iota
	// Idempotent commands leave the same state when run twice as once
	// (SET k v, DEL, HSET, SADD, PEXPIREAT, ...); the second reply may differ.
	Idempotent
	// Read commands have no side effect (GET, MGET, HGETALL, SCAN, ...).
	Read
)

// String returns "unsafe", "idempotent" or "read".
func (k Kind) String() string {
	switch k {
	case Read:
		return "read"
	case Idempotent:
		return "idempotent"
	default:
		return "unsafe"
	}
}

// Info is what the command table knows about one command line.
type Info struct {
	// Kind says whether the command may be run twice.
	Kind Kind
	// Blocking is set for commands that can wait server-side for data
	// (BLPOP, BRPOP, BLMOVE, BZPOPMIN, XREAD/XREADGROUP with BLOCK, WAIT,
	// ...): a timeout on them is expected and never retried.
	Blocking bool
	// Script is set for commands that run server-side code (EVAL, EVALSHA,
	// FCALL and their _RO forms): an error reply may come after part of
	// the script ran, so it does not prove the command was not executed.
	Script bool
}

// Execution says whether a failed command can have run on the server.
type Execution uint8

const (
	// NotExecuted means the server never ran the command: a dial error,
	// a pool timeout, a write that failed before the command was whole,
	// or an error reply (the server refused it). A retry is its first run.
	NotExecuted Execution = iota
	// Ambiguous means the command was written and then the connection
	// failed (EOF, reset, read timeout): it may have run.
	Ambiguous
	// Completed means the command ran and its reply was read (a nil error,
	// redis.Nil, or a reply the client could not decode).
	Completed
)

// String returns "not executed", "ambiguous" or "completed".
func (e Execution) String() string {
	switch e {
	case NotExecuted:
		return "not executed"
	case Ambiguous:
		return "ambiguous"
	default:
		return "completed"
	}
}
