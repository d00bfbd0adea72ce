package redistest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// CommandStat is a command's line of INFO commandstats: the server's own
// count of how often the command reached it. The zero value is a command
// that never did.
type CommandStat struct {
	// Calls counts the runs of the command, the failed ones included.
	Calls int64
	// Rejected counts the times the server refused the command before it
	// ran: a wrong number of arguments, LOADING, READONLY, BUSY, OOM, ...
	Rejected int64
	// Failed counts the runs that ended with an error reply, such as
	// WRONGTYPE or a failing script.
	Failed int64
}

// Reached returns how many times the command reached the server: its
// runs and its rejections.
func (c CommandStat) Reached() int64 { return c.Calls + c.Rejected }

// CommandStat returns the server's INFO commandstats line for the command
// name: lowercase, and "client|kill" for a subcommand. It is zero when the
// command never reached the server (or after Restart). It fails the test
// when the server does not answer or the line does not parse.
func (s *Server) CommandStat(t testing.TB, name string) CommandStat {
	t.Helper()
	line, ok := s.Info(t, "commandstats")["cmdstat_"+name]
	if !ok {
		return CommandStat{}
	}
	st, err := parseCommandStat(line)
	if err != nil {
		t.Fatalf("redistest: %s INFO commandstats cmdstat_%s: %v", s.Addr(), name, err)
	}
	return st
}

// ErrorStat returns how many error replies with code, such as "LOADING"
// or "ERR", the server has sent (INFO errorstats): zero when it never sent
// one. It fails the test when the server does not answer or the line does
// not parse.
func (s *Server) ErrorStat(t testing.TB, code string) int64 {
	t.Helper()
	line, ok := s.Info(t, "errorstats")["errorstat_"+code]
	if !ok {
		return 0
	}
	n, err := parseErrorStat(line)
	if err != nil {
		t.Fatalf("redistest: %s INFO errorstats errorstat_%s: %v", s.Addr(), code, err)
	}
	return n
}

// parseCommandStat parses the value of a cmdstat_ field, such as
// "calls=2,usec=5,usec_per_call=2.50,rejected_calls=1,failed_calls=0".
// Fields it does not keep are skipped; calls must be there.
func parseCommandStat(line string) (CommandStat, error) {
	var st CommandStat
	seen := false
	for field := range strings.SplitSeq(line, ",") {
		k, v, _ := strings.Cut(field, "=")
		var dst *int64
		switch k {
		case "calls":
			dst, seen = &st.Calls, true
		case "rejected_calls":
			dst = &st.Rejected
		case "failed_calls":
			dst = &st.Failed
		default:
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return CommandStat{}, fmt.Errorf("bad field %q in %q", field, line)
		}
		*dst = n
	}
	if !seen {
		return CommandStat{}, fmt.Errorf("no calls field in %q", line)
	}
	return st, nil
}

// parseErrorStat parses the value of an errorstat_ field, "count=3".
func parseErrorStat(line string) (int64, error) {
	v, ok := strings.CutPrefix(line, "count=")
	n, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil {
		return 0, fmt.Errorf("want count=N, got %q", line)
	}
	return n, nil
}
