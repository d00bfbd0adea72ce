package redistest

import "testing"

func TestCommandStatAndErrorStat(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Do(t, "SET", "str", "text")
	s.Do(t, "SET", "str", "text")
	if _, err := s.DoErr("INCR", "str"); err == nil {
		t.Fatal("INCR on a string succeeded")
	}
	if _, err := s.DoErr("GET"); err == nil {
		t.Fatal("GET without a key succeeded")
	}
	if _, err := s.DoErr("LPUSH", "str", "x"); err == nil {
		t.Fatal("LPUSH on a string succeeded")
	}
	s.Do(t, "CLIENT", "LIST")

	tests := []struct {
		name string
		want CommandStat
	}{
		{"set", CommandStat{Calls: 2}},
		{"incr", CommandStat{Calls: 1, Failed: 1}},
		{"get", CommandStat{Rejected: 1}},
		{"lpush", CommandStat{Calls: 1, Failed: 1}},
		{"client|list", CommandStat{Calls: 1}},
		{"hget", CommandStat{}}, // never sent
	}
	for _, tt := range tests {
		if got := s.CommandStat(t, tt.name); got != tt.want {
			t.Errorf("CommandStat(%q) = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got := s.CommandStat(t, "get").Reached() + s.CommandStat(t, "incr").Reached(); got != 2 {
		t.Errorf("GET and INCR reached the server %d times, want 2 (one rejected, one failed)", got)
	}
	for code, want := range map[string]int64{"ERR": 2, "WRONGTYPE": 1, "LOADING": 0} {
		if got := s.ErrorStat(t, code); got != want {
			t.Errorf("ErrorStat(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestParseCommandStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line    string
		want    CommandStat
		wantErr bool
	}{
		{"calls=3,usec=12,usec_per_call=4.00,rejected_calls=2,failed_calls=1", CommandStat{3, 2, 1}, false},
		{"calls=7,usec=1,usec_per_call=0.14", CommandStat{Calls: 7}, false}, // Redis 6: no rejected or failed counts
		{"usec=1,calls=0,rejected_calls=5,failed_calls=0", CommandStat{Rejected: 5}, false},
		{"calls=x,usec=1", CommandStat{}, true},
		{"calls=1,rejected_calls=,failed_calls=0", CommandStat{}, true},
		{"usec=1,rejected_calls=1", CommandStat{}, true},
		{"", CommandStat{}, true},
	}
	for _, tt := range tests {
		got, err := parseCommandStat(tt.line)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseCommandStat(%q) = %+v, %v; want %+v, error %v", tt.line, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseErrorStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line    string
		want    int64
		wantErr bool
	}{
		{"count=3", 3, false},
		{"count=0", 0, false},
		{"count=", 0, true},
		{"3", 0, true},
		{"count=3,other=1", 0, true},
	}
	for _, tt := range tests {
		got, err := parseErrorStat(tt.line)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseErrorStat(%q) = %d, %v; want %d, error %v", tt.line, got, err, tt.want, tt.wantErr)
		}
	}
}
