package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// probe asks the server at addr for its process id with a raw RESP
// exchange. It deliberately avoids go-redis, whose pool keeps a goroutine
// redialing a port that refused it.
func probe(addr, password string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	if password != "" {
		if _, err := c.Write(encodeCommand("AUTH", password)); err != nil {
			return 0, err
		}
		if _, err := readReply(r); err != nil {
			return 0, err
		}
	}
	if _, err := c.Write(encodeCommand("INFO", "server")); err != nil {
		return 0, err
	}
	info, err := readReply(r)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(parseInfo(info)["process_id"])
	if err != nil {
		return 0, fmt.Errorf("redistest: INFO server without a process_id: %v", err)
	}
	return pid, nil
}

// encodeCommand renders a command as a RESP array of bulk strings.
func encodeCommand(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// readReply reads a simple string, an integer or a bulk string reply; an
// error reply becomes an error. Nothing else is needed by probe.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redistest: empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("redistest: bad bulk length %q", line)
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}
