package retryable_test

import (
	"fmt"

	"github.com/go-retryable/retryable"
)

func ExampleKindOf() {
	for _, args := range [][]any{
		{"set", "k", "v"},
		{"set", "k", "v", "nx"},
		{"incr", "counter"},
		{"GET", "k"},
		{"xadd", "k", "*", "f", "v"},
		{"xadd", "k", "1-1", "f", "v"},
	} {
		fmt.Println(args, retryable.KindOf(args))
	}
	// Output:
	// [set k v] idempotent
	// [set k v nx] unsafe
	// [incr counter] unsafe
	// [GET k] read
	// [xadd k * f v] unsafe
	// [xadd k 1-1 f v] idempotent
}

func ExampleLookup() {
	fmt.Printf("%+v\n", retryable.Lookup([]any{"blpop", "queue", 0}))
	fmt.Printf("%+v\n", retryable.Lookup([]any{"xread", "block", 100, "streams", "s", "$"}))
	fmt.Printf("%+v\n", retryable.Lookup([]any{"evalsha_ro", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", 0}))
	fmt.Printf("%+v\n", retryable.Lookup([]any{"CONFIG", "GET", "maxmemory"}))
	// Output:
	// {Kind:unsafe Blocking:true Script:false}
	// {Kind:read Blocking:true Script:false}
	// {Kind:read Blocking:false Script:true}
	// {Kind:read Blocking:false Script:false}
}
