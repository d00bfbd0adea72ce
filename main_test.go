package retryable

import (
	"testing"

	"go.uber.org/goleak"
)

// The integration tests start clients, fake servers and redis-server
// processes; none of their goroutines may outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
