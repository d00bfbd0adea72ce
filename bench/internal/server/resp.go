package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// adminTimeout bounds one administrative command.
const adminTimeout = 5 * time.Second

// ReplyError is an error reply of the server to an administrative command.
type ReplyError string

func (e ReplyError) Error() string { return "server: " + string(e) }

// Do sends one command on a new connection and returns its reply: a string
// for simple and bulk strings, an int64, a []any, nil for a null reply, or
// a ReplyError. It is meant for administration (CLUSTER, REPLICAOF, INFO),
// so it uses no client library and no hook, and its commands are not GET
// or INCR, which the benchmarks count.
func (s *Server) Do(args ...string) (any, error) {
	return do(s.Addr(), args...)
}

// Info returns the fields of INFO section as a map.
func (s *Server) Info(section string) (map[string]string, error) {
	v, err := s.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	str, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("server: INFO %s answered %T", section, v)
	}
	return ParseInfo(str), nil
}

// ParseInfo splits the text of an INFO reply into its fields.
func ParseInfo(s string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

func do(addr string, args ...string) (any, error) {
	c, err := net.DialTimeout("tcp", addr, adminTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(adminTimeout))
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return nil, err
	}
	v, err := readReply(bufio.NewReader(c))
	if err != nil {
		return nil, err
	}
	if e, ok := v.(ReplyError); ok {
		return nil, e
	}
	return v, nil
}

// readReply parses one RESP2 reply.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("server: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return ReplyError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("server: unexpected reply %q", line)
}

// pidAt asks the server at addr for its process id.
func pidAt(addr string) (int, error) {
	v, err := do(addr, "INFO", "server")
	if err != nil {
		return 0, err
	}
	str, _ := v.(string)
	pid, ok := ParseInfo(str)["process_id"]
	if !ok {
		return 0, fmt.Errorf("INFO has no process_id")
	}
	return strconv.Atoi(pid)
}
