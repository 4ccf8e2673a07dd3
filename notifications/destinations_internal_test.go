package notifications

import (
	"testing"
	"time"
)

func TestDestinationsCache(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var d destinations
	if _, ok := d.get("p\x00sms", t0); ok {
		t.Fatal("empty cache answered")
	}
	d.put("p\x00sms", "+15550100", t0)
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{t0, true},
		{t0.Add(destinationTTL - time.Nanosecond), true},
		{t0.Add(destinationTTL), false},    // expired
		{t0.Add(-time.Millisecond), false}, // the clock was set back
	} {
		if to, ok := d.get("p\x00sms", c.at); ok != c.want || (ok && to != "+15550100") {
			t.Errorf("get at %v = %q, %v; want %v", c.at, to, ok, c.want)
		}
	}
	for i := range destinationsMax + 1 {
		d.put(string(rune(i)), "x", t0)
	}
	if len(d.m) > destinationsMax {
		t.Errorf("cache holds %d entries, max %d", len(d.m), destinationsMax)
	}
}
