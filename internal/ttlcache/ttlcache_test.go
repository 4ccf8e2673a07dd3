package ttlcache

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	c := New[string, int](time.Second, 3, func() time.Time { return now })
	c.Put("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v; want 1, true", v, ok)
	}
	now = now.Add(999 * time.Millisecond)
	if _, ok := c.Get("a"); !ok {
		t.Fatal("entry expired before its TTL")
	}
	now = now.Add(time.Millisecond)
	if _, ok := c.Get("a"); ok {
		t.Fatal("entry served after its TTL")
	}
	c.Put("a", 1)
	now = now.Add(-time.Hour) // the clock is set back
	if _, ok := c.Get("a"); ok {
		t.Fatal("entry stored later than now served")
	}
	c.Put("b", 2)
	c.Delete("b")
	if _, ok := c.Get("b"); ok {
		t.Fatal("deleted entry served")
	}
	for i, k := range []string{"c", "d", "e", "f", "g"} {
		c.Put(k, i)
		if len(c.m) > c.Max {
			t.Fatalf("cache holds %d entries, max %d", len(c.m), c.Max)
		}
	}
	if v, ok := c.Get("g"); !ok || v != 4 {
		t.Fatalf("latest entry lost: %d, %v", v, ok)
	}
	c.Clear()
	if _, ok := c.Get("g"); ok {
		t.Fatal("cleared entry served")
	}
}
