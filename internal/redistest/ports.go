package redistest

import (
	"errors"
	"net"
	"strconv"
)

// maxPort keeps port+10000, the cluster bus port, a valid port.
const maxPort = 65535 - 10000

// busOffset is the distance from a server's port to its cluster bus port.
const busOffset = 10000

// errNoPort is returned when no usable port was found.
var errNoPort = errors.New("redistest: no free port pair (port, port+10000) below 55535 on 127.0.0.1")

// freePort returns a port on 127.0.0.1 that was free a moment ago, together
// with port+10000 (so the same server can run in cluster mode), and that is
// not the shared server's 6379. Another process may grab it before
// redis-server binds it; callers retry on "Address already in use".
func freePort() (int, error) {
	for range 200 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port >= maxPort || port == 6379 || port+busOffset == 6379 {
			_ = l.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+busOffset))
		if err != nil {
			_ = l.Close()
			continue
		}
		_ = bus.Close()
		_ = l.Close()
		return port, nil
	}
	return 0, errNoPort
}
