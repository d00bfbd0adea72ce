package breaker

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNewLimiterValidate(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		burst   int
		setting string
	}{
		{"ok", 10, 0, ""},
		{"ok burst", 0.5, 3, ""},
		{"zero rate", 0, 1, "NewLimiter perSecond"},
		{"negative rate", -1, 1, "NewLimiter perSecond"},
		{"NaN rate", math.NaN(), 1, "NewLimiter perSecond"},
		{"infinite rate", math.Inf(1), 1, "NewLimiter perSecond"},
		{"negative burst", 10, -1, "NewLimiter burst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLimiter(tt.rate, tt.burst, false)
			if tt.setting == "" {
				if err != nil || l == nil {
					t.Fatalf("NewLimiter: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.setting) {
				t.Fatalf("error %v does not match ErrInvalid or name %q", err, tt.setting)
			}
		})
	}
}

func isThrottled(t *testing.T, err error) {
	t.Helper()
	var te *ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) || te.Reason != ReasonRateLimit || te.Last != nil {
		t.Fatalf("error %v, want a ThrottledError for the rate limit", err)
	}
}

func TestLimiterRefuse(t *testing.T) {
	clock := newFakeClock()
	l, err := NewLimiter(10, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	l.now = clock.Now
	ctx := context.Background()
	for i := range 2 {
		if err := l.Admit(ctx); err != nil {
			t.Fatalf("call %d of the burst refused: %v", i, err)
		}
	}
	isThrottled(t, l.Admit(ctx))
	clock.Advance(100 * time.Millisecond)
	if err := l.Admit(ctx); err != nil {
		t.Fatalf("refused after a token came back: %v", err)
	}
	isThrottled(t, l.Admit(ctx))
}

func TestLimiterDefaultBurst(t *testing.T) {
	clock := newFakeClock()
	l, err := NewLimiter(2.5, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	l.now = clock.Now
	n := 0
	for l.Admit(context.Background()) == nil {
		n++
	}
	if n != 3 {
		t.Fatalf("admitted %d at once, want a default burst of ⌈2.5⌉ = 3", n)
	}
}

func TestLimiterWait(t *testing.T) {
	l, err := NewLimiter(200, 1, true) // a token every 5ms
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	for i := range 3 {
		if err := l.Admit(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if took := time.Since(start); took < 10*time.Millisecond {
		t.Fatalf("3 calls at 200/s with burst 1 took %v, want at least 10ms", took)
	}
}

func TestLimiterDeadline(t *testing.T) {
	l, err := NewLimiter(1, 1, true) // next token in 1s
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Admit(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = l.Admit(ctx)
	isThrottled(t, err)
	if ctx.Err() != nil {
		t.Fatal("Admit waited until the deadline instead of refusing at once")
	}
}

func TestLimiterCanceled(t *testing.T) {
	l, err := NewLimiter(1, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Admit(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrThrottled) {
		t.Fatalf("canceled context: %v, want context.Canceled", err)
	}

	if err := l.Admit(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	timer := time.AfterFunc(10*time.Millisecond, cancel)
	defer timer.Stop()
	if err := l.Admit(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrThrottled) {
		t.Fatalf("canceled while waiting: %v, want context.Canceled", err)
	}
}

func TestNilLimiter(t *testing.T) {
	var l *Limiter
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Admit(ctx); err != nil {
		t.Fatalf("nil limiter refused: %v", err)
	}
}
