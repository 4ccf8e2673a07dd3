package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func planMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPlanDrafts: web saves are draft versions numbered after the newest;
// publishing one makes it the active version the engine looks up.
func TestPlanDrafts(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := db.Store
		now := db.Store.Clock().Now()
		team := &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: now, UpdatedAt: now}
		other := &models.Team{ID: uuid.NewString(), Name: "search", CreatedAt: now, UpdatedAt: now}
		slack := "UANN"
		ann := &models.Person{ID: uuid.NewString(), Name: "ann", SlackUserID: &slack, Active: true, CreatedAt: now, UpdatedAt: now}
		for _, v := range []any{team, other, ann, &models.MessageTemplate{Name: "short", Definition: "{}", UpdatedAt: now}} {
			planMust(t, db.Gorm.Create(v).Error)
		}

		if _, _, err := s.SavePlanDraft(ctx, models.PlanDraft{Name: "db", Definition: `{"steps":[]}`}); !errors.Is(err, models.ErrNoActor) {
			t.Fatalf("save without actor: %v", err)
		}
		plan, v1, err := s.SavePlanDraft(ctx, models.PlanDraft{Name: "db", TeamID: &team.ID, Definition: `{"steps":[1]}`, CreatedBy: "web:ada"})
		planMust(t, err)
		if plan.ActiveVersion != 0 || v1.Version != 1 || !v1.Draft || v1.CreatedBy != "web:ada" {
			t.Fatalf("first save: %+v %+v", plan, v1)
		}
		if _, _, err := s.SavePlanDraft(ctx, models.PlanDraft{Name: "db", Definition: "{}", CreatedBy: "web:ada"}); !errors.Is(err, models.ErrPlanExists) {
			t.Fatalf("second plan db: %v", err)
		}
		if _, err := s.ActivePlanVersion(ctx, "db"); !models.IsNotFound(err) {
			t.Fatalf("a draft is active: %v", err)
		}
		before, err := s.PublishPlanVersion(ctx, plan.ID, 1)
		planMust(t, err)
		if before != 0 {
			t.Fatalf("active before: %d", before)
		}
		_, v2, err := s.SavePlanDraft(ctx, models.PlanDraft{PlanID: plan.ID, TeamID: &other.ID, Definition: `{"steps":[2]}`, CreatedBy: "web:pat"})
		planMust(t, err)
		if v2.Version != 2 || !v2.Draft {
			t.Fatalf("second save %+v", v2)
		}
		if pv, err := s.ActivePlanVersion(ctx, "db"); err != nil || pv.Version != 1 || pv.Draft {
			t.Fatalf("active %+v, %v", pv, err)
		}
		sums, err := s.ListPlanSummaries(ctx)
		planMust(t, err)
		if len(sums) != 1 || sums[0].TeamName != "search" || sums[0].LatestVersion != 2 || sums[0].Drafts != 1 || sums[0].ActiveVersion != 1 {
			t.Fatalf("summaries %+v", sums)
		}
		before, err = s.PublishPlanVersion(ctx, plan.ID, 2)
		planMust(t, err)
		if pv, err := s.ActivePlanVersion(ctx, "db"); err != nil || pv.Version != 2 || before != 1 {
			t.Fatalf("after publishing 2: %+v, %v, before %d", pv, err, before)
		}
		if _, err := s.PublishPlanVersion(ctx, plan.ID, 7); !models.IsNotFound(err) {
			t.Fatalf("publishing a missing version: %v", err)
		}
		vs, err := s.PlanVersions(ctx, plan.ID)
		planMust(t, err)
		if len(vs) != 2 || vs[0].Version != 2 || vs[0].Draft || vs[1].Draft {
			t.Fatalf("versions %+v", vs)
		}
		if v, err := s.PlanVersionOf(ctx, plan.ID, 1); err != nil || v.Definition != `{"steps":[1]}` {
			t.Fatalf("version 1: %+v, %v", v, err)
		}

		planMust(t, s.SetPlanTeam(ctx, plan.ID, &team.ID))
		svc := &models.Service{ID: uuid.NewString(), Name: "checkout", TeamID: &other.ID, PlanID: &plan.ID, DefaultSeverity: 3, CreatedAt: now, UpdatedAt: now}
		planMust(t, db.Gorm.Create(svc).Error)
		p, err := s.PlanByName(ctx, "db")
		planMust(t, err)
		uses, err := s.PlanUses(ctx, p)
		planMust(t, err)
		if len(uses) != 2 || uses[0].Kind != "team" || uses[0].Name != "payments" || uses[1].Kind != "service" || *uses[1].TeamID != other.ID {
			t.Fatalf("uses %+v", uses)
		}

		refs, err := s.PlanRefNames(ctx)
		planMust(t, err)
		if refs.People["ann"] != "UANN" || len(refs.Teams) != 2 || refs.Teams[0].Name != "payments" || len(refs.Templates) != 1 {
			t.Fatalf("refs %+v", refs)
		}
	})
}
