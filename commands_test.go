package retryable

import (
	"slices"
	"strings"
	"testing"
)

var (
	read       = Info{Kind: Read}
	idempotent = Info{Kind: Idempotent}
	unsafe     = Info{Kind: Unsafe}
)

// line splits a command line on spaces into args, as strings.
func line(s string) []any {
	f := strings.Fields(s)
	args := make([]any, len(f))
	for i, w := range f {
		args[i] = w
	}
	return args
}

func TestLookup(t *testing.T) {
	tests := []struct {
		line string
		want Info
	}{
		// SET and its options.
		{"set k v", idempotent},
		{"set k v ex 10", idempotent},
		{"set k v px 10000", idempotent},
		{"set k v exat 1700000000", idempotent},
		{"set k v pxat 1700000000000", idempotent},
		{"set k v keepttl", idempotent},
		{"set k v nx", unsafe},
		{"set k v xx", unsafe},
		{"set k v get", unsafe},
		{"set k v nx ex 10", unsafe},
		{"set k v ex 10 nx", unsafe},
		{"set k v px 10 get", unsafe},
		{"set k v bogus", unsafe},
		{"set nx nx", idempotent},     // key and value named like options
		{"set k v ex nx", idempotent}, // "nx" is the (invalid) time: the server refuses it
		{"setex k 10 v", idempotent},
		{"psetex k 10000 v", idempotent},
		{"setnx k v", unsafe},
		{"msetnx a 1 b 2", unsafe},
		{"mset a 1 b 2", idempotent},
		{"msetex 2 a 1 b 2", idempotent},
		{"msetex 2 a 1 b 2 ex 10", idempotent},
		{"msetex 2 a 1 b 2 keepttl", idempotent},
		{"msetex 1 nx 1", idempotent},
		{"msetex 2 a 1 b 2 nx", unsafe},
		{"msetex 2 a 1 b 2 xx px 10", unsafe},
		{"msetex x a 1", unsafe},
		{"msetex 9 a 1", unsafe},
		{"msetex -1 a 1", unsafe},
		{"setrange k 0 v", idempotent},
		{"setbit k 7 1", idempotent},
		{"getset k v", unsafe},
		{"getdel k", unsafe},
		{"delex k", idempotent},
		{"delex k ifeq v", unsafe},
		{"append k v", unsafe},
		{"incr k", unsafe},
		{"incrby k 2", unsafe},
		{"incrbyfloat k 2.5", unsafe},
		{"decr k", unsafe},
		{"decrby k 2", unsafe},
		{"get k", read},
		{"mget a b", read},
		{"strlen k", read},
		{"getrange k 0 1", read},
		{"lcs a b", read},

		// GETEX.
		{"getex k", read},
		{"getex k ex 10", unsafe},
		{"getex k px 10", unsafe},
		{"getex k exat 1700000000", idempotent},
		{"getex k pxat 1700000000000", idempotent},
		{"getex k persist", idempotent},
		{"getex k bogus", unsafe},
		{"hgetex h fields 1 f", read},
		{"hgetex h persist fields 1 f", idempotent},
		{"hgetex h exat 1700000000 fields 1 f", idempotent},
		{"hgetex h ex 10 fields 1 f", unsafe},
		{"hgetex h fields 1 ex", read}, // a field named EX
		{"hsetex h fields 1 f v", idempotent},
		{"hsetex h ex 10 fields 1 f v", idempotent},
		{"hsetex h keepttl fields 1 f v", idempotent},
		{"hsetex h fnx fields 1 f v", unsafe},
		{"hsetex h fxx ex 10 fields 1 f v", unsafe},
		{"hsetex h fields 1 fnx v", idempotent},

		// BITFIELD and BITOP.
		{"bitfield k get u8 0", read},
		{"bitfield k get u8 0 get i4 8", read},
		{"bitfield k set u8 0 255", idempotent},
		{"bitfield k set u8 0 255 get u8 0", idempotent},
		{"bitfield k overflow sat set u8 0 255", idempotent},
		{"bitfield k incrby u8 0 1", unsafe},
		{"bitfield k set u8 0 1 incrby u8 0 1", unsafe},
		{"bitfield k get incrby 0", read}, // type named INCRBY: the server refuses it
		{"bitfield k bogus", unsafe},
		{"bitfield_ro k get u8 0", read},
		{"bitop and d a b", idempotent},
		{"bitop not d a", idempotent},
		{"bitop not d d", unsafe},
		{"bitop or d a d", unsafe},
		{"bitop and d", unsafe},

		// Keys and expiry.
		{"del a b", idempotent},
		{"unlink a", idempotent},
		{"exists a", read},
		{"ttl a", read},
		{"expire k 10", unsafe},
		{"expire k 10 nx", unsafe},
		{"pexpire k 10000", unsafe},
		{"expireat k 1700000000", idempotent},
		{"pexpireat k 1700000000000", idempotent},
		{"persist k", idempotent},
		{"rename a b", unsafe},
		{"renamenx a b", unsafe},
		{"copy a b", unsafe},
		{"copy a b db 2", unsafe},
		{"copy a b replace", idempotent},
		{"copy a b db 2 replace", idempotent},
		{"restore k 0 payload", unsafe},
		{"restore k 0 payload replace", idempotent},
		{"restore-asking k 0 payload REPLACE absttl", idempotent},
		{"move k 1", unsafe},
		{"sort k", read},
		{"sort k by w_* limit 0 10 get # get h_*->f desc alpha", read},
		{"sort k store d", idempotent},
		{"sort k desc store d", idempotent},
		{"sort k get # store k", unsafe},
		{"sort k by w_* store", unsafe},
		{"sort k get store", read}, // GET pattern named "store"
		{"sort k bogus", unsafe},
		{"sort_ro k", read},

		// Lists.
		{"lpush l a", unsafe},
		{"rpush l a", unsafe},
		{"lpushx l a", unsafe},
		{"rpushx l a", unsafe},
		{"lpop l", unsafe},
		{"rpop l", unsafe},
		{"lmove a b left right", unsafe},
		{"rpoplpush a b", unsafe},
		{"lset l 0 v", idempotent},
		{"lrem l 2 v", unsafe},
		{"lrem l -1 v", unsafe},
		{"lrem l 0 v", idempotent},
		{"lrem l x v", unsafe},
		{"ltrim l 0 99", idempotent},
		{"ltrim l 0 -1", idempotent},
		{"ltrim l -100 -1", idempotent},
		{"ltrim l 1 -1", unsafe},
		{"ltrim l 0 -2", unsafe},
		{"ltrim l -5 -2", unsafe},
		{"ltrim l 2 5", unsafe},
		{"ltrim l a b", unsafe},
		{"linsert l before p v", unsafe},
		{"lrange l 0 -1", read},

		// Hashes and sets.
		{"hset h f v", idempotent},
		{"hmset h f v", idempotent},
		{"hdel h f", idempotent},
		{"hsetnx h f v", unsafe},
		{"hincrby h f 1", unsafe},
		{"hincrbyfloat h f 1.5", unsafe},
		{"hexpire h 10 fields 1 f", unsafe},
		{"hexpireat h 1700000000 fields 1 f", idempotent},
		{"hpersist h fields 1 f", idempotent},
		{"hgetdel h fields 1 f", unsafe},
		{"hgetall h", read},
		{"sadd s a", idempotent},
		{"srem s a", idempotent},
		{"spop s", unsafe},
		{"smove a b m", unsafe},
		{"sinterstore d a b", idempotent},
		{"sunionstore d a b", idempotent},
		{"sdiffstore d a b", idempotent},
		{"sunionstore d d b", unsafe},
		{"sdiffstore d a d", unsafe},
		{"sinterstore d", unsafe},
		{"smembers s", read},

		// Sorted sets.
		{"zadd z 1 a", idempotent},
		{"zadd z 1 a 2 b", idempotent},
		{"zadd z nx 1 a", idempotent},
		{"zadd z xx gt ch 1 a", idempotent},
		{"zadd z lt 1 a", idempotent},
		{"zadd z incr 1 a", unsafe},
		{"zadd z xx incr 1 a", unsafe},
		{"zadd z 1 incr", idempotent}, // a member named INCR
		{"zincrby z 1 a", unsafe},
		{"zrem z a", idempotent},
		{"zremrangebyscore z 0 10", idempotent},
		{"zremrangebylex z [a [b", idempotent},
		{"zremrangebyrank z 0 0", unsafe},
		{"zpopmin z", unsafe},
		{"zpopmax z", unsafe},
		{"zunionstore d 2 a b", idempotent},
		{"zunionstore d 2 a b weights 1 2 aggregate sum", idempotent},
		{"zunionstore d 2 d b", unsafe},
		{"zinterstore d 2 a d", unsafe},
		{"zdiffstore d 1 a", idempotent},
		{"zunionstore d 1 a weights d", idempotent}, // "d" after the keys is a weight
		{"zunionstore d 3 a b", unsafe},
		{"zunionstore d 0", unsafe},
		{"zunionstore d x a", unsafe},
		{"zrangestore d z 0 -1", idempotent},
		{"zrangestore z z 1 -1", unsafe},
		{"zrange z 0 -1", read},
		{"zscore z a", read},

		// HyperLogLog and geo.
		{"pfadd h a", idempotent},
		{"pfmerge d a b", idempotent},
		{"pfmerge d d b", idempotent},
		{"pfcount h", read},
		{"geoadd g 13.3 38.1 p", idempotent},
		{"geoadd g nx ch 13.3 38.1 p", idempotent},
		{"georadius g 15 37 200 km", read},
		{"georadius g 15 37 200 km withdist withcoord count 3 any asc", read},
		{"georadius g 15 37 200 km store d", idempotent},
		{"georadius g 15 37 200 km count 3 desc storedist d", idempotent},
		{"georadius g 15 37 200 km store d storedist e", idempotent},
		{"georadius g 15 37 200 km store g", unsafe},
		{"georadius g 15 37 200 km store d storedist g", unsafe},
		{"georadius g 15 37 200 km store", unsafe},
		{"georadius g 15 37 200 km bogus", unsafe},
		{"georadiusbymember g p 200 km", read},
		{"georadiusbymember g p 200 km store d", idempotent},
		{"georadius_ro g 15 37 200 km", read},
		{"geosearch g frommember p byradius 1 km", read},
		{"geosearchstore d g frommember p byradius 1 km", idempotent},
		{"geosearchstore g g frommember p byradius 1 km", unsafe},

		// Streams.
		{"xadd s * f v", unsafe},
		{"xadd s 5-1 f v", idempotent},
		{"xadd s 5 f v", idempotent},
		{"xadd s 5-* f v", unsafe},
		{"xadd s nomkstream * f v", unsafe},
		{"xadd s nomkstream 5-1 f v", idempotent},
		{"xadd s maxlen 1000 * f v", unsafe},
		{"xadd s maxlen ~ 1000 5-1 f v", idempotent},
		{"xadd s maxlen = 1000 * f v", unsafe},
		{"xadd s nomkstream minid ~ 5-0 limit 100 7-1 f v", idempotent},
		{"xadd s nomkstream minid ~ 5-0 limit 100 * f v", unsafe},
		{"xadd s limit 10 maxlen ~ 5 6-0 f v", idempotent},
		{"xadd s keepref * f v", unsafe},
		{"xadd s idmp p1 i1 * f v", idempotent},
		{"xadd s idmpauto p1 * f v", idempotent},
		{"xadd s nomkstream acked idmp p1 i1 maxlen ~ 10 * f v", idempotent},
		{"xadd s 5-1 * v", idempotent}, // a field named "*"
		{"xadd s", unsafe},
		{"xadd s maxlen", unsafe},
		{"xtrim s maxlen 1000", idempotent},
		{"xtrim s maxlen = 1000", idempotent},
		{"xtrim s minid 5-0", idempotent},
		{"xtrim s minid = 5-0 keepref", idempotent},
		{"xtrim s maxlen ~ 1000", unsafe},
		{"xtrim s maxlen = 1000 limit 10", unsafe},
		{"xtrim s bogus", unsafe},
		{"xack s g 1-1", idempotent},
		{"xdel s 1-1", idempotent},
		{"xclaim s g c 0 1-1", unsafe},
		{"xautoclaim s g c 0 0", unsafe},
		{"xread streams s 0", read},
		{"xread count 10 streams s 0", read},
		{"xread block 0 streams s $", Info{Kind: Read, Blocking: true}},
		{"xread count 1 block 100 streams s $", Info{Kind: Read, Blocking: true}},
		{"xread streams block 0", read}, // a stream named "block"
		{"xreadgroup group g c streams s >", unsafe},
		{"xreadgroup group g c count 1 block 0 noack streams s >", Info{Kind: Unsafe, Blocking: true}},
		{"xrange s - +", read},
		{"xlen s", read},

		// Blocking commands.
		{"blpop l 0", Info{Kind: Unsafe, Blocking: true}},
		{"brpop l 0", Info{Kind: Unsafe, Blocking: true}},
		{"brpoplpush a b 0", Info{Kind: Unsafe, Blocking: true}},
		{"blmove a b left right 0", Info{Kind: Unsafe, Blocking: true}},
		{"blmpop 0 1 l left", Info{Kind: Unsafe, Blocking: true}},
		{"bzpopmin z 0", Info{Kind: Unsafe, Blocking: true}},
		{"bzpopmax z 0", Info{Kind: Unsafe, Blocking: true}},
		{"bzmpop 0 1 z min", Info{Kind: Unsafe, Blocking: true}},
		{"wait 1 100", Info{Kind: Read, Blocking: true}},
		{"waitaof 1 0 100", Info{Kind: Read, Blocking: true}},

		// Scripts.
		{"eval return 1 0", Info{Kind: Unsafe, Script: true}},
		{"evalsha abc 0", Info{Kind: Unsafe, Script: true}},
		{"fcall f 0", Info{Kind: Unsafe, Script: true}},
		{"eval_ro return 1 0", Info{Kind: Read, Script: true}},
		{"evalsha_ro abc 0", Info{Kind: Read, Script: true}},
		{"fcall_ro f 0", Info{Kind: Read, Script: true}},
		{"script load return", idempotent},
		{"script exists abc", read},
		{"script flush", idempotent},
		{"script kill", unsafe},
		{"function load code", unsafe},
		{"function load replace code", idempotent},
		{"function restore payload", unsafe},
		{"function restore payload append", unsafe},
		{"function restore payload replace", idempotent},
		{"function restore payload flush", idempotent},
		{"function delete lib", unsafe},
		{"function list", read},

		// Transactions and pub/sub.
		{"multi", unsafe},
		{"exec", unsafe},
		{"discard", unsafe},
		{"watch k", unsafe},
		{"unwatch", idempotent},
		{"publish ch m", unsafe},
		{"spublish ch m", unsafe},
		{"subscribe ch", unsafe},
		{"psubscribe p*", unsafe},
		{"unsubscribe", unsafe},
		{"pubsub channels", read},
		{"pubsub numsub ch", read},

		// Connection and server.
		{"ping", read},
		{"echo x", read},
		{"time", read},
		{"info", read},
		{"info memory", read},
		{"dbsize", read},
		{"hello 3", idempotent},
		{"hello 3 auth u p setname n", idempotent},
		{"auth p", idempotent},
		{"select 1", idempotent},
		{"client setname n", idempotent},
		{"client setinfo lib-name go-redis", idempotent},
		{"client maint_notifications on moving-endpoint-type none", idempotent},
		{"client id", read},
		{"client list", read},
		{"client kill id 7", unsafe},
		{"client pause 100", unsafe},
		{"client unpause", idempotent},
		{"client reply skip", unsafe},
		{"flushall", idempotent},
		{"flushdb async", idempotent},
		{"swapdb 0 1", unsafe},
		{"config get maxmemory", read},
		{"config set maxmemory 2mb", idempotent},
		{"config resetstat", idempotent},
		{"command", read},
		{"command count", read},
		{"command docs get", read},
		{"object encoding k", read},
		{"object freq k", read},
		{"memory usage k", read},
		{"memory purge", idempotent},
		{"xinfo stream s", read},
		{"xgroup create s g $", unsafe},
		{"xgroup create s g $ mkstream", unsafe},
		{"xgroup setid s g 0", idempotent},
		{"xgroup destroy s g", idempotent},
		{"xgroup createconsumer s g c", idempotent},
		{"acl log", read},
		{"acl log 10", read},
		{"acl log reset", idempotent},
		{"acl setuser u on", idempotent},
		{"acl whoami", read},
		{"cluster info", read},
		{"cluster slots", read},
		{"cluster addslots 1", unsafe},
		{"cluster setslot 1 node id", idempotent},
		{"latency latest", read},
		{"latency reset", idempotent},
		{"slowlog get", read},
		{"slowlog reset", idempotent},
		{"module list", read},
		{"module load /x.so", unsafe},
		{"debug object k", read},
		{"debug sleep 1", unsafe},
		{"debug", unsafe},

		// Containers without, or with an unknown, subcommand.
		{"config", unsafe},
		{"client", unsafe},
		{"object", unsafe},
		{"config bogus", unsafe},
		{"client kill-all", unsafe},

		// Unknown commands.
		{"bogus", unsafe},
		{"json.set k $ 1", unsafe},
		{"", unsafe},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			args := line(tt.line)
			if got := Lookup(args); got != tt.want {
				t.Errorf("Lookup(%q) = %+v, want %+v", tt.line, got, tt.want)
			}
			if got := KindOf(args); got != tt.want.Kind {
				t.Errorf("KindOf(%q) = %v, want %v", tt.line, got, tt.want.Kind)
			}
			if len(args) == 0 {
				return
			}
			// The same line in upper case, and as []byte, says the same:
			// keys and values change case together, so a destination
			// equals a source either way.
			upper := line(strings.ToUpper(tt.line))
			if got := Lookup(upper); got != tt.want {
				t.Errorf("Lookup(%q) = %+v, want %+v", strings.ToUpper(tt.line), got, tt.want)
			}
			bs := make([]any, len(args))
			for i, a := range args {
				bs[i] = []byte(a.(string))
			}
			if got := Lookup(bs); got != tt.want {
				t.Errorf("Lookup(%q as []byte) = %+v, want %+v", tt.line, got, tt.want)
			}
		})
	}
}

// TestLookupGoRedisArgs checks argument lists as go-redis builds them, with
// numbers and durations as Go values rather than strings.
func TestLookupGoRedisArgs(t *testing.T) {
	tests := []struct {
		name string
		args []any
		want Info
	}{
		{"Set with expiration", []any{"set", "k", "v", "ex", int64(10)}, idempotent},
		{"SetNX", []any{"set", "k", "v", "ex", int64(10), "nx"}, unsafe},
		{"SetArgs KeepTTL Get", []any{"set", "k", "v", "keepttl", "get"}, unsafe},
		{"XAdd auto", []any{"xadd", "s", "maxlen", "~", int64(100), "limit", int64(10), "*", "f", "v"}, unsafe},
		{"XAdd int id", []any{"xadd", "s", int64(5), "f", "v"}, idempotent},
		{"XAdd float id", []any{"xadd", "s", 5.5, "f", "v"}, unsafe},
		{"XAdd empty id", []any{"xadd", "s", "", "f", "v"}, unsafe},
		{"ZAdd", []any{"zadd", "z", 1.5, "a"}, idempotent},
		{"ZAddArgs incr", []any{"zadd", "z", "gt", "incr", 1.5, "a"}, unsafe},
		{"LRem 0", []any{"lrem", "l", int64(0), "v"}, idempotent},
		{"LRem uint 0", []any{"lrem", "l", uint8(0), "v"}, idempotent},
		{"LRem 1", []any{"lrem", "l", 1, "v"}, unsafe},
		{"LTrim", []any{"ltrim", "l", int64(0), int64(99)}, idempotent},
		{"LTrim int32", []any{"ltrim", "l", int32(-10), int16(-1)}, idempotent},
		{"LTrim huge uint", []any{"ltrim", "l", uint64(1 << 63), int64(-1)}, unsafe},
		{"LTrim float", []any{"ltrim", "l", 0.0, int64(5)}, unsafe},
		{"ZUnionStore", []any{"zunionstore", "d", int64(2), "a", "b"}, idempotent},
		{"ZUnionStore dest []byte source", []any{"zunionstore", "d", int64(2), []byte("d"), "b"}, unsafe},
		{"SUnionStore int keys", []any{"sunionstore", 1, 2, 3}, unsafe},
		{"SUnionStore []byte dest", []any{"sunionstore", []byte("d"), "a", []byte("b")}, idempotent},
		{"BLPop", []any{"blpop", "l", int64(0)}, Info{Kind: Unsafe, Blocking: true}},
		{"XRead block", []any{"xread", "count", int64(1), "block", int64(0), "streams", "s", "$"}, Info{Kind: Read, Blocking: true}},
		{"XRead block bytes", []any{[]byte("XREAD"), []byte("BLOCK"), 0, []byte("STREAMS"), "s", "$"}, Info{Kind: Read, Blocking: true}},
		{"Client SetInfo", []any{"client", "setinfo", "LIB-NAME", "go-redis(,go1.26)"}, idempotent},
		{"Config []byte sub", []any{"CONFIG", []byte("Get"), "x"}, read},
		{"container int sub", []any{"config", 1}, unsafe},
		{"container nil sub", []any{"config", nil}, unsafe},
		{"int name", []any{1, "k"}, unsafe},
		{"nil name", []any{nil}, unsafe},
		{"nil args", nil, unsafe},
		{"empty args", []any{}, unsafe},
		{"nil options", []any{"set", "k", "v", nil}, unsafe},
		{"long name", []any{strings.Repeat("get", 100)}, unsafe},
		{"long sub", []any{"client", strings.Repeat("x", 100)}, unsafe},
		{"non-ASCII fold", []any{"ſet", "k", "v"}, unsafe}, // Redis folds ASCII only
		{"Kelvin sign", []any{"set", "k", "v", "\u212Aeepttl"}, unsafe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lookup(tt.args); got != tt.want {
				t.Errorf("Lookup(%v) = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Error("Names() is not sorted")
	}
	for _, want := range []string{"get", "set", "xadd", "config", "config|get", "client|setinfo", "eval_ro"} {
		if _, ok := slices.BinarySearch(names, want); !ok {
			t.Errorf("Names() lacks %q", want)
		}
	}
	for _, n := range names {
		if n != strings.ToLower(n) {
			t.Errorf("Names() has %q, not lowercase", n)
		}
		if len(n) > maxKey {
			t.Errorf("name %q is longer than maxKey %d", n, maxKey)
		}
		container, sub, isSub := strings.Cut(n, "|")
		if !isSub {
			continue
		}
		if e, ok := commands[container]; !ok || !e.container {
			t.Errorf("%q: %q is not a container", n, container)
		}
		// A subcommand is reached through Lookup, in any case.
		want := commands[n]
		args := []any{strings.ToUpper(container), strings.ToUpper(sub)}
		if got := Lookup(args); want.decide == nil && got != want.info {
			t.Errorf("Lookup(%v) = %+v, want %+v", args, got, want.info)
		}
	}
	names[0] = "changed"
	if Names()[0] == "changed" {
		t.Error("Names() returns the table's own slice")
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	lines := [][]any{
		{"get", "k"},
		{"GET", "k"},
		{[]byte("Get"), "k"},
		{"set", "k", "v", "EX", int64(10)},
		{"xadd", "s", "maxlen", "~", int64(100), "*", "f", "v"},
		{"CONFIG", "GET", "maxmemory"},
		{"zunionstore", "d", int64(2), "a", []byte("b")},
		{"bogus"},
	}
	for _, args := range lines {
		if n := testing.AllocsPerRun(100, func() { Lookup(args) }); n != 0 {
			t.Errorf("Lookup(%v) allocates %v times", args, n)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	benches := []struct {
		name string
		args []any
	}{
		{"get", []any{"get", "k"}},
		{"set_ex", []any{"set", "k", "v", "ex", int64(10)}},
		{"SET_EX", []any{"SET", "k", "v", "EX", int64(10)}},
		{"xadd_star", []any{"xadd", "s", "maxlen", "~", int64(1000), "*", "f", "v"}},
		{"client_setinfo", []any{"client", "setinfo", "LIB-NAME", "go-redis"}},
		{"unknown", []any{"json.get", "k"}},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			var info Info
			for b.Loop() {
				info = Lookup(bb.args)
			}
			_ = info
		})
	}
}

func TestKnown(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"get": true, "GET": true, " incr ": true, "config": true, "config|get": true, "CONFIG|GET": true,
		"gte": false, "json.set": false, "": false, "config|nope": false,
	} {
		if got := Known(name); got != want {
			t.Errorf("Known(%q) = %v, want %v", name, got, want)
		}
	}
}
