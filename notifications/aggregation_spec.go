package notifications

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
)

// AggregationSpec is a plan's aggregation in the file:
//
//	aggregation: {threshold_count: 10, threshold_window: 5m, batch_window: 1m}
//
// More than threshold_count incidents started on the plan within
// threshold_window, and each person's further pages of the plan go out in
// batches, one message per batch_window (default 1m) that claims them all.
type AggregationSpec struct {
	ThresholdCount  int    `yaml:"threshold_count"`
	ThresholdWindow string `yaml:"threshold_window"`
	BatchWindow     string `yaml:"batch_window,omitempty"`
}

// Aggregation bounds.
const (
	maxThresholdWindow = 24 * time.Hour
	minBatchWindow     = 10 * time.Second
	maxBatchWindow     = time.Hour
)

func (v *validator) aggregation(path string, a *AggregationSpec) {
	at := func(field string) string { return path + "." + field }
	if a.ThresholdCount < 1 {
		v.errs.add(at("threshold_count"), "must be 1 or more incidents, not %d", a.ThresholdCount)
	}
	switch d, err := time.ParseDuration(a.ThresholdWindow); {
	case a.ThresholdWindow == "":
		v.errs.add(at("threshold_window"), "required (a duration, like 5m)")
	case err != nil:
		v.errs.add(at("threshold_window"), "%q is not a duration (like 5m or 1h)", a.ThresholdWindow)
	case d < time.Second || d > maxThresholdWindow:
		v.errs.add(at("threshold_window"), "must be between 1s and %s, not %s", maxThresholdWindow, d)
	}
	if a.BatchWindow == "" {
		return
	}
	switch d, err := time.ParseDuration(a.BatchWindow); {
	case err != nil:
		v.errs.add(at("batch_window"), "%q is not a duration (like 1m)", a.BatchWindow)
	case d < minBatchWindow || d > maxBatchWindow:
		v.errs.add(at("batch_window"), "must be between %s and %s, not %s", minBatchWindow, maxBatchWindow, d)
	}
}

// planAggregation converts a validated spec for storage.
func planAggregation(a *AggregationSpec) *models.PlanAggregation {
	if a == nil {
		return nil
	}
	tw, _ := time.ParseDuration(a.ThresholdWindow)
	out := &models.PlanAggregation{ThresholdCount: a.ThresholdCount, ThresholdWindowSeconds: int(tw / time.Second)}
	if bw, err := time.ParseDuration(a.BatchWindow); err == nil && a.BatchWindow != "" {
		out.BatchWindowSeconds = int(bw / time.Second)
	}
	return out
}

// aggregationSpec converts a stored aggregation back for export.
func aggregationSpec(a *models.PlanAggregation) *AggregationSpec {
	if a == nil {
		return nil
	}
	out := &AggregationSpec{ThresholdCount: a.ThresholdCount, ThresholdWindow: fmtDuration(a.ThresholdWindowSeconds)}
	if a.BatchWindowSeconds > 0 {
		out.BatchWindow = fmtDuration(a.BatchWindowSeconds)
	}
	return out
}

// fmtDuration writes seconds the way people write them: 5m, not 5m0s.
func fmtDuration(seconds int) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return d.String()
	}
}
