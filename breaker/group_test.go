package breaker

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGroup(t *testing.T) {
	rec := &recorder{}
	g, err := NewGroup(Settings{ConsecutiveFailures: 2, OpenTimeout: time.Minute, OnStateChange: rec.OnStateChange})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Each(func(b *Breaker) { stop(t, b) })
	a, b := g.Get("a:6379"), g.Get("b:6379")
	if a == b || g.Get("a:6379") != a || a.Node() != "a:6379" || b.Node() != "b:6379" {
		t.Fatal("Get does not return one breaker per node")
	}
	calls(t, a, Failure, 2)
	wantState(t, a, Open)
	wantState(t, b, Closed)
	call(t, b, Success)
	refused(t, a)
	wantEvents(t, rec, "a:6379: closed->open")

	var nodes []string
	g.Get("c:6379")
	g.Each(func(br *Breaker) { nodes = append(nodes, br.Node()+"="+br.State().String()) })
	if got := strings.Join(nodes, ","); got != "a:6379=open,b:6379=closed,c:6379=closed" {
		t.Fatalf("Each visited %s", got)
	}

	g.Remove("a:6379")
	g.Remove("nope")
	if a2 := g.Get("a:6379"); a2 == a || a2.State() != Closed {
		t.Fatal("Get after Remove does not make a fresh breaker")
	}
	refused(t, a) // the removed breaker still works for whoever holds it
}

func TestGroupConcurrentGet(t *testing.T) {
	g, err := NewGroup(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	const workers, nodes = 8, 50
	got := make([][]*Breaker, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range nodes {
				got[w] = append(got[w], g.Get(fmt.Sprintf("n%d", (i+w)%nodes)))
			}
		})
	}
	wg.Wait()
	count := 0
	g.Each(func(*Breaker) { count++ })
	if count != nodes {
		t.Fatalf("group holds %d breakers, want %d", count, nodes)
	}
	for w := range workers {
		for i, br := range got[w] {
			if want := g.Get(fmt.Sprintf("n%d", (i+w)%nodes)); br != want {
				t.Fatalf("worker %d got a second breaker for %s", w, br.Node())
			}
		}
	}
}

func TestNilGroup(t *testing.T) {
	var g *Group
	if g.Get("x") != nil {
		t.Fatal("nil group returned a breaker")
	}
	g.Remove("x")
	g.Each(func(*Breaker) { t.Fatal("nil group has breakers") })
	if _, err := g.Get("x").Allow(); err != nil {
		t.Fatalf("nil group's breaker refused: %v", err)
	}
}
