package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestListIncidents(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := db.Store
		rep, err := s.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", DisplayName: "Rita"})
		if err != nil {
			t.Fatal(err)
		}
		lead, err := s.UpsertSlackUser(ctx, models.SlackUser{ID: "U2", DisplayName: "Leo"})
		if err != nil {
			t.Fatal(err)
		}
		// #1..#60: #3, #6... resolved (20); #2, #4... not multiples of 3 monitoring.
		for i := 1; i <= 60; i++ {
			inc, _, err := s.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprintf("incident %d", i), ReporterID: &rep.ID, LeadID: &lead.ID})
			if err != nil {
				t.Fatal(err)
			}
			var st models.Status
			switch {
			case i%3 == 0:
				st = models.StatusResolved
			case i%2 == 0:
				st = models.StatusMonitoring
			default:
				continue
			}
			if _, err := s.ChangeIncident(ctx, inc.ID, nil, func(inc *models.Incident) (models.Change, error) {
				inc.Status = st
				return models.Change{}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}

		numbers := func(incs []models.Incident) []int64 {
			var out []int64
			for _, inc := range incs {
				out = append(out, inc.Number)
			}
			return out
		}
		tests := []struct {
			f           models.IncidentFilter
			total       int64
			n           int
			first, last int64
		}{
			{models.IncidentFilter{}, 60, models.DefaultIncidentListLimit, 60, 11},
			{models.IncidentFilter{Limit: 10, Offset: 55}, 60, 5, 5, 1},
			{models.IncidentFilter{Limit: 10, Offset: 60}, 60, 0, 0, 0},
			{models.IncidentFilter{Limit: 10_000}, 60, 60, 60, 1},
			{models.IncidentFilter{Status: "open"}, 40, 40, 59, 1},
			{models.IncidentFilter{Status: " RESOLVED ", Limit: 5, Offset: 5}, 20, 5, 45, 33},
			{models.IncidentFilter{Status: "monitoring"}, 20, 20, 58, 2},
			{models.IncidentFilter{Status: "investigating"}, 20, 20, 59, 1},
		}
		for _, tt := range tests {
			got, total, err := s.ListIncidents(ctx, tt.f)
			if err != nil {
				t.Fatalf("%+v: %v", tt.f, err)
			}
			nums := numbers(got)
			if total != tt.total || len(got) != tt.n {
				t.Errorf("%+v: total %d, %d incidents %v; want total %d, %d incidents", tt.f, total, len(got), nums, tt.total, tt.n)
				continue
			}
			if tt.n > 0 && (nums[0] != tt.first || nums[len(nums)-1] != tt.last) {
				t.Errorf("%+v: listed %v, want #%d..#%d", tt.f, nums, tt.first, tt.last)
			}
			for i := 1; i < len(nums); i++ {
				if nums[i] >= nums[i-1] {
					t.Errorf("%+v: not newest first: %v", tt.f, nums)
					break
				}
			}
			for _, inc := range got {
				if inc.Reporter == nil || inc.Reporter.DisplayName != "Rita" || inc.Lead == nil || inc.Lead.DisplayName != "Leo" {
					t.Fatalf("%+v: #%d reporter/lead not preloaded: %+v %+v", tt.f, inc.Number, inc.Reporter, inc.Lead)
				}
			}
		}
		for _, bad := range []models.IncidentFilter{{Status: "closed"}, {Limit: -1}, {Offset: -1}} {
			if _, _, err := s.ListIncidents(ctx, bad); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("%+v: err = %v, want ErrInvalid", bad, err)
			}
		}
	})
}
