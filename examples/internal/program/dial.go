package program

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
)

// FailFirstDial returns a go-redis Dialer whose first dial fails with a
// refused connection, as a Redis that is still starting refuses it, so
// that an example shows a retry on any server. The Dialer is safe for
// concurrent use.
func FailFirstDial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	var dials atomic.Int64
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused (simulated)")}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}
