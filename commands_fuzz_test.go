package retryable

import (
	"strconv"
	"strings"
	"testing"
)

// fuzzArgs turns a command line into args; mask picks, per token, a []byte
// instead of a string, and a Go number for a numeric token.
func fuzzArgs(s string, mask uint64) []any {
	f := strings.Fields(s)
	args := make([]any, len(f))
	for i, w := range f {
		bit := func(k int) bool { return mask>>((2*i+k)%64)&1 == 1 }
		switch n, err := strconv.ParseInt(w, 10, 64); {
		case err == nil && bit(0):
			args[i] = n
		case w == "nil" && bit(0):
			args[i] = nil
		case bit(1):
			args[i] = []byte(w)
		default:
			args[i] = w
		}
	}
	return args
}

// flipCase changes the ASCII case of a string or []byte argument, letter by
// letter as mask says; other arguments are returned as they are.
func flipCase(a any, mask uint64) any {
	flip := func(b []byte) []byte {
		for i, c := range b {
			if mask>>(i%64)&1 == 0 {
				continue
			}
			switch {
			case 'a' <= c && c <= 'z':
				b[i] = c - 'a' + 'A'
			case 'A' <= c && c <= 'Z':
				b[i] = c - 'A' + 'a'
			}
		}
		return b
	}
	switch v := a.(type) {
	case string:
		return string(flip([]byte(v)))
	case []byte:
		return flip([]byte(string(v)))
	}
	return a
}

// asBytes turns a string argument into a []byte one.
func asBytes(a any) any {
	if s, ok := a.(string); ok {
		return []byte(s)
	}
	return a
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{
		"set k v", "SET k v EX 10", "set k v nx", "Set k v px", "getex k persist",
		"xadd s * f v", "XADD s maxlen ~ 100 limit 10 5-1 f v", "xadd s idmp p i * f v", "xadd s maxlen",
		"zadd z incr 1 a", "zadd z gt ch", "zunionstore d 2 a d", "zunionstore d 99 a",
		"ltrim l 0 99", "ltrim l -9223372036854775808 -1", "lrem l 0 v", "msetex 1 k v ex 1",
		"bitfield k get u8 0 set u8 0 1", "bitfield k get", "sort k by w get # limit 0 store",
		"georadius g 1 2 3 km store", "georadiusbymember g m 1 km storedist d",
		"xread block 0 streams s $", "XREADGROUP GROUP g c BLOCK 10 STREAMS s >",
		"config set maxmemory 1", "CLIENT SETINFO lib-name x", "function load replace x",
		"function restore", "acl log reset", "debug object k", "command", "object",
		"eval_ro x 0", "", "bogus", "nil", "ſet k v", "cluster count-failure-reports id",
	} {
		f.Add(s, uint64(0))
		f.Add(s, uint64(0x5555555555555555))
		f.Add(s, ^uint64(0))
	}
	f.Fuzz(func(t *testing.T, s string, mask uint64) {
		args := fuzzArgs(s, mask)
		want := Lookup(args)
		if want.Kind > Read {
			t.Fatalf("Lookup(%q) = kind %d, not a Kind", s, want.Kind)
		}
		if KindOf(args) != want.Kind {
			t.Fatalf("KindOf(%q) = %v, Lookup says %v", s, KindOf(args), want.Kind)
		}
		if len(args) == 0 {
			return
		}
		var buf [maxKey]byte
		name, _ := appendLower(buf[:0], args[0])
		if want.Script && !strings.HasPrefix(string(name), "eval") && !strings.HasPrefix(string(name), "fcall") {
			t.Fatalf("Lookup(%q) says script for %q", s, name)
		}

		// The case of the name, and of a container's subcommand, and
		// whether they are strings or []byte, change nothing.
		variants := [][]any{
			append([]any{flipCase(args[0], mask)}, args[1:]...),
			append([]any{flipCase(args[0], ^mask)}, args[1:]...),
			append([]any{asBytes(args[0])}, args[1:]...),
		}
		if e := commands[string(name)]; e.container && len(args) > 1 {
			v := append([]any{args[0], flipCase(args[1], mask>>7)}, args[2:]...)
			w := append([]any{flipCase(args[0], mask>>3), asBytes(flipCase(args[1], ^mask))}, args[2:]...)
			variants = append(variants, v, w)
		}
		for _, v := range variants {
			if got := Lookup(v); got != want {
				t.Fatalf("Lookup(%#v) = %+v, but Lookup(%#v) = %+v", v, got, args, want)
			}
		}
	})
}
