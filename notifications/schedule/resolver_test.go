package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// fakeSource serves schedule sets from memory, counting loads.
type fakeSource struct {
	mu       sync.Mutex
	sets     map[string]models.ScheduleSet
	version  int64
	loads    int
	versions int
	fail     error
}

func (f *fakeSource) TeamScheduleSet(_ context.Context, team string, _, _ time.Time) (*models.ScheduleSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	if f.fail != nil {
		return nil, f.fail
	}
	set, ok := f.sets[team]
	if !ok {
		return nil, fmt.Errorf("finding team %q: %w", team, gorm.ErrRecordNotFound)
	}
	return &set, nil
}

func (f *fakeSource) SchedulesVersion(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions++
	return f.version, nil
}

func (f *fakeSource) set(team string, set models.ScheduleSet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets[team] = set
	f.version++
}

func (f *fakeSource) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loads, f.versions
}

// TestResolver: answers come from the cache until the TTL or a new
// schedules version; a business-hours layer is a gap at night; a team
// without a schedule for the role (or unknown) is not scheduled.
func TestResolver(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(ts("2026-03-02T10:00:00Z")) // a Monday
	business := rotation("business", pri, weekly, 1, "09:00", "mon", "2026-03-02", "alice", "bob")
	business.Windows = models.RotationWindows{{Weekdays: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}}
	src := &fakeSource{sets: map[string]models.ScheduleSet{"payments": oneSchedule("UTC", business)}}
	r := schedule.NewResolver(src, clock, schedule.ResolverOptions{TTL: 30 * time.Second, VersionCheck: 5 * time.Second})

	expect := func(team, role string, status schedule.Status, person string) {
		t.Helper()
		a, err := r.Lookup(ctx, team, role)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != status || a.Shift.PersonID != person {
			t.Errorf("%s at %s: %s %s = status %d person %q; want %d %q", team, clock.Now().Format(time.RFC3339), team, role, a.Status, a.Shift.PersonID, status, person)
		}
	}
	expect("payments", pri, schedule.StatusCovered, "alice")
	expect("payments", sec, schedule.StatusNotScheduled, "")
	expect("unknown-team", pri, schedule.StatusNotScheduled, "")
	if loads, _ := src.counts(); loads != 2 {
		t.Errorf("%d loads, want 2 (payments once, the unknown team once)", loads)
	}
	clock.Advance(4 * time.Second)
	expect("payments", pri, schedule.StatusCovered, "alice")
	if loads, _ := src.counts(); loads != 2 {
		t.Errorf("%d loads within the TTL, want still 2", loads)
	}

	// A change elsewhere shows at the next version check.
	override := override("o1", "carol", nil, "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z", 1)
	changed := oneSchedule("UTC", business)
	changed.Schedules[0].Overrides = []models.ScheduleOverride{override}
	src.set("payments", changed)
	expect("payments", pri, schedule.StatusCovered, "alice") // version read 4 s ago
	clock.Advance(time.Second)
	expect("payments", pri, schedule.StatusCovered, "carol")

	// Invalidate shows this replica's own changes at once.
	src.set("payments", oneSchedule("UTC", business))
	r.Invalidate()
	expect("payments", pri, schedule.StatusCovered, "alice")

	// After the window (17:00) the role is scheduled but nobody covers.
	clock.Set(ts("2026-03-02T18:00:00Z"))
	expect("payments", pri, schedule.StatusGap, "")
	// Next Monday Bob's week starts.
	clock.Set(ts("2026-03-09T09:00:00Z"))
	expect("payments", pri, schedule.StatusCovered, "bob")

	// A load failure is an error, not a wrong answer.
	src.mu.Lock()
	src.fail = errors.New("database down")
	src.mu.Unlock()
	clock.Advance(time.Minute)
	if _, err := r.Lookup(ctx, "payments", pri); err == nil {
		t.Error("a failed load answered")
	}
}

// benchTeams builds n teams with a weekly primary, a daily secondary and
// an hourly shadow rotation in assorted zones.
func benchTeams(n int) *fakeSource {
	src := &fakeSource{sets: map[string]models.ScheduleSet{}}
	for i := range n {
		zone := propertyZones[i%len(propertyZones)]
		people := []string{fmt.Sprintf("t%d-a", i), fmt.Sprintf("t%d-b", i), fmt.Sprintf("t%d-c", i), fmt.Sprintf("t%d-d", i)}
		src.sets[fmt.Sprintf("team-%d", i)] = oneSchedule(zone,
			rotation("weekly", pri, weekly, 1, "09:00", "mon", "2026-01-05", people...),
			rotation("daily", sec, daily, 1, "10:00", "", "2026-01-05", people[1:]...),
			rotation("shadow", models.RotationShadow, hourly, 8, "06:00", "", "2026-01-05", people[2:]...))
	}
	return src
}

// BenchmarkResolverLookup: who is on call for 1,000 teams × 3 roles at an
// arbitrary instant, caches warm. ns/op is one lookup.
func BenchmarkResolverLookup(b *testing.B) {
	ctx := context.Background()
	const teams = 1000
	src := benchTeams(teams)
	clock := fakeclock.New(ts("2026-03-04T15:37:00Z"))
	r := schedule.NewResolver(src, clock, schedule.ResolverOptions{TTL: time.Hour})
	roles := []string{pri, sec, models.RotationShadow}
	for i := range teams {
		for _, role := range roles {
			if a, err := r.Lookup(ctx, fmt.Sprintf("team-%d", i), role); err != nil || a.Status != schedule.StatusCovered {
				b.Fatalf("warming team-%d %s: %+v, %v", i, role, a, err)
			}
		}
	}
	names := make([]string, teams)
	for i := range names {
		names[i] = fmt.Sprintf("team-%d", i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := r.Lookup(ctx, names[rng.IntN(teams)], roles[i%3]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCalendarOnCall: the uncached computation for one team.
func BenchmarkCalendarOnCall(b *testing.B) {
	src := benchTeams(1)
	c, err := schedule.New(src.sets["team-0"])
	if err != nil {
		b.Fatal(err)
	}
	at := ts("2026-03-04T15:37:00Z")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.OnCall(at, pri); !ok {
			b.Fatal("nobody on call")
		}
	}
}
