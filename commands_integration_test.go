package retryable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/internal/redistest"
)

// writeButRead lists the commands the server flags "write" that the table
// classes Read when they come without arguments, because only some of
// their arguments write. Each is tested with and without those arguments
// in TestLookup.
var writeButRead = map[string]string{
	"getex":             "GETEX key without EX/PX/EXAT/PXAT/PERSIST only reads",
	"sort":              "SORT without STORE only reads",
	"georadius":         "GEORADIUS without STORE/STOREDIST only reads",
	"georadiusbymember": "GEORADIUSBYMEMBER without STORE/STOREDIST only reads",
	"bitfield":          "BITFIELD with only GET operations only reads",
}

// blockingNotFlagged lists commands the table marks Blocking that the
// server does not flag "blocking": they wait server-side all the same.
var blockingNotFlagged = map[string]string{
	"wait":    "WAIT waits up to its timeout for replicas to acknowledge",
	"waitaof": "WAITAOF waits up to its timeout for fsyncs (Redis 7.2)",
}

// serverCommand is one entry of the COMMAND reply.
type serverCommand struct {
	name  string // lowercase; "container|sub" for a subcommand
	arity int64
	flags []string
	subs  []serverCommand
}

func (c serverCommand) flagged(f string) bool { return slices.Contains(c.flags, f) }

// parseCommand reads one entry of a RESP2 COMMAND reply: name, arity,
// flags, first key, last key, step, ACL categories, tips, key specs,
// subcommands (the last four since Redis 7.0).
func parseCommand(v any) (serverCommand, error) {
	e, ok := v.([]any)
	if !ok || len(e) < 3 {
		return serverCommand{}, fmt.Errorf("entry %v: not an array of at least 3", v)
	}
	var c serverCommand
	if c.name, ok = e[0].(string); !ok {
		return c, fmt.Errorf("entry %v: name is %T", e[0], e[0])
	}
	c.name = strings.ToLower(c.name)
	if c.arity, ok = e[1].(int64); !ok {
		return c, fmt.Errorf("%s: arity is %T", c.name, e[1])
	}
	flags, ok := e[2].([]any)
	if !ok {
		return c, fmt.Errorf("%s: flags are %T", c.name, e[2])
	}
	for _, f := range flags {
		s, ok := f.(string)
		if !ok {
			return c, fmt.Errorf("%s: flag is %T", c.name, f)
		}
		c.flags = append(c.flags, s)
	}
	if len(e) > 9 {
		subs, ok := e[9].([]any)
		if !ok {
			return c, fmt.Errorf("%s: subcommands are %T", c.name, e[9])
		}
		for _, s := range subs {
			sc, err := parseCommand(s)
			if err != nil {
				return c, fmt.Errorf("%s: %w", c.name, err)
			}
			c.subs = append(c.subs, sc)
		}
	}
	return c, nil
}

// bareArgs is the argument-free command line for a COMMAND name:
// "config|get" becomes CONFIG GET.
func bareArgs(name string) []any {
	if container, sub, ok := strings.Cut(name, "|"); ok {
		return []any{container, sub}
	}
	return []any{name}
}

// mayBlock reports whether the table marks the command Blocking without
// arguments, or with a BLOCK option (XREAD, XREADGROUP).
func mayBlock(name string) bool {
	args := bareArgs(name)
	withBlock := append(slices.Clone(args), "block", "0", "streams", "s", "$")
	return Lookup(args).Blocking || Lookup(withBlock).Blocking
}

// TestCommandTableCoversServer checks the table against the COMMAND reply
// of a real server: every command and subcommand it lists has an explicit
// entry, and no entry contradicts the server's "write", "readonly" and
// "blocking" flags, except as writeButRead and blockingNotFlagged say.
func TestCommandTableCoversServer(t *testing.T) {
	s := redistest.Start(t)
	reply, ok := s.Do(t, "COMMAND").([]any)
	if !ok || len(reply) == 0 {
		t.Fatalf("COMMAND replied %T, want a non-empty array", reply)
	}

	var leaves []serverCommand // what a client can call: commands and subcommands
	listed := map[string]bool{}
	for _, v := range reply {
		c, err := parseCommand(v)
		if err != nil {
			t.Fatalf("COMMAND reply: %v", err)
		}
		listed[c.name] = true
		e, known := commands[c.name]
		switch {
		case !known:
			t.Errorf("%s: the server lists it, the table has no entry", c.name)
		case e.container != (len(c.subs) > 0):
			t.Errorf("%s: the table says container=%v, the server lists %d subcommands", c.name, e.container, len(c.subs))
		}
		// A container is callable bare when its arity allows one argument
		// (COMMAND); the others are only their subcommands.
		if len(c.subs) == 0 || c.arity == 1 || c.arity == -1 {
			leaves = append(leaves, c)
		}
		for _, sc := range c.subs {
			listed[sc.name] = true
			if _, ok := commands[sc.name]; !ok {
				t.Errorf("%s: the server lists it, the table has no entry", sc.name)
			}
			leaves = append(leaves, sc)
		}
	}

	usedWriteButRead := map[string]bool{}
	var read, idem, unsafe, blocking, script int
	for _, c := range leaves {
		info := Lookup(bareArgs(c.name))
		switch info.Kind {
		case Read:
			read++
		case Idempotent:
			idem++
		default:
			unsafe++
		}
		if info.Script {
			script++
		}
		block := mayBlock(c.name)
		if block {
			blocking++
		}

		if c.flagged("write") && info.Kind == Read {
			if _, ok := writeButRead[c.name]; ok {
				usedWriteButRead[c.name] = true
			} else {
				t.Errorf("%s: the server flags it write, the table says read", c.name)
			}
		}
		if c.flagged("readonly") && info.Kind != Read {
			t.Errorf("%s: the server flags it readonly, the table says %v", c.name, info.Kind)
		}
		if c.flagged("blocking") != block {
			if _, ok := blockingNotFlagged[c.name]; !ok {
				t.Errorf("%s: the server's blocking flag is %v, the table's %v", c.name, c.flagged("blocking"), block)
			}
		}
	}
	// The exceptions must stay true exceptions, or they hide mistakes.
	for name, why := range writeButRead {
		if !usedWriteButRead[name] {
			t.Errorf("writeButRead[%q] (%s) matches no write command classed read", name, why)
		}
	}
	for name := range blockingNotFlagged {
		if listed[name] && !mayBlock(name) {
			t.Errorf("blockingNotFlagged[%q]: the table does not mark it blocking", name)
		}
	}

	var newer []string
	for _, n := range Names() {
		if !listed[n] {
			newer = append(newer, n)
		}
	}
	t.Logf("table entries this server does not list (newer Redis versions): %s", strings.Join(newer, " "))
	t.Logf("COMMAND coverage: %d commands (incl. subcommands): read=%d idempotent=%d unsafe=%d blocking=%d script=%d",
		len(leaves), read, idem, unsafe, blocking, script)
}

// TestLookupGoRedisCalls runs go-redis's typed methods against a real
// server and classifies the argument lists they actually sent.
func TestLookupGoRedisCalls(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	if err := c.RPush(ctx, "list", "a", "b", "c").Err(); err != nil {
		t.Fatalf("RPUSH: %v", err)
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "stream", ID: "1-1", Values: []string{"f", "v"}}).Err(); err != nil {
		t.Fatalf("XADD: %v", err)
	}

	blockingRead := Info{Kind: Read, Blocking: true}
	blockingUnsafe := Info{Kind: Unsafe, Blocking: true}
	tests := []struct {
		name string
		call func() redis.Cmder
		want Info
	}{
		{"Set", func() redis.Cmder { return c.Set(ctx, "k", "v", 0) }, Info{Kind: Idempotent}},
		{"Set 10s", func() redis.Cmder { return c.Set(ctx, "k", "v", 10*time.Second) }, Info{Kind: Idempotent}},
		{"Set 1500ms", func() redis.Cmder { return c.Set(ctx, "k", "v", 1500*time.Millisecond) }, Info{Kind: Idempotent}},
		{"Set KeepTTL", func() redis.Cmder { return c.Set(ctx, "k", "v", redis.KeepTTL) }, Info{Kind: Idempotent}},
		{"SetArgs ExpireAt", func() redis.Cmder {
			return c.SetArgs(ctx, "k", "v", redis.SetArgs{ExpireAt: time.Now().Add(time.Hour)})
		}, Info{Kind: Idempotent}},
		{"SetNX", func() redis.Cmder { return c.SetNX(ctx, "k2", "v", 0) }, Info{}},
		{"SetNX 10s", func() redis.Cmder { return c.SetNX(ctx, "k3", "v", 10*time.Second) }, Info{}},
		{"SetXX", func() redis.Cmder { return c.SetXX(ctx, "k", "v", 0) }, Info{}},
		{"SetArgs Get", func() redis.Cmder { return c.SetArgs(ctx, "k", "v", redis.SetArgs{Get: true}) }, Info{}},
		{"Do setex", func() redis.Cmder { return c.Do(ctx, "setex", "k", 60, "v") }, Info{Kind: Idempotent}},
		{"Get", func() redis.Cmder { return c.Get(ctx, "k") }, Info{Kind: Read}},
		{"GetEx persist", func() redis.Cmder { return c.GetEx(ctx, "k", 0) }, Info{Kind: Idempotent}},
		{"GetEx 10s", func() redis.Cmder { return c.GetEx(ctx, "k", 10*time.Second) }, Info{}},
		{"GetEx none", func() redis.Cmder { return c.GetEx(ctx, "k", -1) }, Info{Kind: Read}},
		{"Incr", func() redis.Cmder { return c.Incr(ctx, "n") }, Info{}},
		{"Expire", func() redis.Cmder { return c.Expire(ctx, "k", time.Minute) }, Info{}},
		{"ExpireAt", func() redis.Cmder { return c.ExpireAt(ctx, "k", time.Now().Add(time.Hour)) }, Info{Kind: Idempotent}},
		{"ZAdd", func() redis.Cmder { return c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"}) }, Info{Kind: Idempotent}},
		{"ZAddGT", func() redis.Cmder { return c.ZAddGT(ctx, "z", redis.Z{Score: 2, Member: "a"}) }, Info{Kind: Idempotent}},
		{"ZAddArgsIncr", func() redis.Cmder {
			return c.ZAddArgsIncr(ctx, "z", redis.ZAddArgs{Members: []redis.Z{{Score: 1, Member: "a"}}})
		}, Info{}},
		{"ZIncrBy", func() redis.Cmder { return c.ZIncrBy(ctx, "z", 1, "a") }, Info{}},
		{"ZUnionStore", func() redis.Cmder {
			return c.ZUnionStore(ctx, "zd", &redis.ZStore{Keys: []string{"z", "z2"}, Weights: []float64{1, 2}})
		}, Info{Kind: Idempotent}},
		{"ZUnionStore into a source", func() redis.Cmder {
			return c.ZUnionStore(ctx, "z", &redis.ZStore{Keys: []string{"z", "z2"}})
		}, Info{}},
		{"XAdd *", func() redis.Cmder {
			return c.XAdd(ctx, &redis.XAddArgs{Stream: "stream", Values: []string{"f", "v"}})
		}, Info{}},
		{"XAdd explicit ID trimmed", func() redis.Cmder {
			return c.XAdd(ctx, &redis.XAddArgs{Stream: "stream", NoMkStream: true, MaxLen: 100, Approx: true, Limit: 10, ID: "99999999999999-1", Values: []string{"f", "v"}})
		}, Info{Kind: Idempotent}},
		{"XAdd * MinID", func() redis.Cmder {
			return c.XAdd(ctx, &redis.XAddArgs{Stream: "stream", MinID: "1-0", Values: map[string]any{"f": "v"}})
		}, Info{}},
		{"XTrimMaxLen", func() redis.Cmder { return c.XTrimMaxLen(ctx, "stream", 100) }, Info{Kind: Idempotent}},
		{"XTrimMaxLenApprox", func() redis.Cmder { return c.XTrimMaxLenApprox(ctx, "stream", 100, 10) }, Info{}},
		{"XRead", func() redis.Cmder {
			return c.XRead(ctx, &redis.XReadArgs{Streams: []string{"stream", "0"}, Block: -1})
		}, Info{Kind: Read}},
		{"XRead Block", func() redis.Cmder {
			return c.XRead(ctx, &redis.XReadArgs{Streams: []string{"stream", "0"}, Count: 1, Block: 10 * time.Millisecond})
		}, blockingRead},
		{"LTrim 0 1", func() redis.Cmder { return c.LTrim(ctx, "list", 0, 1) }, Info{Kind: Idempotent}},
		{"LRem 0", func() redis.Cmder { return c.LRem(ctx, "list", 0, "x") }, Info{Kind: Idempotent}},
		{"LRem 1", func() redis.Cmder { return c.LRem(ctx, "list", 1, "x") }, Info{}},
		{"BLPop", func() redis.Cmder { return c.BLPop(ctx, time.Second, "list") }, blockingUnsafe},
		{"BitField get", func() redis.Cmder { return c.BitField(ctx, "bits", "get", "u8", 0) }, Info{Kind: Read}},
		{"BitField incrby", func() redis.Cmder { return c.BitField(ctx, "bits", "incrby", "u8", 0, 1) }, Info{}},
		{"Sort", func() redis.Cmder { return c.Sort(ctx, "list", &redis.Sort{Alpha: true}) }, Info{Kind: Read}},
		{"SortStore", func() redis.Cmder { return c.SortStore(ctx, "list", "sorted", &redis.Sort{Alpha: true}) }, Info{Kind: Idempotent}},
		{"Eval", func() redis.Cmder { return c.Eval(ctx, "return 1", nil) }, Info{Script: true}},
		{"EvalRO", func() redis.Cmder { return c.EvalRO(ctx, "return 1", nil) }, Info{Kind: Read, Script: true}},
		{"ScriptLoad", func() redis.Cmder { return c.ScriptLoad(ctx, "return 1") }, Info{Kind: Idempotent}},
		{"ConfigGet", func() redis.Cmder { return c.ConfigGet(ctx, "maxmemory") }, Info{Kind: Read}},
		{"ObjectEncoding", func() redis.Cmder { return c.ObjectEncoding(ctx, "list") }, Info{Kind: Read}},
		{"ClientID", func() redis.Cmder { return c.ClientID(ctx) }, Info{Kind: Read}},
		{"Publish", func() redis.Cmder { return c.Publish(ctx, "ch", "m") }, Info{}},
		{"Ping", func() redis.Cmder { return c.Ping(ctx) }, Info{Kind: Read}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := tt.call()
			if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
				t.Fatalf("%v: %v", cmd.Args(), err)
			}
			if got := Lookup(cmd.Args()); got != tt.want {
				t.Errorf("Lookup(%v) = %+v, want %+v", cmd.Args(), got, tt.want)
			}
		})
	}
}

// snapshot is the whole keyspace: per key, its DUMP and whether and roughly
// when it expires.
type snapshot map[string]keyState

type keyState struct {
	dump string
	pttl int64
}

func takeSnapshot(t *testing.T, c *redis.Client) snapshot {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	s := snapshot{}
	for _, k := range keys {
		dump, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		pttl, err := c.Do(ctx, "pttl", k).Int64()
		if err != nil {
			t.Fatalf("PTTL %s: %v", k, err)
		}
		s[k] = keyState{dump, pttl}
	}
	return s
}

// sameState compares two snapshots; expiry times may differ by the time
// between the runs (generously bounded).
func sameState(a, b snapshot) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.dump != y.dump {
			return false
		}
		if (x.pttl < 0) != (y.pttl < 0) || x.pttl >= 0 && max(x.pttl, y.pttl)-min(x.pttl, y.pttl) > 5000 {
			return false
		}
	}
	return true
}

// TestLookupMatchesServerState runs command lines on a real server and
// checks what the table promises: a Read line changes nothing, an
// Idempotent line run twice leaves the state of one run. It also shows,
// for lines whose arguments make them Unsafe, that a second run does
// change the state, so the distinction the arguments draw is real.
func TestLookupMatchesServerState(t *testing.T) {
	// Small stream nodes, so that trimming with a LIMIT shows its steps.
	s := redistest.Start(t, "stream-node-max-entries 2")
	c := s.Client(t, func(o *redis.Options) { o.MaxRetries = -1 })
	ctx := context.Background()
	setup := []string{
		"rpush l a b c d e f a",
		"sadd s1 a b c", "sadd s2 c d",
		"zadd z1 1 a 2 b 3 c", "zadd z2 5 c 6 d",
		"hset h f v g w",
		"set str hello",
		"geoadd g 13.361389 38.115556 palermo 15.087269 37.502669 catania",
		"xadd st 1-1 f v", "xadd st 2-1 f v", "xadd st 3-1 f v", "xadd st 4-1 f v",
		"xadd st 5-1 f v", "xadd st 6-1 f v", "xadd st 7-1 f v",
		"set bits x",
	}
	// run runs l; a repeat may get an error reply (the server refused it),
	// a first run may not.
	run := func(t *testing.T, l string, repeat bool) {
		t.Helper()
		err := c.Do(ctx, line(l)...).Err()
		if err != nil && !errors.Is(err, redis.Nil) && !(repeat && strings.HasPrefix(err.Error(), "ERR")) {
			t.Fatalf("%s: %v", l, err)
		}
	}
	prepare := func(t *testing.T) {
		t.Helper()
		s.Do(t, "FLUSHALL") // the throwaway server of this test, never the shared one
		for _, l := range setup {
			run(t, l, false)
		}
	}

	same := []string{
		// Read.
		"get str", "getex str", "lrange l 0 -1", "sort l alpha", "sort l alpha limit 0 2 desc",
		"georadius g 15 37 200 km withdist", "bitfield bits get u8 0", "xread streams st 0",
		"zunion 2 z1 z2", "sinter s1 s2", "object encoding l",
		// Idempotent.
		"set str v", "set str v ex 100", "set str v pxat 99999999999999", "set str v keepttl",
		"setex str 100 v", "mset a 1 b 2", "setrange str 1 EL", "setbit bits 3 1",
		"getex str persist", "getex str exat 99999999999", "bitfield bits set u8 0 7",
		"del str", "unlink l", "expireat str 99999999999", "persist str",
		"copy str dst replace", "sort l alpha store dst",
		"lset l 0 z", "lrem l 0 c", "ltrim l 0 2", "ltrim l -3 -1", "ltrim l 0 -1",
		"hset h f x", "hdel h f", "sadd s1 x", "srem s1 a",
		"sinterstore d s1 s2", "sunionstore d s1 s2", "sdiffstore d s1 s2",
		"zadd z1 5 a", "zadd z1 gt ch 9 a", "zadd z1 nx 7 q", "zrem z1 a",
		"zremrangebyscore z1 0 2", "zunionstore d 2 z1 z2 weights 2 3", "zinterstore d 2 z1 z2",
		"zdiffstore d 2 z1 z2", "zrangestore d z1 0 1",
		"pfadd hll a b c", "pfmerge hll2 hll", "bitop and d str bits",
		"georadius g 15 37 200 km store d", "geosearchstore d g frommember palermo byradius 200 km",
		"xadd st 9-1 f v", "xadd st maxlen 2 9-1 f v", "xtrim st maxlen 2", "xtrim st minid = 2-0",
		"xdel st 1-1", "xsetid st 9-9",
		"flushall",
	}
	// Lines whose second run changes the state. (SET NX, GETDEL, RENAME
	// and the other conditional writes are Unsafe for their reply, not
	// their state: TestLookup covers them.)
	changes := []string{
		"append str x", "incr n", "lpush l x", "rpop l", "lrem l 1 a",
		"ltrim l 1 -1", "ltrim l 0 -2", "linsert l before c x", "lmove l l left right",
		"spop s1", "zadd z1 incr 1 a", "zincrby z1 1 a", "zpopmin z1", "zremrangebyrank z1 0 0",
		"sdiffstore s1 s2 s1", "zunionstore z1 2 z1 z2", "zrangestore z1 z1 1 -1", "bitop not bits bits",
		"bitfield bits incrby u8 0 1", "xadd st * f v", "xtrim st maxlen ~ 1 limit 2",
	}
	for _, l := range same {
		t.Run(l, func(t *testing.T) {
			info := Lookup(line(l))
			if info.Kind == Unsafe {
				t.Fatalf("Lookup(%q) = unsafe, want read or idempotent", l)
			}
			prepare(t)
			before := takeSnapshot(t, c)
			run(t, l, false)
			once := takeSnapshot(t, c)
			if info.Kind == Read && !sameState(before, once) {
				t.Errorf("%q is classed read but changed the state", l)
			}
			run(t, l, true)
			if twice := takeSnapshot(t, c); !sameState(once, twice) {
				t.Errorf("%q is classed %v but a second run changed the state", l, info.Kind)
			}
		})
	}
	for _, l := range changes {
		t.Run(l, func(t *testing.T) {
			if k := KindOf(line(l)); k != Unsafe {
				t.Fatalf("KindOf(%q) = %v, want unsafe", l, k)
			}
			prepare(t)
			run(t, l, false)
			once := takeSnapshot(t, c)
			run(t, l, true)
			if twice := takeSnapshot(t, c); sameState(once, twice) {
				t.Errorf("%q: a second run left the same state; is it really unsafe?", l)
			}
		})
	}
}
