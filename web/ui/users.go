package ui

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/heraldhq/herald/models"
)

// UsersStore is what the users page reads and writes; *models.Store is
// one.
type UsersStore interface {
	ListWebUsers(ctx context.Context) ([]models.WebUser, error)
	WebUserByID(ctx context.Context, id string) (*models.WebUser, error)
	WebTeamAdmins(ctx context.Context) (map[string][]string, error)
	ListTeams(ctx context.Context) ([]models.Team, error)
	PeopleSummaries(ctx context.Context) ([]models.PersonSummary, error)
	ChangeWebUserRole(ctx context.Context, by models.Actor, userID, role string, adminOfTeams []string) error
	LinkWebUser(ctx context.Context, by models.Actor, userID string, personID *string) error
	SetWebUserDisabled(ctx context.Context, by models.Actor, userID string, disabled bool) error
}

// UsersPage is /users (admins): who signs in to the web pages, their
// roles, team-admin teams and linked people.
type UsersPage struct {
	Store UsersStore
}

// NewUsersPage builds the users page.
func NewUsersPage(store UsersStore) UsersPage { return UsersPage{Store: store} }

// Mount implements Page.
func (u UsersPage) Mount(r *Router) {
	r.GET("/users", u.list, NeedAdmin)
	r.GET("/users/:id", u.show, NeedAdmin)
	r.POST("/users/:id/role", u.setRole, NeedAdmin)
	r.POST("/users/:id/person", u.link, NeedAdmin)
	r.POST("/users/:id/disable", func(c *Ctx) error { return u.setDisabled(c, true) }, NeedAdmin)
	r.POST("/users/:id/enable", func(c *Ctx) error { return u.setDisabled(c, false) }, NeedAdmin)
}

// userRow is a web user as the page shows them.
type userRow struct {
	models.WebUser
	SignIn     string
	PersonName string
	Teams      []string // team names administered
	Self       bool
}

// usersDirectory is what naming users' people and teams needs.
type usersDirectory struct {
	people     []models.PersonSummary
	personName map[string]string
	teams      []models.Team
	teamName   map[string]string
	teamAdmins map[string][]string
}

func (u UsersPage) directory(ctx context.Context) (*usersDirectory, error) {
	d := &usersDirectory{personName: map[string]string{}, teamName: map[string]string{}}
	var err error
	if d.people, err = u.Store.PeopleSummaries(ctx); err != nil {
		return nil, err
	}
	for _, p := range d.people {
		d.personName[p.ID] = p.Name
	}
	if d.teams, err = u.Store.ListTeams(ctx); err != nil {
		return nil, err
	}
	for _, t := range d.teams {
		d.teamName[t.ID] = t.Name
	}
	if d.teamAdmins, err = u.Store.WebTeamAdmins(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *usersDirectory) row(v *Viewer, w models.WebUser) userRow {
	r := userRow{WebUser: w, SignIn: subjectKind(w.Subject), Self: w.ID == v.User.ID}
	if w.PersonID != nil {
		r.PersonName = d.personName[*w.PersonID]
	}
	for _, id := range d.teamAdmins[w.ID] {
		r.Teams = append(r.Teams, d.teamName[id])
	}
	sort.Strings(r.Teams)
	return r
}

func (u UsersPage) list(c *Ctx) error {
	ctx := c.Request().Context()
	users, err := u.Store.ListWebUsers(ctx)
	if err != nil {
		return c.Failed("listing users", err)
	}
	d, err := u.directory(ctx)
	if err != nil {
		return c.Failed("listing users", err)
	}
	rows := make([]userRow, len(users))
	for i, w := range users {
		rows[i] = d.row(c.Viewer, w)
	}
	return c.Page(http.StatusOK, "users_list.html", "Users", rows)
}

// userView is /users/:id.
type userView struct {
	User   userRow
	Roles  []string
	Teams  []userTeam
	People []models.PersonSummary
	Errors []string
}

type userTeam struct {
	ID, Name string
	Checked  bool
}

func (u UsersPage) show(c *Ctx) error {
	return u.render(c, http.StatusOK, nil)
}

// render shows /users/:id, with errs from a failed form.
func (u UsersPage) render(c *Ctx, code int, errs []string) error {
	ctx := c.Request().Context()
	w, err := u.Store.WebUserByID(ctx, c.Param("id"))
	if models.IsNotFound(err) {
		return c.NotFound("such web user")
	}
	if err != nil {
		return c.Failed("loading the user", err)
	}
	d, err := u.directory(ctx)
	if err != nil {
		return c.Failed("loading the user", err)
	}
	v := userView{User: d.row(c.Viewer, *w), Roles: []string{models.WebRoleAdmin, models.WebRoleMember, models.WebRoleViewer}, People: d.people, Errors: errs}
	for _, t := range d.teams {
		v.Teams = append(v.Teams, userTeam{ID: t.ID, Name: t.Name, Checked: contains(d.teamAdmins[w.ID], t.ID)})
	}
	return c.Page(code, "users_show.html", w.Name, v)
}

func (u UsersPage) setRole(c *Ctx) error {
	ctx := c.Request().Context()
	w, err := u.Store.WebUserByID(ctx, c.Param("id"))
	if models.IsNotFound(err) {
		return c.NotFound("such web user")
	}
	if err != nil {
		return c.Failed("loading the user", err)
	}
	role := c.FormValue("role")
	form, err := c.FormParams()
	if err != nil {
		return u.render(c, http.StatusBadRequest, []string{"Role: the form could not be read."})
	}
	teams := form["team"]
	if !models.ValidWebRole(role) {
		return u.render(c, http.StatusUnprocessableEntity, []string{"Role: choose admin, member or viewer."})
	}
	if role == models.WebRoleViewer && len(teams) > 0 {
		return u.render(c, http.StatusUnprocessableEntity, []string{"Team admin of: a viewer cannot administer teams; make them a member first."})
	}
	known, err := u.Store.ListTeams(ctx)
	if err != nil {
		return c.Failed("listing teams", err)
	}
	ids := map[string]bool{}
	for _, t := range known {
		ids[t.ID] = true
	}
	var clean []string
	for _, t := range teams {
		if !ids[t] {
			return u.render(c, http.StatusUnprocessableEntity, []string{"Team admin of: one of the teams does not exist (any more); reload the page."})
		}
		if !contains(clean, t) {
			clean = append(clean, t)
		}
	}
	sort.Strings(clean)
	err = u.Store.ChangeWebUserRole(ctx, c.Actor(), w.ID, role, clean)
	if errors.Is(err, models.ErrLastAdmin) {
		return u.render(c, http.StatusConflict, []string{"Role: " + w.Name + " is the last admin; make someone else an admin first."})
	}
	if err != nil {
		return c.Failed("changing the role", err)
	}
	return c.SeeOther("/users/"+w.ID, "Saved: "+w.Name+" is "+role+teamsNote(len(clean))+".")
}

func teamsNote(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", admin of 1 team"
	}
	return ", admin of " + strconv.Itoa(n) + " teams"
}

func (u UsersPage) link(c *Ctx) error {
	ctx := c.Request().Context()
	w, err := u.Store.WebUserByID(ctx, c.Param("id"))
	if models.IsNotFound(err) {
		return c.NotFound("such web user")
	}
	if err != nil {
		return c.Failed("loading the user", err)
	}
	var personID *string
	name := "nobody"
	if id := c.FormValue("person"); id != "" {
		people, err := u.Store.PeopleSummaries(ctx)
		if err != nil {
			return c.Failed("listing people", err)
		}
		for _, p := range people {
			if p.ID == id {
				personID, name = &p.ID, p.Name
			}
		}
		if personID == nil {
			return u.render(c, http.StatusUnprocessableEntity, []string{"Person: no such person (any more); reload the page."})
		}
	}
	if err := u.Store.LinkWebUser(ctx, c.Actor(), w.ID, personID); err != nil {
		return c.Failed("linking the user", err)
	}
	return c.SeeOther("/users/"+w.ID, "Saved: "+w.Name+" is linked to "+name+".")
}

func (u UsersPage) setDisabled(c *Ctx, disabled bool) error {
	ctx := c.Request().Context()
	w, err := u.Store.WebUserByID(ctx, c.Param("id"))
	if models.IsNotFound(err) {
		return c.NotFound("such web user")
	}
	if err != nil {
		return c.Failed("loading the user", err)
	}
	if disabled && w.ID == c.Viewer.User.ID {
		return u.render(c, http.StatusConflict, []string{"Disable: you cannot disable your own account."})
	}
	err = u.Store.SetWebUserDisabled(ctx, c.Actor(), w.ID, disabled)
	if errors.Is(err, models.ErrLastAdmin) {
		return u.render(c, http.StatusConflict, []string{"Disable: " + w.Name + " is the last admin; make someone else an admin first."})
	}
	if err != nil {
		return c.Failed("changing the user", err)
	}
	msg := "Enabled " + w.Name + ": they can sign in again."
	if disabled {
		msg = "Disabled " + w.Name + ": they are signed out and cannot sign in."
	}
	return c.SeeOther("/users/"+w.ID, msg)
}
