package retryableotel

import (
	"net"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// setKind is the shape of an attribute set.
type setKind uint8

const (
	kindCall       setKind = iota // db.operation.name, error.type
	kindGiveUp                    // + retryable.reason
	kindRefusal                   // db.operation.name, retryable.refused_by, server.*
	kindTransition                // server.*, both states
	kindState                     // server.*, one state
)

// setKey identifies one attribute set. It is comparable, so that a map
// lookup finds a set without allocating.
type setKey struct {
	kind     setKind
	cmd      string
	class    retryable.Class
	reason   string
	by       string
	node     string
	from, to breaker.State
}

// measure holds the options that give a measurement one attribute set, as the
// slices the instruments' variadic methods take: passing a slice made once
// spares each measurement an allocation.
type measure struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

// set returns the options carrying the attributes of k, made once per
// distinct k. Past maxSets distinct sets it stops caching, so that an
// unbounded set of command names costs allocations, not memory.
func (m *Metrics) set(k setKey) measure {
	m.mu.RLock()
	o, ok := m.sets[k]
	m.mu.RUnlock()
	if ok {
		return o
	}
	a := metric.WithAttributeSet(attribute.NewSet(m.attrs(k)...))
	o = measure{add: []metric.AddOption{a}, rec: []metric.RecordOption{a}}
	m.mu.Lock()
	if len(m.sets) < m.maxSets {
		m.sets[k] = o
	}
	m.mu.Unlock()
	return o
}

func (m *Metrics) attrs(k setKey) []attribute.KeyValue {
	kv := append(make([]attribute.KeyValue, 0, len(m.base)+5), m.base...)
	switch k.kind {
	case kindCall, kindGiveUp:
		kv = append(kv, attribute.String("db.operation.name", strings.ToUpper(k.cmd)),
			attribute.String("error.type", k.class.String()))
		if k.kind == kindGiveUp {
			kv = append(kv, AttrReason.String(snake(k.reason)))
		}
	case kindRefusal:
		kv = append(kv, attribute.String("db.operation.name", strings.ToUpper(k.cmd)), AttrRefusedBy.String(k.by))
		kv = appendServer(kv, k.node)
	case kindTransition:
		kv = appendServer(kv, k.node)
		kv = append(kv, AttrBreakerState.String(snake(k.to.String())),
			AttrBreakerPreviousState.String(snake(k.from.String())))
	case kindState:
		kv = appendServer(kv, k.node)
		kv = append(kv, AttrBreakerState.String(snake(k.to.String())))
	}
	return kv
}

// appendServer adds server.address and server.port for a node "host:port";
// a node named otherwise has only server.address, and no node nothing.
func appendServer(kv []attribute.KeyValue, node string) []attribute.KeyValue {
	if node == "" {
		return kv
	}
	host, port, err := net.SplitHostPort(node)
	if err != nil {
		return append(kv, attribute.String("server.address", node))
	}
	kv = append(kv, attribute.String("server.address", host))
	if p, err := strconv.Atoi(port); err == nil {
		kv = append(kv, attribute.Int("server.port", p))
	}
	return kv
}

// snake turns a name such as "attempts exhausted" or "half-open" into an
// attribute value: lowercase, words joined by underscores.
func snake(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-':
			return '_'
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
