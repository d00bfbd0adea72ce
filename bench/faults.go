package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
)

// fault is one scenario: the servers it needs, the traffic, and what it
// does to the servers from the end of the lead-in on. Every time in it is
// a multiple of the time scale d (-duration, 1 s by default), so the
// default run has the durations its description gives.
type fault struct {
	name  string
	title string
	what  func(d time.Duration) string // what is done, for the report
	env   envSpec
	// incrOnly makes every call an INCR (else GET and INCR alternate).
	incrOnly bool
	// length is the planned time from the fault's start to its end.
	length func(d time.Duration) time.Duration
	// inject runs the fault on one contender's servers; it is called for
	// every contender at once.
	inject func(s *schedule, e *env) (episode, error)
}

// episode is when a fault was on for one contender, in offsets from T0.
type episode struct {
	// On are the intervals during which the fault was in force.
	On [][2]time.Duration
	// End is when the fault ended (the last interval's end): recovery is
	// measured from here. Negative when there is no fault.
	End time.Duration
}

// schedule is the timeline of one fault run.
type schedule struct {
	ctx  context.Context
	t0   time.Time
	d    time.Duration // the time scale
	lead time.Duration // when the fault starts
}

// at waits until offset off from T0.
func (s *schedule) at(off time.Duration) error {
	t := time.NewTimer(time.Until(s.t0.Add(off)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// now returns the offset from T0.
func (s *schedule) now() time.Duration { return time.Since(s.t0) }

// scale returns f times d, at least min.
func scale(d time.Duration, f float64, min time.Duration) time.Duration {
	return max(time.Duration(float64(d)*f), min)
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return strings.TrimSuffix(fmt.Sprintf("%.2f", d.Seconds()), "0") + " s"
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// aof keeps a killed server's data: every command is written to the AOF
// before its reply, and a process kill loses nothing the kernel has, so
// an INCR that ran before a kill and again after the restart shows as 2.
var aof = []string{"--appendonly", "yes", "--appendfsync", "no"}

var faults = []fault{
	{
		name:   "steady",
		title:  "steady (no fault)",
		what:   func(time.Duration) string { return "No fault: the success path against a healthy server." },
		env:    envSpec{kind: direct},
		length: func(time.Duration) time.Duration { return 0 },
		inject: func(*schedule, *env) (episode, error) { return episode{End: -1}, nil },
	},
	{
		name:  "blips",
		title: "blips (every connection killed every second)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("Clients connect through a Toxiproxy proxy. Every %s for %s (4 times), the proxy "+
				"is stopped and started again: every client connection is closed under whatever it was doing, "+
				"and for a moment new connections are refused.", ms(d), ms(3*d))
		},
		env:    envSpec{kind: proxied},
		length: func(d time.Duration) time.Duration { return 3 * d },
		inject: func(s *schedule, e *env) (episode, error) {
			var ep episode
			for k := range 4 {
				if err := s.at(s.lead + time.Duration(k)*s.d); err != nil {
					return ep, err
				}
				e.proxy.Stop()
				if err := e.proxy.Start(); err != nil {
					return ep, err
				}
			}
			ep.End = s.now()
			ep.On = [][2]time.Duration{{s.lead, ep.End}}
			return ep, nil
		},
	},
	{
		name:  "restart",
		title: "restart (server killed, back after 300 ms)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("The server (AOF on, so nothing it ran is lost) is killed with SIGKILL and started "+
				"again on the same port %s later; it reloads its data (LOADING) before it serves. The fault "+
				"ends when the new process answers.", ms(scale(d, 0.3, time.Millisecond)))
		},
		env:    envSpec{kind: direct, args: aof},
		length: func(d time.Duration) time.Duration { return scale(d, 0.3, time.Millisecond) },
		inject: func(s *schedule, e *env) (episode, error) { return killFor(s, e, scale(s.d, 0.3, time.Millisecond)) },
	},
	{
		name:  "outage",
		title: "outage (server killed for 5 s)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("As restart, but the server stays dead for %s: its port refuses connections.", ms(5*d))
		},
		env:    envSpec{kind: direct, args: aof},
		length: func(d time.Duration) time.Duration { return 5 * d },
		inject: func(s *schedule, e *env) (episode, error) { return killFor(s, e, 5*s.d) },
	},
	{
		name:  "freeze",
		title: "freeze (SIGSTOP 2 s, three times)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("The server is stopped with SIGSTOP for %s, then resumed for %s, three times: "+
				"the kernel still accepts connections and buffers requests, but nothing answers.", ms(2*d), ms(d))
		},
		env:    envSpec{kind: direct},
		length: func(d time.Duration) time.Duration { return 8 * d },
		inject: func(s *schedule, e *env) (episode, error) {
			var ep episode
			for k := range 3 {
				from := s.lead + time.Duration(3*k)*s.d
				if err := s.at(from); err != nil {
					return ep, err
				}
				if err := e.primary.Freeze(); err != nil {
					return ep, err
				}
				on := s.now()
				if err := s.at(from + 2*s.d); err != nil {
					_ = e.primary.Thaw()
					return ep, err
				}
				if err := e.primary.Thaw(); err != nil {
					return ep, err
				}
				ep.End = s.now()
				ep.On = append(ep.On, [2]time.Duration{on, ep.End})
			}
			return ep, nil
		},
	},
	{
		name:  "latency",
		title: "latency (400 ms added to replies, then removed)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("Clients connect through a Toxiproxy proxy; a latency toxic delays every reply by "+
				"%s for %s, then is removed.", ms(scale(d, 0.4, time.Millisecond)), ms(3*d))
		},
		env:    envSpec{kind: proxied},
		length: func(d time.Duration) time.Duration { return 3 * d },
		inject: func(s *schedule, e *env) (episode, error) {
			var ep episode
			if err := s.at(s.lead); err != nil {
				return ep, err
			}
			lat := scale(s.d, 0.4, time.Millisecond)
			if err := addToxic(e.proxy, fmt.Sprintf(`{"name":"latency","type":"latency","stream":"downstream",`+
				`"attributes":{"latency":%d}}`, lat.Milliseconds())); err != nil {
				return ep, err
			}
			on := s.now()
			if err := s.at(s.lead + 3*s.d); err != nil {
				return ep, err
			}
			if err := e.proxy.Toxics.RemoveToxic(s.ctx, "latency"); err != nil {
				return ep, err
			}
			ep.End = s.now()
			ep.On = [][2]time.Duration{{on, ep.End}}
			return ep, nil
		},
	},
	{
		name:  "lost",
		title: "lost replies (connections cut after the command went out; INCR only)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("Only INCR traffic, each on its own key. Clients connect through a Toxiproxy proxy; "+
				"every %s for %s, a reset_peer toxic on the replies is added for %s: every connection "+
				"whose reply comes back meanwhile is closed and the reply dropped, so the INCR ran and the "+
				"client cannot know.", ms(d/4), ms(3*d), ms(scale(d, 0.02, 2*time.Millisecond)))
		},
		env:      envSpec{kind: proxied},
		incrOnly: true,
		length:   func(d time.Duration) time.Duration { return 3 * d },
		inject: func(s *schedule, e *env) (episode, error) {
			var ep episode
			width := scale(s.d, 0.02, 2*time.Millisecond)
			for at := s.lead; at < s.lead+3*s.d; at += s.d / 4 {
				if err := s.at(at); err != nil {
					return ep, err
				}
				if err := addToxic(e.proxy, `{"name":"lost","type":"reset_peer","stream":"downstream",`+
					`"attributes":{"timeout":0}}`); err != nil {
					return ep, err
				}
				if err := s.at(at + width); err != nil {
					return ep, err
				}
				if err := e.proxy.Toxics.RemoveToxic(s.ctx, "lost"); err != nil {
					return ep, err
				}
			}
			ep.End = s.now()
			ep.On = [][2]time.Duration{{s.lead, ep.End}}
			return ep, nil
		},
	},
	{
		name:  "failover",
		title: "failover (a replica promoted while writes run)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("A master filled with keys and its replica; clients reach the master through a "+
				"Toxiproxy proxy that plays the virtual IP. The replica is promoted (REPLICAOF NO ONE); %s later "+
				"the old master, which took writes meanwhile, is made its replica (REPLICAOF), so it answers "+
				"READONLY to writes and LOADING while it reloads the new master's data; %s after the promotion "+
				"the proxy is pointed at the new master, closing every connection. The fault ends then.",
				ms(d/20), ms(d))
		},
		env:    envSpec{kind: failover},
		length: func(d time.Duration) time.Duration { return d },
		inject: func(s *schedule, e *env) (episode, error) {
			var ep episode
			if err := s.at(s.lead); err != nil {
				return ep, err
			}
			on := s.now()
			if _, err := e.replica.Do("REPLICAOF", "NO", "ONE"); err != nil {
				return ep, err
			}
			e.counterOf(e.replica).becomeReplica(false)
			if err := s.at(s.lead + s.d/20); err != nil {
				return ep, err
			}
			if _, err := e.primary.Do("REPLICAOF", "127.0.0.1", fmt.Sprint(e.replica.Port())); err != nil {
				return ep, err
			}
			e.counterOf(e.primary).becomeReplica(true)
			if err := s.at(s.lead + s.d); err != nil {
				return ep, err
			}
			if err := e.proxy.Update(&toxiproxy.Proxy{Listen: e.proxy.Listen, Upstream: e.replica.Addr(), Enabled: true}); err != nil {
				return ep, err
			}
			ep.End = s.now()
			ep.On = [][2]time.Duration{{on, ep.End}}
			return ep, nil
		},
	},
	{
		name:  "cluster",
		title: "cluster (3 masters, one frozen)",
		what: func(d time.Duration) string {
			return fmt.Sprintf("A Redis Cluster of 3 masters (no replicas, node timeout 5 s, full coverage not "+
				"required); keys spread over all three. One master is frozen with SIGSTOP for %s.", ms(3*d))
		},
		env:    envSpec{kind: cluster},
		length: func(d time.Duration) time.Duration { return 3 * d },
		inject: func(s *schedule, e *env) (episode, error) {
			var ep episode
			if err := s.at(s.lead); err != nil {
				return ep, err
			}
			frozen := e.cluster.Masters()[1]
			if err := frozen.Freeze(); err != nil {
				return ep, err
			}
			on := s.now()
			if err := s.at(s.lead + 3*s.d); err != nil {
				_ = frozen.Thaw()
				return ep, err
			}
			if err := frozen.Thaw(); err != nil {
				return ep, err
			}
			ep.End = s.now()
			ep.On = [][2]time.Duration{{on, ep.End}}
			return ep, nil
		},
	},
}

// killFor kills e's server at the lead and restarts it after down; the
// fault ends when the new process answers.
func killFor(s *schedule, e *env, down time.Duration) (episode, error) {
	var ep episode
	if err := s.at(s.lead); err != nil {
		return ep, err
	}
	e.counterOf(e.primary).beforeKill()
	e.primary.Kill()
	on := s.now()
	if err := s.at(on + down); err != nil {
		return ep, err
	}
	if err := e.primary.Restart(); err != nil {
		return ep, err
	}
	ep.End = s.now()
	ep.On = [][2]time.Duration{{on, ep.End}}
	return ep, nil
}

func addToxic(p *toxiproxy.Proxy, js string) error {
	_, err := p.Toxics.AddToxicJson(strings.NewReader(js))
	return err
}

// faultNamed returns the fault called name.
func faultNamed(name string) (fault, error) {
	for _, f := range faults {
		if f.name == name {
			return f, nil
		}
	}
	names := make([]string, len(faults))
	for i, f := range faults {
		names[i] = f.name
	}
	return fault{}, fmt.Errorf("no fault %q (have %s)", name, strings.Join(names, ", "))
}
