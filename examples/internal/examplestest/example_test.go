package examplestest_test

import (
	"fmt"
	"testing"

	"github.com/go-retryable/retryable/examples/internal/examplestest"
)

// recorder is a testing.TB that prints what the helpers report.
type recorder struct{ testing.TB }

func (recorder) Helper() {}

func (recorder) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// InOrder checks lines of output in order, as the examples' tests do.
func ExampleInOrder() {
	out := "Redis: miniredis at 127.0.0.1:4000\nGET greeting = \"hello\"\n"
	examplestest.InOrder(recorder{}, out, "Redis: miniredis", `GET greeting = "hello"`)
	examplestest.InOrder(recorder{}, out, `GET greeting`, "Redis:")
	// Output:
	// output lacks "Redis:" after the lines before it
}
