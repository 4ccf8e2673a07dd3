package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm/clause"
)

// The users page's writes (issue 7): roles, person links, disabling.
// Each is audited in the same transaction.

// ErrLastAdmin refuses a change that would leave no enabled admin.
var ErrLastAdmin = errors.New("this is the last admin: make someone else an admin first")

// WebTeamAdmins maps every web user who administers teams to those team
// ids.
func (s *Store) WebTeamAdmins(ctx context.Context) (map[string][]string, error) {
	var rows []WebTeamAdmin
	if err := s.db.WithContext(ctx).Order("web_user_id, team_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("listing team admins: %w", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.WebUserID] = append(out[r.WebUserID], r.TeamID)
	}
	return out, nil
}

// keepAnAdmin returns ErrLastAdmin when user is an enabled admin and no
// other enabled admin exists. The admins' rows are locked (Postgres) so
// two admins demoting each other at once cannot both succeed.
func (s *Store) keepAnAdmin(ctx context.Context, u *WebUser) error {
	if u.Role != WebRoleAdmin || u.DisabledAt != nil {
		return nil
	}
	q := s.db.WithContext(ctx).Where("role = ? AND disabled_at IS NULL", WebRoleAdmin)
	if s.Dialect() == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var admins []WebUser
	if err := q.Find(&admins).Error; err != nil {
		return fmt.Errorf("counting admins: %w", err)
	}
	for _, a := range admins {
		if a.ID != u.ID {
			return nil
		}
	}
	return ErrLastAdmin
}

// ChangeWebUserRole is SetWebUserRole refusing to demote the last enabled
// admin (ErrLastAdmin).
func (s *Store) ChangeWebUserRole(ctx context.Context, by Actor, userID, role string, adminOfTeams []string) error {
	return s.InTx(ctx, func(tx *Store) error {
		u, err := tx.WebUserByID(ctx, userID)
		if err != nil {
			return err
		}
		if role != WebRoleAdmin {
			if err := tx.keepAnAdmin(ctx, u); err != nil {
				return err
			}
		}
		return tx.SetWebUserRole(ctx, by, userID, role, adminOfTeams)
	})
}

// LinkWebUser links a web user to the person they are (nil: unlinks),
// audited with the people's names.
func (s *Store) LinkWebUser(ctx context.Context, by Actor, userID string, personID *string) error {
	return s.InTx(ctx, func(tx *Store) error {
		u, err := tx.WebUserByID(ctx, userID)
		if err != nil {
			return err
		}
		name := func(id *string) (string, error) {
			if id == nil {
				return "", nil
			}
			p, err := tx.PersonByID(ctx, *id)
			if err != nil {
				return "", err
			}
			return p.Name, nil
		}
		before, err := name(u.PersonID)
		if err != nil && !IsNotFound(err) {
			return err
		}
		after, err := name(personID)
		if err != nil {
			return err
		}
		if before == after {
			return nil
		}
		if err := tx.db.WithContext(ctx).Model(&WebUser{}).Where("id = ?", userID).Update("person_id", personID).Error; err != nil {
			return fmt.Errorf("linking web user: %w", err)
		}
		return tx.AddAudit(ctx, AuditEntry{ActorID: by.UserID, Actor: by.Name, Subject: "web_user:" + userID,
			Action: "web_user.person", Before: before, After: after})
	})
}

// SetWebUserDisabled disables a web user (signing them out everywhere) or
// enables them again, audited. Disabling the last enabled admin is
// ErrLastAdmin.
func (s *Store) SetWebUserDisabled(ctx context.Context, by Actor, userID string, disabled bool) error {
	return s.InTx(ctx, func(tx *Store) error {
		u, err := tx.WebUserByID(ctx, userID)
		if err != nil {
			return err
		}
		if (u.DisabledAt != nil) == disabled {
			return nil
		}
		action, before, after := "web_user.enable", "disabled", "enabled"
		var at any
		if disabled {
			if err := tx.keepAnAdmin(ctx, u); err != nil {
				return err
			}
			action, before, after = "web_user.disable", "enabled", "disabled"
			at = tx.clock.Now().UTC()
		}
		if err := tx.db.WithContext(ctx).Model(&WebUser{}).Where("id = ?", userID).Update("disabled_at", at).Error; err != nil {
			return fmt.Errorf("disabling web user: %w", err)
		}
		if disabled {
			if err := tx.db.WithContext(ctx).Where("web_user_id = ?", userID).Delete(&WebSession{}).Error; err != nil {
				return fmt.Errorf("signing a disabled user out: %w", err)
			}
		}
		return tx.AddAudit(ctx, AuditEntry{ActorID: by.UserID, Actor: by.Name, Subject: "web_user:" + userID,
			Action: action, Before: before, After: after})
	})
}
