package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Web roles, from most to least powerful. A team admin is a member with
// rows in web_team_admins.
const (
	WebRoleAdmin  = "admin"
	WebRoleMember = "member"
	WebRoleViewer = "viewer"
)

// ValidWebRole reports whether r is one of the web roles.
func ValidWebRole(r string) bool {
	return r == WebRoleAdmin || r == WebRoleMember || r == WebRoleViewer
}

// WebUser is someone who signs in to the web pages.
type WebUser struct {
	ID string // UUIDv7, set before insert (the e-mail binds to it)
	// Subject finds the user again at the next sign-in: "slack:U123",
	// "oidc:https://issuer#sub" or "link:<name>".
	Subject     string
	Name        string
	Email       EncryptedString
	PersonID    *string
	Role        string
	TimeZone    string
	CreatedAt   time.Time
	LastLoginAt *time.Time
	DisabledAt  *time.Time
}

// TableName keeps the table's name.
func (WebUser) TableName() string { return "web_users" }

// WebTeamAdmin lets a web user edit one team's plans, schedules and
// services.
type WebTeamAdmin struct {
	WebUserID string `gorm:"primaryKey"`
	TeamID    string `gorm:"primaryKey"`
}

// TableName keeps the table's name.
func (WebTeamAdmin) TableName() string { return "web_team_admins" }

// WebSession is a signed-in browser. Only the token's SHA-256 is stored.
type WebSession struct {
	TokenHash  string `gorm:"primaryKey"`
	WebUserID  string
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// TableName keeps the table's name.
func (WebSession) TableName() string { return "web_sessions" }

// WebLoginToken is a one-time sign-in link's secret, stored hashed.
type WebLoginToken struct {
	TokenHash string `gorm:"primaryKey"`
	WebUserID string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// TableName keeps the table's name.
func (WebLoginToken) TableName() string { return "web_login_tokens" }

// ErrLoginRefused is what every refused login link or session gets,
// whatever the reason (unknown, used, expired, disabled user).
var ErrLoginRefused = errors.New("sign-in not accepted")

// Token prefixes make a leaked secret recognisable to scanners.
const (
	loginTokenPrefix   = "hlog_"
	sessionTokenPrefix = "hses_"
)

func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a secret: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// UpsertWebUser finds the user with u.Subject or creates it. On an existing
// user it refreshes the name, e-mail and person link when given, never the
// role (roles change only through SetWebUserRole).
func (s *Store) UpsertWebUser(ctx context.Context, u WebUser) (*WebUser, error) {
	if u.Subject == "" || u.Name == "" {
		return nil, fmt.Errorf("web user needs a subject and a name")
	}
	if u.Role == "" {
		u.Role = WebRoleViewer
	}
	if !ValidWebRole(u.Role) {
		return nil, fmt.Errorf("web role %q: want admin, member or viewer", u.Role)
	}
	var out *WebUser
	err := s.InTx(ctx, func(tx *Store) error {
		var existing WebUser
		err := tx.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("subject = ?", u.Subject).Take(&existing).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			u.ID = newID()
			u.CreatedAt = tx.clock.Now().UTC()
			if err := tx.db.WithContext(ctx).Create(&u).Error; err != nil {
				return fmt.Errorf("creating web user: %w", err)
			}
			out = &u
			return nil
		case err != nil:
			return fmt.Errorf("finding web user: %w", err)
		}
		existing.Name = u.Name
		if !u.Email.IsZero() {
			existing.Email = u.Email
		}
		if u.PersonID != nil {
			existing.PersonID = u.PersonID
		}
		if u.TimeZone != "" {
			existing.TimeZone = u.TimeZone
		}
		if err := tx.db.WithContext(ctx).Save(&existing).Error; err != nil {
			return fmt.Errorf("updating web user: %w", err)
		}
		out = &existing
		return nil
	})
	return out, err
}

// WebUserByID loads a web user; unknown → not found.
func (s *Store) WebUserByID(ctx context.Context, id string) (*WebUser, error) {
	var u WebUser
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("web user: %w", err)
	}
	return &u, nil
}

// ListWebUsers lists every web user by name.
func (s *Store) ListWebUsers(ctx context.Context) ([]WebUser, error) {
	var out []WebUser
	if err := s.db.WithContext(ctx).Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing web users: %w", err)
	}
	return out, nil
}

// SetWebUserRole changes a user's role and team-admin teams, recording the
// change in the audit log under actor.
func (s *Store) SetWebUserRole(ctx context.Context, by Actor, userID, role string, adminOfTeams []string) error {
	if !ValidWebRole(role) {
		return fmt.Errorf("web role %q: want admin, member or viewer", role)
	}
	return s.InTx(ctx, func(tx *Store) error {
		u, err := tx.WebUserByID(ctx, userID)
		if err != nil {
			return err
		}
		before, err := tx.WebTeamAdminOf(ctx, userID)
		if err != nil {
			return err
		}
		if err := tx.db.WithContext(ctx).Model(&WebUser{}).Where("id = ?", userID).Update("role", role).Error; err != nil {
			return fmt.Errorf("setting web role: %w", err)
		}
		if err := tx.db.WithContext(ctx).Where("web_user_id = ?", userID).Delete(&WebTeamAdmin{}).Error; err != nil {
			return fmt.Errorf("clearing team admins: %w", err)
		}
		for _, t := range adminOfTeams {
			if err := tx.db.WithContext(ctx).Create(&WebTeamAdmin{WebUserID: userID, TeamID: t}).Error; err != nil {
				return fmt.Errorf("making team admin: %w", err)
			}
		}
		return tx.AddAudit(ctx, AuditEntry{ActorID: by.UserID, Actor: by.Name, Subject: "web_user:" + userID, Action: "web_user.role",
			Before: u.Role + " teams=" + strings.Join(before, ","), After: role + " teams=" + strings.Join(adminOfTeams, ",")})
	})
}

// WebTeamAdminOf lists the team ids a web user administers.
func (s *Store) WebTeamAdminOf(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&WebTeamAdmin{}).Where("web_user_id = ?", userID).Order("team_id").Pluck("team_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("listing team admins: %w", err)
	}
	return ids, nil
}

// IssueLoginToken makes a one-time sign-in token for a user, valid for ttl.
// The token is returned once; only its hash is stored.
func (s *Store) IssueLoginToken(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	token, err := newSecret(loginTokenPrefix)
	if err != nil {
		return "", err
	}
	now := s.clock.Now().UTC()
	row := WebLoginToken{TokenHash: hashToken(token), WebUserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return "", fmt.Errorf("storing login token: %w", err)
	}
	return token, nil
}

// RedeemLoginToken spends a login token: it works once, before it expires,
// for a user who is not disabled. Anything else is ErrLoginRefused.
func (s *Store) RedeemLoginToken(ctx context.Context, token string) (*WebUser, error) {
	if !strings.HasPrefix(token, loginTokenPrefix) || len(token) > 128 {
		return nil, ErrLoginRefused
	}
	now := s.clock.Now().UTC()
	var user *WebUser
	err := s.InTx(ctx, func(tx *Store) error {
		res := tx.db.WithContext(ctx).Model(&WebLoginToken{}).
			Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), now).
			Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("spending login token: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrLoginRefused
		}
		var row WebLoginToken
		if err := tx.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Take(&row).Error; err != nil {
			return fmt.Errorf("reading login token: %w", err)
		}
		u, err := tx.WebUserByID(ctx, row.WebUserID)
		if err != nil {
			return err
		}
		if u.DisabledAt != nil {
			return ErrLoginRefused
		}
		user = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return user, nil
}

// CreateWebSession signs a user in for ttl: it returns the session token
// (for the cookie; stored hashed) and the session with its CSRF token.
func (s *Store) CreateWebSession(ctx context.Context, userID string, ttl time.Duration) (string, *WebSession, error) {
	token, err := newSecret(sessionTokenPrefix)
	if err != nil {
		return "", nil, err
	}
	csrf, err := newSecret("")
	if err != nil {
		return "", nil, err
	}
	now := s.clock.Now().UTC()
	sess := WebSession{TokenHash: hashToken(token), WebUserID: userID, CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeenAt: now}
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Create(&sess).Error; err != nil {
			return fmt.Errorf("storing web session: %w", err)
		}
		if err := tx.db.WithContext(ctx).Model(&WebUser{}).Where("id = ?", userID).Update("last_login_at", now).Error; err != nil {
			return fmt.Errorf("recording sign-in: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return token, &sess, nil
}

// WebSessionByToken finds a live session and its user; an unknown,
// expired or disabled one is ErrLoginRefused. A session seen again more
// than a minute after its last sighting has last_seen_at refreshed.
func (s *Store) WebSessionByToken(ctx context.Context, token string) (*WebSession, *WebUser, error) {
	if !strings.HasPrefix(token, sessionTokenPrefix) || len(token) > 128 {
		return nil, nil, ErrLoginRefused
	}
	now := s.clock.Now().UTC()
	var sess WebSession
	err := s.db.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", hashToken(token), now).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, ErrLoginRefused
	}
	if err != nil {
		return nil, nil, fmt.Errorf("finding web session: %w", err)
	}
	u, err := s.WebUserByID(ctx, sess.WebUserID)
	if err != nil {
		return nil, nil, err
	}
	if u.DisabledAt != nil {
		return nil, nil, ErrLoginRefused
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.db.WithContext(ctx).Model(&WebSession{}).Where("token_hash = ?", sess.TokenHash).Update("last_seen_at", now).Error; err != nil {
			return nil, nil, fmt.Errorf("touching web session: %w", err)
		}
	}
	return &sess, u, nil
}

// DeleteWebSession signs a browser out.
func (s *Store) DeleteWebSession(ctx context.Context, token string) error {
	if err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&WebSession{}).Error; err != nil {
		return fmt.Errorf("deleting web session: %w", err)
	}
	return nil
}

// PruneWebSessions deletes expired sessions and login tokens.
func (s *Store) PruneWebSessions(ctx context.Context) (int64, error) {
	now := s.clock.Now().UTC()
	res := s.db.WithContext(ctx).Where("expires_at <= ?", now).Delete(&WebSession{})
	if res.Error != nil {
		return 0, fmt.Errorf("pruning web sessions: %w", res.Error)
	}
	tok := s.db.WithContext(ctx).Where("expires_at <= ?", now.Add(-24*time.Hour)).Delete(&WebLoginToken{})
	if tok.Error != nil {
		return 0, fmt.Errorf("pruning login tokens: %w", tok.Error)
	}
	return res.RowsAffected + tok.RowsAffected, nil
}

// MakeWebAdmin gives a user the admin role because configuration says so
// (why names the setting), recording it in the audit log.
func (s *Store) MakeWebAdmin(ctx context.Context, userID, why string) error {
	return s.InTx(ctx, func(tx *Store) error {
		u, err := tx.WebUserByID(ctx, userID)
		if err != nil {
			return err
		}
		if u.Role == WebRoleAdmin {
			return nil
		}
		if err := tx.db.WithContext(ctx).Model(&WebUser{}).Where("id = ?", userID).Update("role", WebRoleAdmin).Error; err != nil {
			return fmt.Errorf("making web admin: %w", err)
		}
		return tx.AddAudit(ctx, AuditEntry{Actor: why, Subject: "web_user:" + userID, Action: "web_user.role", Before: u.Role, After: WebRoleAdmin})
	})
}
