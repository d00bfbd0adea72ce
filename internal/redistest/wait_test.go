package redistest

import (
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		trueAfter int // cond returns true from this call on; 0: never
		timeout   time.Duration
		want      bool
		wantCalls int // 0: do not check
	}{
		{"true at once", 1, time.Hour, true, 1},
		{"true on the third call", 3, time.Second, true, 3},
		{"never true", 0, 50 * time.Millisecond, false, 0},
		{"zero timeout, true at once", 1, 0, true, 1},
		{"zero timeout, checked once more", 2, 0, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			start := time.Now()
			got := Poll(tt.timeout, func() bool {
				calls++
				return tt.trueAfter > 0 && calls >= tt.trueAfter
			})
			took := time.Since(start)
			if got != tt.want {
				t.Errorf("Poll = %v after %d calls, want %v", got, calls, tt.want)
			}
			if tt.wantCalls != 0 && calls != tt.wantCalls {
				t.Errorf("cond called %d times, want %d", calls, tt.wantCalls)
			}
			if !got && took < tt.timeout {
				t.Errorf("Poll gave up after %v, before its %v timeout", took, tt.timeout)
			}
		})
	}
}
