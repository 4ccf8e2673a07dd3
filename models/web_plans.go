package models

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Escalation plans as the web UI edits them: every save is a new draft
// version, and publishing a version makes it the one new escalations use.

// ErrPlanExists means a plan of that name exists already.
var ErrPlanExists = errors.New("a plan with that name exists")

// PlanSummary is a plan with what the plan list shows.
type PlanSummary struct {
	Plan
	TeamName      string // "" without an owning team
	LatestVersion int
	Drafts        int // draft versions newer than the active one
}

// ListPlanSummaries lists every plan by name.
func (s *Store) ListPlanSummaries(ctx context.Context) ([]PlanSummary, error) {
	db := s.db.WithContext(ctx)
	var plans []Plan
	if err := db.Order("name").Find(&plans).Error; err != nil {
		return nil, fmt.Errorf("listing plans: %w", err)
	}
	var teams []Team
	if err := db.Select("id", "name").Find(&teams).Error; err != nil {
		return nil, fmt.Errorf("listing teams: %w", err)
	}
	teamName := make(map[string]string, len(teams))
	for _, t := range teams {
		teamName[t.ID] = t.Name
	}
	var versions []PlanVersion
	if err := db.Select("plan_id", "version", "draft").Find(&versions).Error; err != nil {
		return nil, fmt.Errorf("listing plan versions: %w", err)
	}
	out := make([]PlanSummary, len(plans))
	index := make(map[string]int, len(plans))
	for i, p := range plans {
		out[i] = PlanSummary{Plan: p}
		if p.TeamID != nil {
			out[i].TeamName = teamName[*p.TeamID]
		}
		index[p.ID] = i
	}
	for _, v := range versions {
		i, ok := index[v.PlanID]
		if !ok {
			continue
		}
		out[i].LatestVersion = max(out[i].LatestVersion, v.Version)
		if v.Draft && v.Version > out[i].ActiveVersion {
			out[i].Drafts++
		}
	}
	return out, nil
}

// PlanVersions lists a plan's versions, newest first.
func (s *Store) PlanVersions(ctx context.Context, planID string) ([]PlanVersion, error) {
	var out []PlanVersion
	if err := s.db.WithContext(ctx).Where("plan_id = ?", planID).Order("version DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing versions of a plan: %w", err)
	}
	return out, nil
}

// PlanVersionOf loads one version of a plan by number.
func (s *Store) PlanVersionOf(ctx context.Context, planID string, version int) (*PlanVersion, error) {
	var v PlanVersion
	if err := s.db.WithContext(ctx).Where("plan_id = ? AND version = ?", planID, version).Take(&v).Error; err != nil {
		return nil, fmt.Errorf("loading version %d of a plan: %w", version, err)
	}
	return &v, nil
}

// PlanUse is something that pages with a plan: its owning team (Kind
// "team", which pages with it through TeamPlanName) or a service.
type PlanUse struct {
	Kind   string // "team" or "service"
	Name   string
	TeamID *string // the team it belongs to; nil for a service of no team
}

// PlanUses lists what uses a plan: its owning team, then its services by
// name.
func (s *Store) PlanUses(ctx context.Context, p *Plan) ([]PlanUse, error) {
	db := s.db.WithContext(ctx)
	var out []PlanUse
	if p.TeamID != nil {
		var t Team
		if err := db.Select("id", "name").Where("id = ?", *p.TeamID).Take(&t).Error; err != nil {
			return nil, fmt.Errorf("loading the team of a plan: %w", err)
		}
		id := t.ID
		out = append(out, PlanUse{Kind: "team", Name: t.Name, TeamID: &id})
	}
	var svcs []Service
	if err := db.Select("id", "name", "team_id").Where("plan_id = ?", p.ID).Order("name").Find(&svcs).Error; err != nil {
		return nil, fmt.Errorf("loading the services of a plan: %w", err)
	}
	for _, sv := range svcs {
		out = append(out, PlanUse{Kind: "service", Name: sv.Name, TeamID: sv.TeamID})
	}
	return out, nil
}

// PlanDraft is a plan version to save as a draft.
type PlanDraft struct {
	// PlanID is the plan's id; "" creates the plan Name.
	PlanID string
	Name   string
	// TeamID is the owning team the plan gets (nil: none).
	TeamID     *string
	Definition string // JSON of PlanDefinition, validated by the caller
	CreatedBy  string
}

// SavePlanDraft stores a new draft version of a plan (creating the plan,
// with no active version, when PlanID is ""), and sets its owning team.
// A new plan whose name is taken is ErrPlanExists. Saves of one plan are
// serialised on its row, so concurrent ones get successive numbers.
func (s *Store) SavePlanDraft(ctx context.Context, d PlanDraft) (*Plan, *PlanVersion, error) {
	if d.CreatedBy == "" {
		return nil, nil, ErrNoActor
	}
	var plan Plan
	var ver PlanVersion
	err := s.InTx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		now := tx.clock.Now().UTC()
		if d.PlanID == "" {
			var n int64
			if err := db.Model(&Plan{}).Where("name = ?", d.Name).Count(&n).Error; err != nil {
				return fmt.Errorf("checking plan name: %w", err)
			}
			if n > 0 {
				return ErrPlanExists
			}
			plan = Plan{ID: newID(), Name: d.Name, TeamID: d.TeamID, CreatedAt: now, UpdatedAt: now}
			if err := db.Create(&plan).Error; err != nil {
				return fmt.Errorf("creating plan: %w", err)
			}
		} else {
			q := db
			if tx.Dialect() == DialectPostgres {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			if err := q.Where("id = ?", d.PlanID).Take(&plan).Error; err != nil {
				return fmt.Errorf("loading plan: %w", err)
			}
			plan.TeamID, plan.UpdatedAt = d.TeamID, now
			if err := db.Model(&Plan{}).Where("id = ?", plan.ID).Updates(map[string]any{"team_id": d.TeamID, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("updating plan: %w", err)
			}
		}
		var latest int
		if err := db.Model(&PlanVersion{}).Where("plan_id = ?", plan.ID).Select("COALESCE(MAX(version), 0)").Scan(&latest).Error; err != nil {
			return fmt.Errorf("finding the latest version: %w", err)
		}
		ver = PlanVersion{PlanID: plan.ID, Version: latest + 1, Definition: d.Definition, CreatedBy: d.CreatedBy, CreatedAt: now, Draft: true}
		if err := db.Create(&ver).Error; err != nil {
			return fmt.Errorf("saving version %d: %w", ver.Version, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return &plan, &ver, nil
}

// SetPlanTeam changes a plan's owning team only (no new version).
func (s *Store) SetPlanTeam(ctx context.Context, planID string, teamID *string) error {
	err := s.db.WithContext(ctx).Model(&Plan{}).Where("id = ?", planID).
		Updates(map[string]any{"team_id": teamID, "updated_at": s.clock.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("setting the team of a plan: %w", err)
	}
	return nil
}

// PublishPlanVersion makes a version of a plan the active one (new
// escalations use it; running ones keep theirs) and returns the version
// active before (0: none).
func (s *Store) PublishPlanVersion(ctx context.Context, planID string, version int) (int, error) {
	var before int
	err := s.InTx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		var p Plan
		if err := db.Where("id = ?", planID).Take(&p).Error; err != nil {
			return fmt.Errorf("loading plan: %w", err)
		}
		before = p.ActiveVersion
		res := db.Model(&PlanVersion{}).Where("plan_id = ? AND version = ?", planID, version).Update("draft", false)
		if res.Error != nil {
			return fmt.Errorf("publishing version %d: %w", version, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("publishing version %d: %w", version, gorm.ErrRecordNotFound)
		}
		return db.Model(&Plan{}).Where("id = ?", planID).
			Updates(map[string]any{"active_version": version, "updated_at": tx.clock.Now().UTC()}).Error
	})
	return before, err
}

// PlanRefs are the names a plan may refer to: people (handle → Slack user
// id, "" for none), teams and message templates.
type PlanRefs struct {
	People    map[string]string
	Teams     []Team // by name
	Templates []string
}

// PlanRefNames loads what a plan may refer to.
func (s *Store) PlanRefNames(ctx context.Context) (*PlanRefs, error) {
	db := s.db.WithContext(ctx)
	var people []Person
	if err := db.Select("id", "name", "slack_user_id").Find(&people).Error; err != nil {
		return nil, fmt.Errorf("loading people: %w", err)
	}
	out := &PlanRefs{People: make(map[string]string, len(people))}
	for _, p := range people {
		id := ""
		if p.SlackUserID != nil {
			id = *p.SlackUserID
		}
		out.People[p.Name] = id
	}
	if err := db.Select("id", "name").Order("name").Find(&out.Teams).Error; err != nil {
		return nil, fmt.Errorf("loading teams: %w", err)
	}
	if err := db.Model(&MessageTemplate{}).Order("name").Pluck("name", &out.Templates).Error; err != nil {
		return nil, fmt.Errorf("loading templates: %w", err)
	}
	sort.Strings(out.Templates)
	return out, nil
}
