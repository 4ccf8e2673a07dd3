package notifications

import (
	"errors"
	"fmt"
)

// Priorities, lowest first.
var Priorities = []string{"low", "medium", "high", "urgent"}

// DefaultModes is how a priority reaches someone who has set no
// preference (Iris's defaults, with Slack for the quiet ones).
var DefaultModes = map[string][]Mode{
	"low":    {ModeSlack},
	"medium": {ModeSlack, ModeEmail},
	"high":   {ModeSMS},
	"urgent": {ModeCall},
}

// ErrDuplicateVendor means a vendor name was registered twice.
var ErrDuplicateVendor = errors.New("duplicate vendor")

// Vendors holds the vendors of each mode, in failover order. It is a value
// built by cmd/herald; a test builds its own.
type Vendors struct {
	byMode map[Mode][]Vendor
	names  map[string]bool
}

// NewVendors returns an empty registry.
func NewVendors() *Vendors { return &Vendors{byMode: map[Mode][]Vendor{}, names: map[string]bool{}} }

// Register adds a vendor after the ones already registered for its modes.
func (v *Vendors) Register(vendor Vendor) error {
	if v.names[vendor.Name()] {
		return fmt.Errorf("%w: %q", ErrDuplicateVendor, vendor.Name())
	}
	v.names[vendor.Name()] = true
	for _, m := range vendor.Modes() {
		v.byMode[m] = append(v.byMode[m], vendor)
	}
	return nil
}

// For lists the vendors of a mode in failover order.
func (v *Vendors) For(m Mode) []Vendor { return v.byMode[m] }

// ValidPriority reports whether p is a known priority.
func ValidPriority(p string) bool {
	for _, q := range Priorities {
		if p == q {
			return true
		}
	}
	return false
}
