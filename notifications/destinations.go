package notifications

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// destinationTTL is how long a person's address for a mode is reused
// without reading it again. In an alert storm the same on-call person is
// paged hundreds of times a second; a contact method changed, unverified
// or opted out (STOP) is honoured within this time. A person without an
// address is never cached, so one added is used at once.
const destinationTTL = time.Second

// destinations caches where each person is reached in each mode. The zero
// value is ready.
type destinations struct {
	mu sync.Mutex
	m  map[string]cachedDestination
}

type cachedDestination struct {
	to string
	at time.Time
}

// destinationsMax bounds the cache (a storm paging many people).
const destinationsMax = 10_000

// destination finds where a message goes, through the cache (see
// lookupDestination).
func (e *Engine) destination(ctx context.Context, m *models.Message) (string, error) {
	if m.PersonID == nil {
		return e.lookupDestination(ctx, m)
	}
	key := *m.PersonID + "\x00" + m.Mode
	now := e.clock.Now()
	if to, ok := e.dests.get(key, now); ok {
		return to, nil
	}
	to, err := e.lookupDestination(ctx, m)
	if err == nil {
		e.dests.put(key, to, now)
	}
	return to, err
}

func (d *destinations) get(key string, now time.Time) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.m[key]
	// A clock set back must not make an old entry live longer.
	if !ok || now.Before(c.at) || !now.Before(c.at.Add(destinationTTL)) {
		return "", false
	}
	return c.to, true
}

func (d *destinations) put(key, to string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= destinationsMax {
		d.m = map[string]cachedDestination{}
	}
	d.m[key] = cachedDestination{to: to, at: now}
}
