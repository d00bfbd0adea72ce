package redistest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// dropWait bounds how long a dropping connection waits for the
	// server's reply before it closes the client's connection anyway.
	dropWait = time.Second
	// proxyDialTimeout bounds the proxy's dial to its target.
	proxyDialTimeout = 2 * time.Second
	// proxyBuffer is the size of one relayed chunk.
	proxyBuffer = 32 << 10
)

// Proxy is a loopback TCP proxy in front of a Redis server that can lose a
// reply, refuse connections or cut them, for fault-injection tests. It runs
// one goroutine to accept and two per connection, all ended and joined by
// Close, which t's cleanup calls.
//
// A Proxy is safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	ctx    context.Context // canceled by Close: aborts dials to the target
	cancel context.CancelFunc

	dials  atomic.Int64
	drops  atomic.Int64
	armed  atomic.Bool
	refuse atomic.Bool
	// cut is the byte count of an armed CutNextReply plus one; 0 when
	// none is armed.
	cut atomic.Int64
	// latency delays every chunk the server sends, in ns.
	latency atomic.Int64

	mu     sync.Mutex
	conns  map[*proxyConn]struct{}
	closed bool

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// proxyConn is one relayed client connection.
type proxyConn struct {
	client, server net.Conn
	dropping       atomic.Bool   // the server's bytes are being swallowed
	cutAfter       atomic.Int64  // bytes of the reply still relayed before a cut, plus one; 0 when not cutting
	replied        chan struct{} // closed when a swallowed reply arrived
	replyOnce      sync.Once
	closeOnce      sync.Once
}

// close closes both sides; safe to call more than once.
func (pc *proxyConn) close() {
	pc.closeOnce.Do(func() {
		_ = pc.client.Close()
		_ = pc.server.Close()
	})
}

// NewProxy listens on a free 127.0.0.1 port and relays every connection
// to target (a "host:port"). It fails the test if it cannot listen, and is
// closed at t's cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target: target,
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		conns:  make(map[*proxyConn]struct{}),
	}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's "127.0.0.1:port" address, for clients to dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Dials returns how many client connections the proxy has accepted,
// refused ones included.
func (p *Proxy) Dials() int64 { return p.dials.Load() }

// Drops returns how many replies DropNextReply has swallowed so far; a
// drop is counted before the client's connection is closed.
func (p *Proxy) Drops() int64 { return p.drops.Load() }

// DropNextReply arms a one-shot fault: the next chunk any client writes is
// forwarded to the server, the proxy waits for the server's reply (for up
// to one second), swallows it and closes that client's connection. The
// client sees the connection fail after its command ran, the ambiguous
// failure of a lost reply. Chunks of a go-redis connection handshake (they
// start with HELLO, AUTH, SELECT, CLIENT or READONLY) pass through and
// leave the fault armed, so it hits the command, not the dial.
func (p *Proxy) DropNextReply() { p.armed.Store(true) }

// CutNextReply arms a one-shot fault: the next chunk any client writes
// (handshakes aside, as for DropNextReply) is forwarded, the first keep
// bytes of what the server sends back are relayed, and then that client's
// connection is closed. A pipeline whose replies are cut part-way has had
// its first replies read and the rest lost: the server ran every command.
// The cut counts in Drops.
func (p *Proxy) CutNextReply(keep int) { p.cut.Store(int64(max(keep, 0)) + 1) }

// SetLatency delays every chunk of the servers' replies by d from now on,
// on connections old and new, as a slow network would; 0 removes it.
func (p *Proxy) SetLatency(d time.Duration) { p.latency.Store(int64(max(d, 0))) }

// SetRefuse makes the proxy close every new connection as soon as it
// accepts it (true) or relay them again (false). Connections already
// relayed are left alone; CloseConns cuts them.
func (p *Proxy) SetRefuse(refuse bool) { p.refuse.Store(refuse) }

// CloseConns closes every connection currently relayed, on both sides, as
// a network failure would. New connections are still accepted.
func (p *Proxy) CloseConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pc := range p.conns {
		pc.close()
	}
}

// Close stops the proxy: it stops listening, closes every connection and
// waits for all of its goroutines to end. Later calls do nothing.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() {
		p.cancel()
		_ = p.ln.Close()
		p.mu.Lock()
		p.closed = true
		for pc := range p.conns {
			pc.close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
}

// accept accepts connections until the listener is closed.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.ctx.Err() != nil {
				return
			}
			// A transient failure (out of file descriptors): pause, but
			// stay responsive to Close.
			t := time.NewTimer(5 * time.Millisecond)
			select {
			case <-p.ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		p.dials.Add(1)
		if p.refuse.Load() {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve dials the target for client and relays both ways until either side
// closes or fails.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: proxyDialTimeout}
	server, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	pc := &proxyConn{client: client, server: server, replied: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pc.close()
		return
	}
	p.conns[pc] = struct{}{}
	p.mu.Unlock()
	defer func() {
		pc.close()
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
	}()

	p.wg.Add(1)
	go p.fromServer(pc)
	p.fromClient(pc)
}

// fromClient relays the client's bytes to the server, and carries out an
// armed DropNextReply.
func (p *Proxy) fromClient(pc *proxyConn) {
	buf := make([]byte, proxyBuffer)
	for {
		n, err := pc.client.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if !isHandshake(chunk) && p.armed.CompareAndSwap(true, false) {
				p.drop(pc, chunk)
				return
			}
			if keep := p.cut.Load(); keep > 0 && !isHandshake(chunk) && p.cut.CompareAndSwap(keep, 0) {
				pc.cutAfter.Store(keep)
			}
			if _, werr := pc.server.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// drop forwards chunk, waits for the first bytes of the reply (or dropWait)
// and closes the connection; fromServer swallows the reply.
func (p *Proxy) drop(pc *proxyConn, chunk []byte) {
	pc.dropping.Store(true)
	if _, err := pc.server.Write(chunk); err == nil {
		t := time.NewTimer(dropWait)
		select {
		case <-pc.replied:
		case <-t.C:
		case <-p.ctx.Done():
		}
		t.Stop()
	}
	// Counted before the close, so a client that saw its connection fail
	// already sees the drop counted.
	p.drops.Add(1)
	pc.close()
}

// fromServer relays the server's bytes to the client, or swallows them
// once the connection is dropping.
func (p *Proxy) fromServer(pc *proxyConn) {
	defer p.wg.Done()
	defer pc.close()
	buf := make([]byte, proxyBuffer)
	for {
		n, err := pc.server.Read(buf)
		if d := time.Duration(p.latency.Load()); n > 0 && d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return
			}
		}
		if n > 0 {
			if pc.dropping.Load() {
				pc.replyOnce.Do(func() { close(pc.replied) })
			} else if left := pc.cutAfter.Load() - 1; left >= 0 {
				_, _ = pc.client.Write(buf[:min(int64(n), left)])
				if int64(n) >= left {
					p.drops.Add(1)
					return // the deferred close cuts the connection
				}
				pc.cutAfter.Store(left - int64(n) + 1)
			} else if _, werr := pc.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// handshakeCommands are the commands go-redis sends while it sets up a
// connection.
var handshakeCommands = [][]byte{
	[]byte("HELLO"), []byte("AUTH"), []byte("SELECT"), []byte("CLIENT"), []byte("READONLY"),
}

// isHandshake reports whether chunk starts with a connection handshake
// command, in RESP ("*2\r\n$5\r\nHELLO\r\n...") or inline form.
func isHandshake(chunk []byte) bool {
	name := firstCommand(chunk)
	for _, h := range handshakeCommands {
		if bytes.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// firstCommand returns the name of the first command in chunk, or nil.
func firstCommand(chunk []byte) []byte {
	if len(chunk) == 0 {
		return nil
	}
	if chunk[0] != '*' {
		name, _, _ := bytes.Cut(chunk, []byte(" "))
		name, _, _ = bytes.Cut(name, []byte("\r\n"))
		return bytes.TrimSpace(name)
	}
	// *<n>\r\n$<len>\r\n<name>\r\n
	_, rest, ok := bytes.Cut(chunk, []byte("\r\n"))
	if !ok || len(rest) == 0 || rest[0] != '$' {
		return nil
	}
	_, rest, ok = bytes.Cut(rest, []byte("\r\n"))
	if !ok {
		return nil
	}
	name, _, _ := bytes.Cut(rest, []byte("\r\n"))
	return name
}
