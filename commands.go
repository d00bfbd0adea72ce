package retryable

import (
	"maps"
	"slices"
	"strings"
)

// The command table answers one question: may this command line run twice?
//
// Read commands have no side effect. Idempotent commands leave the same state
// when run twice as once; the second reply may differ (DEL answers 0, SADD
// answers 0, XADD with an explicit ID answers an error). Everything else is
// Unsafe, and so is every command the table does not know.
//
// Two judgement calls recur and are applied the same way everywhere:
//
//   - Conditional writes are Unsafe even where the state would come out the
//     same: SET ... NX|XX|GET, SETNX, HSETNX, MSETNX, RENAMENX, COPY and
//     RESTORE without REPLACE, DELEX with a condition, and commands whose
//     second run fails where the first succeeded (RENAME, FUNCTION LOAD
//     without REPLACE, XGROUP CREATE, CLUSTER ADDSLOTS, MODULE LOAD, ...).
//     Their reply is the point of the call (SET NX acquires a lock): a retry
//     would report "someone else won" or an error for a call that won. The
//     one exception is XADD with an explicit ID, which the design names
//     idempotent: an explicit ID is how a producer deduplicates, and the
//     "ID is equal or smaller" error on a repeat is that deduplication.
//   - Relative expirations on their own are Unsafe (EXPIRE, PEXPIRE, GETEX
//     EX|PX, HEXPIRE, CLIENT PAUSE): a late retry pushes the deadline of
//     data that already existed further than the caller asked, which breaks
//     rate-limit windows and leases. A write that sets the value and its
//     relative TTL together (SET k v EX 10, SETEX, PSETEX, HSETEX) is
//     Idempotent: the retry recreates exactly what a first run at that
//     moment would have. SET ... KEEPTTL is Idempotent too: it keeps
//     whatever TTL the key had, so a second run changes nothing.
//
// A command that stores a result computed from other keys (SUNIONSTORE,
// ZINTERSTORE, BITOP, SORT ... STORE, GEORADIUS ... STORE, ...) is Idempotent
// only when its destination is not one of its sources, checked on the
// arguments: ZUNIONSTORE d d k would add the scores of d to themselves again.
// Keys that are not strings or []byte cannot be compared and count as equal.

// maxKey bounds the lowercase lookup key "container|subcommand": the longest
// in the table is "cluster|count-failure-reports" (29 bytes). Names longer
// than this are unknown, so the buffer never grows onto the heap.
const maxKey = 48

// entry is what the table holds for one command name.
type entry struct {
	// info is the answer when decide is nil; for a container it is the
	// answer for the bare container name (only COMMAND is valid bare).
	info Info
	// decide, when set, reads the arguments; args[0] is the command name
	// (for a subcommand, args[0] is the container and args[1] the
	// subcommand).
	decide func(args []any) Info
	// container is set for commands such as CLIENT or CONFIG, whose
	// second argument names a subcommand; the subcommand is looked up as
	// "container|sub", the notation Redis's own COMMAND reply uses.
	container bool
}

// commands is the table, keyed by lowercase name. It is built once and never
// written afterwards, so concurrent reads need no lock.
var commands = newTable()

// Lookup returns what the command table knows about the command line args,
// where args[0] is the command name, as go-redis's Cmder.Args() gives it.
//
// The name (and a container's subcommand, as in CONFIG GET) is matched
// without regard to ASCII case and may be a string or a []byte; keyword
// arguments (NX, EX, INCR, STORE, BLOCK, ...) are matched the same way.
// An empty args, a name of any other type, and an unknown command give the
// zero Info: Unsafe, not blocking, not a script. Where the arguments decide
// the kind (SET ... NX, XADD k * ..., ZADD ... INCR, GETEX ... EX,
// LTRIM k 0 99, SUNIONSTORE d a b, ...) Lookup reads them; it never panics
// on malformed arguments, and treats what it cannot understand as Unsafe.
//
// Lookup does not allocate and is safe for concurrent use.
func Lookup(args []any) Info {
	if len(args) == 0 {
		return Info{}
	}
	var e entry
	var ok bool
	if s, isString := args[0].(string); isString && isLower(s) {
		e, ok = commands[s] // what go-redis sends: no copy needed
	} else {
		var buf [maxKey]byte
		var key []byte
		if key, ok = appendLower(buf[:0], args[0]); ok {
			e, ok = commands[string(key)]
		}
	}
	if !ok {
		return Info{}
	}
	if e.container && len(args) > 1 {
		if e, ok = subcommand(args[0], args[1]); !ok {
			return Info{}
		}
	}
	if e.decide != nil {
		return e.decide(args)
	}
	return e.info
}

// subcommand looks up "container|sub".
func subcommand(container, sub any) (entry, bool) {
	var buf [maxKey]byte
	key, ok := appendLower(buf[:0], container)
	if !ok || len(key) == len(buf) {
		return entry{}, false
	}
	if key, ok = appendLower(append(key, '|'), sub); !ok {
		return entry{}, false
	}
	e, ok := commands[string(key)]
	return e, ok
}

// KindOf returns Lookup(args).Kind: Read, Idempotent or Unsafe.
// It does not allocate and is safe for concurrent use.
func KindOf(args []any) Kind { return Lookup(args).Kind }

// Known reports whether the command table knows name (case-insensitive),
// either as a command or as a container of subcommands ("config", or
// "config|get"). A name it does not know is a typo or a module's command.
// It is safe for concurrent use.
func Known(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	if _, ok := commands[name]; ok {
		return true
	}
	_, ok := containers[name]
	return ok
}

// containers are the names of commands with subcommands.
var containers = func() map[string]struct{} {
	m := make(map[string]struct{})
	for n := range commands {
		if c, _, ok := strings.Cut(n, "|"); ok {
			m[c] = struct{}{}
		}
	}
	return m
}()

// Names returns every name the command table holds, lowercase and sorted.
// Subcommands of containers appear as "container|sub" (for example
// "config|get"), the notation of Redis's COMMAND reply; the containers
// themselves appear too. It allocates a new slice on every call and is
// meant for tests and documentation.
func Names() []string { return slices.Sorted(maps.Keys(commands)) }

// isLower reports whether s has no ASCII upper-case letter.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return false
		}
	}
	return true
}

// appendLower appends the ASCII-lowercase form of a, a string or []byte, to
// dst. It reports false for any other type, or when the result would not
// fit in cap(dst), so that the append never allocates.
func appendLower(dst []byte, a any) ([]byte, bool) {
	switch v := a.(type) {
	case string:
		return lowerInto(dst, v)
	case []byte:
		return lowerInto(dst, v)
	}
	return dst, false
}

func lowerInto[T string | []byte](dst []byte, s T) ([]byte, bool) {
	if len(dst)+len(s) > cap(dst) {
		return dst, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, true
}

// word reports whether a is the keyword w (lowercase ASCII), ignoring ASCII
// case, as Redis does. Arguments of other types are never keywords.
func word(a any, w string) bool {
	switch v := a.(type) {
	case string:
		return foldEqual(v, w)
	case []byte:
		return foldEqual(v, w)
	}
	return false
}

func foldEqual[T string | []byte](s T, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// arg returns args[i], or nil when i is out of range.
func arg(args []any, i int) any {
	if i < 0 || i >= len(args) {
		return nil
	}
	return args[i]
}

// sameKey reports whether a and b may name the same key. Strings and byte
// slices are compared exactly (key names are case-sensitive); anything
// else may be formatted to anything, so it may be equal.
func sameKey(a, b any) bool {
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return x == y
		case []byte:
			return x == string(y)
		}
	case []byte:
		switch y := b.(type) {
		case string:
			return string(x) == y
		case []byte:
			return string(x) == string(y)
		}
	}
	return true
}

// intArg returns the integer value of a: a Go integer, or a string or
// []byte of decimal digits with an optional sign, as Redis parses them.
func intArg(a any) (int64, bool) {
	switch v := a.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint:
		return int64(v), v <= 1<<63-1
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		return int64(v), v <= 1<<63-1
	case string:
		return parseInt(v)
	case []byte:
		return parseInt(v)
	}
	return 0, false
}

func parseInt[T string | []byte](s T) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg || len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 { // 18 digits cannot overflow int64
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// Answers the decide functions return.
func unsafeInfo() Info     { return Info{} }
func idempotentInfo() Info { return Info{Kind: Idempotent} }
func readInfo() Info       { return Info{Kind: Read} }

// setInfo decides SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL].
func setInfo(args []any) Info {
	for i := 3; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "ex"), word(a, "px"), word(a, "exat"), word(a, "pxat"):
			i++ // the time
		case word(a, "keepttl"):
		default: // NX, XX, GET, and what this table does not know
			return unsafeInfo()
		}
	}
	return idempotentInfo()
}

// msetexInfo decides MSETEX numkeys key value ... [NX|XX] [EX|PX|EXAT|PXAT|KEEPTTL]
// (Redis 8.4) as SET.
func msetexInfo(args []any) Info {
	n, ok := intArg(arg(args, 1))
	if !ok || n < 0 || n > int64(len(args)) {
		return unsafeInfo()
	}
	for i := 2 + 2*int(n); i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "ex"), word(a, "px"), word(a, "exat"), word(a, "pxat"):
			i++
		case word(a, "keepttl"):
		default:
			return unsafeInfo()
		}
	}
	return idempotentInfo()
}

// getexInfo decides GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST], and HGETEX
// key [same options] FIELDS n field ... (Redis 8.0), whose options end at
// FIELDS. Without options they only read.
func getexInfo(args []any) Info {
	info := readInfo()
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "exat"), word(a, "pxat"):
			info = idempotentInfo()
			i++
		case word(a, "persist"):
			info = idempotentInfo()
		case word(a, "fields") && word(args[0], "hgetex"):
			return info
		default: // EX, PX: relative; and the unknown
			return unsafeInfo()
		}
	}
	return info
}

// hsetexInfo decides HSETEX key [FNX|FXX] [EX|PX|EXAT|PXAT|KEEPTTL] FIELDS n
// field value ... (Redis 8.0) as SET: it writes the values with the TTL.
func hsetexInfo(args []any) Info {
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "ex"), word(a, "px"), word(a, "exat"), word(a, "pxat"):
			i++
		case word(a, "keepttl"):
		case word(a, "fields"):
			return idempotentInfo()
		default: // FNX, FXX: conditional
			return unsafeInfo()
		}
	}
	return idempotentInfo()
}

// delexInfo decides DELEX key [IFEQ v|IFNE v|IFDEQ d|IFDNE d] (Redis 8.4):
// DEL without a condition, a conditional write with one.
func delexInfo(args []any) Info {
	if len(args) > 2 {
		return unsafeInfo()
	}
	return idempotentInfo()
}

// bitfieldInfo decides BITFIELD key [GET t o] [SET t o v] [INCRBY t o n]
// [OVERFLOW WRAP|SAT|FAIL] ...: INCRBY is Unsafe, SET Idempotent, GET alone
// Read.
func bitfieldInfo(args []any) Info {
	info := readInfo()
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "get"):
			i += 2
		case word(a, "set"):
			info = idempotentInfo()
			i += 3
		case word(a, "overflow"):
			i++
		default: // INCRBY and the unknown
			return unsafeInfo()
		}
	}
	return info
}

// zaddInfo decides ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...:
// only INCR adds to what is there.
func zaddInfo(args []any) Info {
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "incr"):
			return unsafeInfo()
		case word(a, "nx"), word(a, "xx"), word(a, "gt"), word(a, "lt"), word(a, "ch"):
		default: // the first score: options are over
			return idempotentInfo()
		}
	}
	return idempotentInfo()
}

// xaddInfo decides XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED]
// [IDMP pid iid|IDMPAUTO pid] [MAXLEN|MINID [=|~] threshold [LIMIT n]]
// id|* field value ...: an explicit ID, or server-side deduplication with
// IDMP/IDMPAUTO, makes a repeat add nothing; * and ms-* generate a new ID.
func xaddInfo(args []any) Info {
	dedup := false
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "nomkstream"), word(a, "keepref"), word(a, "delref"), word(a, "acked"):
		case word(a, "maxlen"), word(a, "minid"):
			if word(arg(args, i+1), "~") || word(arg(args, i+1), "=") {
				i++
			}
			i++ // the threshold
		case word(a, "limit"):
			i++
		case word(a, "idmpauto"):
			dedup = true
			i++
		case word(a, "idmp"):
			dedup = true
			i += 2
		default: // the ID
			if dedup || explicitID(a) {
				return idempotentInfo()
			}
			return unsafeInfo()
		}
	}
	return unsafeInfo()
}

// explicitID reports whether a is a stream ID with no '*' part to generate.
func explicitID(a any) bool {
	switch v := a.(type) {
	case string:
		return len(v) > 0 && !hasStar(v)
	case []byte:
		return len(v) > 0 && !hasStar(v)
	}
	_, ok := intArg(a)
	return ok
}

func hasStar[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' {
			return true
		}
	}
	return false
}

// xtrimInfo decides XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n]
// [KEEPREF|DELREF|ACKED]. Exact trimming twice trims once. A LIMIT, or the
// approximate ~ (which implies a default LIMIT), may stop short of the
// threshold, so a second run can trim more.
func xtrimInfo(args []any) Info {
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "maxlen"), word(a, "minid"):
			if word(arg(args, i+1), "~") {
				return unsafeInfo()
			}
			if word(arg(args, i+1), "=") {
				i++
			}
			i++
		case word(a, "keepref"), word(a, "delref"), word(a, "acked"):
		default: // LIMIT and the unknown
			return unsafeInfo()
		}
	}
	return idempotentInfo()
}

// readBlock reports whether XREAD / XREADGROUP options, which end at
// STREAMS, include BLOCK.
func readBlock(args []any) bool {
	for _, a := range args[1:] {
		if word(a, "streams") {
			return false
		}
		if word(a, "block") {
			return true
		}
	}
	return false
}

// xreadInfo decides XREAD [COUNT n] [BLOCK ms] STREAMS key ... id ...
func xreadInfo(args []any) Info {
	return Info{Kind: Read, Blocking: readBlock(args)}
}

// xreadgroupInfo decides XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK]
// STREAMS ...: it moves the group's last-delivered ID and fills the pending
// entries list, so a repeat delivers other entries.
func xreadgroupInfo(args []any) Info {
	return Info{Kind: Unsafe, Blocking: readBlock(args)}
}

// storeInto returns Idempotent when dst is none of srcs, else Unsafe.
func storeInto(dst any, srcs []any) Info {
	if dst == nil {
		return unsafeInfo()
	}
	for _, s := range srcs {
		if sameKey(dst, s) {
			return unsafeInfo()
		}
	}
	return idempotentInfo()
}

// destFirstInfo decides SINTERSTORE/SUNIONSTORE/SDIFFSTORE dest key ...
func destFirstInfo(args []any) Info {
	if len(args) < 3 {
		return unsafeInfo()
	}
	return storeInto(args[1], args[2:])
}

// destOneSourceInfo decides ZRANGESTORE and GEOSEARCHSTORE dest src ...
func destOneSourceInfo(args []any) Info {
	if len(args) < 3 {
		return unsafeInfo()
	}
	return storeInto(args[1], args[2:3])
}

// bitopInfo decides BITOP op dest key ...
func bitopInfo(args []any) Info {
	if len(args) < 4 {
		return unsafeInfo()
	}
	return storeInto(args[2], args[3:])
}

// zstoreInfo decides ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE dest numkeys key ...
// [WEIGHTS ...] [AGGREGATE ...].
func zstoreInfo(args []any) Info {
	n, ok := intArg(arg(args, 2))
	if !ok || n < 1 || n > int64(len(args)-3) {
		return unsafeInfo()
	}
	return storeInto(args[1], args[3:3+n])
}

// sortInfo decides SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC]
// [ALPHA] [STORE dest]: Read without STORE. Sorting is idempotent, but a
// SORT ... GET that stores into its own source would look up different
// keys the second time. Keys named by the BY and GET patterns are not
// checked against the destination.
func sortInfo(args []any) Info {
	var dst any
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "by"), word(a, "get"):
			i++
		case word(a, "limit"):
			i += 2
		case word(a, "asc"), word(a, "desc"), word(a, "alpha"):
		case word(a, "store"):
			if dst = arg(args, i+1); dst == nil {
				return unsafeInfo()
			}
			i++
		default:
			return unsafeInfo()
		}
	}
	if dst == nil {
		return readInfo()
	}
	return storeInto(dst, args[1:2])
}

// georadiusInfo decides GEORADIUS key lon lat r unit [options]
// [STORE k] [STOREDIST k] and GEORADIUSBYMEMBER key member r unit ...:
// Read without a STORE.
func georadiusInfo(args []any) Info {
	first := 6 // after GEORADIUS key lon lat radius unit
	if word(args[0], "georadiusbymember") {
		first = 5
	}
	stored := false
	for i := first; i < len(args); i++ {
		switch a := args[i]; {
		case word(a, "withcoord"), word(a, "withdist"), word(a, "withhash"),
			word(a, "any"), word(a, "asc"), word(a, "desc"):
		case word(a, "count"):
			i++
		case word(a, "store"), word(a, "storedist"):
			if storeInto(arg(args, i+1), args[1:2]).Kind == Unsafe {
				return unsafeInfo()
			}
			stored = true
			i++
		default:
			return unsafeInfo()
		}
	}
	if !stored {
		return readInfo()
	}
	return idempotentInfo()
}

// lremInfo decides LREM key count element: count 0 removes every
// occurrence, so a repeat removes nothing; any other count removes up to
// that many, and a repeat removes more.
func lremInfo(args []any) Info {
	if n, ok := intArg(arg(args, 2)); ok && n == 0 {
		return idempotentInfo()
	}
	return unsafeInfo()
}

// ltrimInfo decides LTRIM key start stop: keeping a prefix (0..n) or a
// suffix (-n..-1) keeps the same elements when repeated (LPUSH + LTRIM 0 99
// is the capped-list idiom); any other range trims again.
func ltrimInfo(args []any) Info {
	start, ok1 := intArg(arg(args, 2))
	stop, ok2 := intArg(arg(args, 3))
	if ok1 && ok2 && (start == 0 && stop >= -1 || start < 0 && stop == -1) {
		return idempotentInfo()
	}
	return unsafeInfo()
}

// replaceInfo decides commands that fail or do nothing on an existing
// destination unless REPLACE is given: COPY, RESTORE, RESTORE-ASKING.
func replaceInfo(args []any) Info {
	for _, a := range args[1:] {
		if word(a, "replace") {
			return idempotentInfo()
		}
	}
	return unsafeInfo()
}

// functionLoadInfo decides FUNCTION LOAD [REPLACE] code: without REPLACE a
// repeat fails with "Library already exists".
func functionLoadInfo(args []any) Info {
	if word(arg(args, 2), "replace") {
		return idempotentInfo()
	}
	return unsafeInfo()
}

// functionRestoreInfo decides FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]:
// APPEND, the default, fails on a repeat.
func functionRestoreInfo(args []any) Info {
	if p := arg(args, 3); word(p, "flush") || word(p, "replace") {
		return idempotentInfo()
	}
	return unsafeInfo()
}

// aclLogInfo decides ACL LOG [count|RESET].
func aclLogInfo(args []any) Info {
	if word(arg(args, 2), "reset") {
		return idempotentInfo()
	}
	return readInfo()
}

// debugInfo decides DEBUG subcommand ...: a few subcommands only report;
// the rest (SLEEP, RELOAD, SET-ACTIVE-EXPIRE, SEGFAULT, ...) act.
func debugInfo(args []any) Info {
	switch s := arg(args, 1); {
	case word(s, "object"), word(s, "digest"), word(s, "digest-value"),
		word(s, "help"), word(s, "protocol"), word(s, "listpack"),
		word(s, "quicklist"), word(s, "stringmatch-len"):
		return readInfo()
	}
	return unsafeInfo()
}

func newTable() map[string]entry {
	var (
		r  = entry{info: Info{Kind: Read}}
		i  = entry{info: Info{Kind: Idempotent}}
		u  = entry{info: Info{Kind: Unsafe}}
		c  = entry{container: true}                                     // a container: its subcommands decide
		rb = entry{info: Info{Kind: Read, Blocking: true}}              // waits, changes nothing
		ub = entry{info: Info{Kind: Unsafe, Blocking: true}}            // waits, then pops
		us = entry{info: Info{Kind: Unsafe, Script: true}}              // runs server-side code
		rs = entry{info: Info{Kind: Read, Script: true}}                // runs read-only server-side code
		d  = func(f func([]any) Info) entry { return entry{decide: f} } // the arguments decide
	)
	return map[string]entry{
		// Strings.
		"get":         r,
		"mget":        r,
		"getrange":    r,
		"substr":      r,
		"strlen":      r,
		"getbit":      r,
		"bitcount":    r,
		"bitpos":      r,
		"bitfield_ro": r,
		"lcs":         r,
		"digest":      r, // Redis 8.4
		"set":         d(setInfo),
		"setex":       i, // value and relative TTL together: see the note at the top
		"psetex":      i,
		"mset":        i,
		"msetex":      d(msetexInfo),
		"setrange":    i,
		"setbit":      i,
		"setnx":       u, // conditional, as SET NX
		"msetnx":      u,
		"getex":       d(getexInfo),
		"getset":      u, // answers the old value: a repeat answers the new one
		"getdel":      u, // a repeat answers nil: the value is lost to the caller
		"delex":       d(delexInfo),
		"append":      u,
		"incr":        u,
		"incrby":      u,
		"incrbyfloat": u,
		"increx":      u,
		"decr":        u,
		"decrby":      u,
		"bitfield":    d(bitfieldInfo),
		"bitop":       d(bitopInfo),

		// Keys.
		"exists":         r,
		"touch":          r, // only updates access times, as the server's readonly flag says
		"type":           r,
		"ttl":            r,
		"pttl":           r,
		"expiretime":     r,
		"pexpiretime":    r,
		"keys":           r,
		"scan":           r,
		"randomkey":      r,
		"dump":           r,
		"object":         c,
		"del":            i,
		"unlink":         i,
		"expire":         u, // relative: see the note at the top
		"pexpire":        u,
		"expireat":       i,
		"pexpireat":      i,
		"persist":        i,
		"rename":         u, // a repeat fails: no such key
		"renamenx":       u,
		"move":           u,
		"migrate":        u,
		"copy":           d(replaceInfo),
		"restore":        d(replaceInfo),
		"restore-asking": d(replaceInfo),
		"sort":           d(sortInfo),
		"sort_ro":        r,

		// Lists.
		"lindex":     r,
		"llen":       r,
		"lrange":     r,
		"lpos":       r,
		"lset":       i,
		"lpush":      u,
		"rpush":      u,
		"lpushx":     u,
		"rpushx":     u,
		"linsert":    u,
		"lpop":       u,
		"rpop":       u,
		"lmpop":      u,
		"lmove":      u,
		"rpoplpush":  u,
		"lrem":       d(lremInfo),
		"ltrim":      d(ltrimInfo),
		"blpop":      ub,
		"brpop":      ub,
		"blmpop":     ub,
		"blmove":     ub,
		"brpoplpush": ub,

		// Hashes.
		"hget":         r,
		"hmget":        r,
		"hgetall":      r,
		"hexists":      r,
		"hkeys":        r,
		"hvals":        r,
		"hlen":         r,
		"hstrlen":      r,
		"hrandfield":   r,
		"hscan":        r,
		"httl":         r, // Redis 7.4 field expiration
		"hpttl":        r,
		"hexpiretime":  r,
		"hpexpiretime": r,
		"hset":         i,
		"hmset":        i,
		"hdel":         i,
		"hexpireat":    i,
		"hpexpireat":   i,
		"hpersist":     i,
		"hexpire":      u,
		"hpexpire":     u,
		"hsetnx":       u, // conditional, as SET NX
		"hincrby":      u,
		"hincrbyfloat": u,
		"hgetdel":      u, // Redis 8.0; as GETDEL
		"hgetex":       d(getexInfo),
		"hsetex":       d(hsetexInfo),

		// Sets.
		"smembers":    r,
		"sismember":   r,
		"smismember":  r,
		"scard":       r,
		"srandmember": r,
		"sscan":       r,
		"sinter":      r,
		"sunion":      r,
		"sdiff":       r,
		"sintercard":  r,
		"sadd":        i,
		"srem":        i,
		"sinterstore": d(destFirstInfo),
		"sunionstore": d(destFirstInfo),
		"sdiffstore":  d(destFirstInfo),
		"spop":        u,
		"smove":       u, // a repeat answers 0: the caller cannot tell it moved

		// Sorted sets.
		"zcard":            r,
		"zcount":           r,
		"zlexcount":        r,
		"zscore":           r,
		"zmscore":          r,
		"zrank":            r,
		"zrevrank":         r,
		"zrange":           r,
		"zrangebyscore":    r,
		"zrangebylex":      r,
		"zrevrange":        r,
		"zrevrangebyscore": r,
		"zrevrangebylex":   r,
		"zrandmember":      r,
		"zscan":            r,
		"zdiff":            r,
		"zinter":           r,
		"zunion":           r,
		"zintercard":       r,
		"zadd":             d(zaddInfo),
		"zrem":             i,
		"zremrangebyscore": i,
		"zremrangebylex":   i,
		"zremrangebyrank":  u, // ranks shift: a repeat removes the next ones
		"zincrby":          u,
		"zpopmin":          u,
		"zpopmax":          u,
		"zmpop":            u,
		"zunionstore":      d(zstoreInfo),
		"zinterstore":      d(zstoreInfo),
		"zdiffstore":       d(zstoreInfo),
		"zrangestore":      d(destOneSourceInfo),
		"bzpopmin":         ub,
		"bzpopmax":         ub,
		"bzmpop":           ub,

		// HyperLogLog.
		"pfcount":    r, // may refresh a cached cardinality; the server flags it readonly
		"pfselftest": r,
		"pfadd":      i,
		"pfmerge":    i, // a union: merging again, even into a source, adds nothing
		"pfdebug":    u,

		// Geo.
		"geopos":               r,
		"geodist":              r,
		"geohash":              r,
		"geosearch":            r,
		"georadius_ro":         r,
		"georadiusbymember_ro": r,
		"geoadd":               i, // as ZADD without INCR
		"georadius":            d(georadiusInfo),
		"georadiusbymember":    d(georadiusInfo),
		"geosearchstore":       d(destOneSourceInfo),

		// Streams.
		"xlen":       r,
		"xrange":     r,
		"xrevrange":  r,
		"xpending":   r,
		"xinfo":      c,
		"xread":      d(xreadInfo),
		"xreadgroup": d(xreadgroupInfo),
		"xadd":       d(xaddInfo),
		"xtrim":      d(xtrimInfo),
		"xack":       i,
		"xdel":       i,
		"xackdel":    i, // Redis 8.2
		"xdelex":     i,
		"xsetid":     i,
		"xclaim":     u, // resets idle times and bumps delivery counters
		"xautoclaim": u,
		"xgroup":     c,

		// Vector sets (Redis 8.0).
		"vcard":       r,
		"vdim":        r,
		"vemb":        r,
		"vgetattr":    r,
		"vinfo":       r,
		"vismember":   r,
		"vlinks":      r,
		"vrandmember": r,
		"vsim":        r,
		"vadd":        i,
		"vrem":        i,
		"vsetattr":    i,

		// Scripting: an error reply may come after part of the script ran.
		"eval":       us,
		"evalsha":    us,
		"fcall":      us,
		"eval_ro":    rs,
		"evalsha_ro": rs,
		"fcall_ro":   rs,
		"script":     c,
		"function":   c,

		// Transactions: retried only as a whole, by the pipeline logic.
		"multi":   u,
		"exec":    u,
		"discard": u,
		"watch":   u,
		"unwatch": i,

		// Pub/Sub: a repeat delivers again, or changes the subscriptions.
		"publish":      u,
		"spublish":     u,
		"subscribe":    u,
		"psubscribe":   u,
		"ssubscribe":   u,
		"unsubscribe":  u,
		"punsubscribe": u,
		"sunsubscribe": u,
		"pubsub":       c,

		// Connection. go-redis sends HELLO, AUTH, SELECT and CLIENT SETNAME /
		// SETINFO on every new connection: they set the same state again.
		"ping":      r,
		"echo":      r,
		"hello":     i,
		"auth":      i,
		"select":    i,
		"reset":     i,
		"quit":      i,
		"readonly":  i,
		"readwrite": i,
		"asking":    i,
		"client":    c,

		// Server.
		"time":         r,
		"info":         r,
		"dbsize":       r,
		"lastsave":     r,
		"role":         r,
		"lolwut":       r,
		"command":      {info: Info{Kind: Read}, container: true}, // COMMAND alone lists every command
		"wait":         rb,
		"waitaof":      rb, // Redis 7.2
		"flushall":     i,
		"flushdb":      i,
		"save":         i,
		"replicaof":    i,
		"slaveof":      i,
		"swapdb":       u, // a repeat swaps back
		"bgsave":       u, // a repeat fails: already in progress
		"bgrewriteaof": u,
		"shutdown":     u,
		"failover":     u,
		"sync":         u,
		"psync":        u,
		"replconf":     u,
		"monitor":      u,
		"debug":        d(debugInfo),
		"config":       c,
		"acl":          c,
		"cluster":      c,
		"latency":      c,
		"memory":       c,
		"module":       c,
		"slowlog":      c,

		// Subcommands, keyed "container|sub" as in the COMMAND reply.
		"object|encoding": r,
		"object|freq":     r,
		"object|idletime": r,
		"object|refcount": r,
		"object|help":     r,

		"xinfo|consumers": r,
		"xinfo|groups":    r,
		"xinfo|stream":    r,
		"xinfo|help":      r,

		"xgroup|create":         u, // a repeat fails with BUSYGROUP
		"xgroup|createconsumer": i,
		"xgroup|delconsumer":    i,
		"xgroup|destroy":        i,
		"xgroup|setid":          i,
		"xgroup|help":           r,

		"script|exists": r,
		"script|help":   r,
		"script|load":   i,
		"script|flush":  i,
		"script|kill":   u,
		"script|debug":  u, // switches the connection into the debugger

		"function|dump":    r,
		"function|list":    r,
		"function|stats":   r,
		"function|help":    r,
		"function|flush":   i,
		"function|load":    d(functionLoadInfo),
		"function|restore": d(functionRestoreInfo),
		"function|delete":  u, // a repeat fails: library not found
		"function|kill":    u,

		"pubsub|channels":      r,
		"pubsub|numpat":        r,
		"pubsub|numsub":        r,
		"pubsub|shardchannels": r,
		"pubsub|shardnumsub":   r,
		"pubsub|help":          r,

		"client|getname":             r,
		"client|getredir":            r,
		"client|id":                  r,
		"client|info":                r,
		"client|list":                r,
		"client|trackinginfo":        r,
		"client|help":                r,
		"client|setname":             i,
		"client|setinfo":             i, // Redis 7.2
		"client|no-evict":            i,
		"client|no-touch":            i, // Redis 7.2
		"client|tracking":            i,
		"client|unpause":             i,
		"client|maint_notifications": i, // sent by go-redis's handshake on Redis 8.2+
		"client|caching":             u, // applies to the next command only
		"client|reply":               u, // SKIP applies to the next command only
		"client|pause":               u, // relative: a repeat pauses longer
		"client|kill":                u,
		"client|unblock":             u,

		"config|get":       r,
		"config|help":      r,
		"config|set":       i,
		"config|resetstat": i,
		"config|rewrite":   i,

		"acl|cat":     r,
		"acl|dryrun":  r,
		"acl|genpass": r,
		"acl|getuser": r,
		"acl|list":    r,
		"acl|users":   r,
		"acl|whoami":  r,
		"acl|help":    r,
		"acl|log":     d(aclLogInfo),
		"acl|setuser": i, // every rule sets, none toggles
		"acl|deluser": i,
		"acl|load":    i,
		"acl|save":    i,

		"cluster|count-failure-reports": r,
		"cluster|countkeysinslot":       r,
		"cluster|getkeysinslot":         r,
		"cluster|info":                  r,
		"cluster|keyslot":               r,
		"cluster|links":                 r,
		"cluster|myid":                  r,
		"cluster|myshardid":             r, // Redis 7.2
		"cluster|nodes":                 r,
		"cluster|replicas":              r,
		"cluster|slaves":                r,
		"cluster|shards":                r,
		"cluster|slots":                 r,
		"cluster|slot-stats":            r, // Redis 8.0
		"cluster|help":                  r,
		"cluster|flushslots":            i,
		"cluster|meet":                  i,
		"cluster|replicate":             i,
		"cluster|saveconfig":            i,
		"cluster|setslot":               i,
		"cluster|addslots":              u, // a repeat fails: slot already busy
		"cluster|addslotsrange":         u,
		"cluster|delslots":              u, // a repeat fails: slot already unassigned
		"cluster|delslotsrange":         u,
		"cluster|bumpepoch":             u,
		"cluster|set-config-epoch":      u,
		"cluster|failover":              u,
		"cluster|forget":                u,
		"cluster|reset":                 u,

		"command|count":           r,
		"command|docs":            r,
		"command|getkeys":         r,
		"command|getkeysandflags": r,
		"command|info":            r,
		"command|list":            r,
		"command|help":            r,

		"latency|doctor":    r,
		"latency|graph":     r,
		"latency|histogram": r,
		"latency|history":   r,
		"latency|latest":    r,
		"latency|help":      r,
		"latency|reset":     i,

		"memory|doctor":       r,
		"memory|malloc-stats": r,
		"memory|stats":        r,
		"memory|usage":        r,
		"memory|help":         r,
		"memory|purge":        i,

		"module|list":   r,
		"module|help":   r,
		"module|load":   u, // a repeat fails: module already loaded
		"module|loadex": u,
		"module|unload": u,

		"slowlog|get":   r,
		"slowlog|len":   r,
		"slowlog|help":  r,
		"slowlog|reset": i,
	}
}
