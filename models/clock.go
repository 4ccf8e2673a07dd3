package models

import "time"

// Clock tells the time. Everything that schedules or times out takes one, so
// tests move time forward instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC so stored times compare as equals.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
