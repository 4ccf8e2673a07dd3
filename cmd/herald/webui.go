package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web/ui"
)

// webUIDeps is what the UI's pages are built from.
type webUIDeps struct {
	app   *App
	clock models.Clock
	// Forget drops the 1-second caches (integration keys, intake services,
	// maintenance windows) after a web page changed them.
	Forget func()
	// OnCallCache is the engine's on-call cache, dropped after a schedule
	// page adds or deletes an override.
	OnCallCache ui.OnCallCache
	// Handlers are the Slack handlers' dependencies: the incident pages
	// act through the same operations (handlers.WebIncidents).
	Handlers handlers.Deps
}

// webUI builds the signed-in web UI. This is the one list of its pages.
func (a *App) webUI(d webUIDeps) (*ui.Server, error) {
	cfg := a.cfg
	pages := []ui.Page{
		ui.AuditPages{Audit: a.Store},
		ui.AnalyticsPages{Store: a.Store},
		ui.ServicePages{Store: a.Store, Forget: d.Forget},
		ui.NewPeoplePages(a.Store, a.Engine, notifications.OnCallViews{Store: a.Store}), ui.NewUsersPage(a.Store),
		ui.NewSchedulePages(a.Store, d.OnCallCache, d.clock),
		ui.NewPlanPages(a.Store, a.Engine),
		ui.NewIncidentPages(a.Store, handlers.NewWebIncidents(d.Handlers), d.clock),
	}
	return ui.New(ui.Options{
		Auth: a.Store, Clock: d.clock, Log: a.log, BaseURL: cfg.BaseURL, SessionTTL: cfg.Web.SessionTTL,
		OIDC: oidcProviders(cfg.Web), AdminSubjects: cfg.Web.Admins,
		LoginLinksOffered: true,
	}, pages...)
}

// oidcProviders lists the identity providers configured.
func oidcProviders(w config.Web) []*ui.OIDCProvider {
	var out []*ui.OIDCProvider
	if w.SlackClientID != "" {
		out = append(out, &ui.OIDCProvider{Name: "slack", Label: "Slack", Issuer: ui.SlackIssuer, ClientID: w.SlackClientID,
			ClientSecret: w.SlackClientSecret, Slack: true, SlackTeamID: w.SlackTeamID})
	}
	if w.OIDCIssuer != "" {
		out = append(out, &ui.OIDCProvider{Name: "oidc", Label: w.OIDCLabel, Issuer: w.OIDCIssuer, ClientID: w.OIDCClientID,
			ClientSecret: w.OIDCClientSecret, AllowedDomains: w.OIDCAllowedDomains})
	}
	return out
}

// loginLinks issues one-time sign-in links.
func (a *App) loginLinks() ui.LoginLinks {
	return ui.LoginLinks{Auth: a.Store, BaseURL: a.cfg.BaseURL, AdminSubjects: a.cfg.Web.Admins}
}

// printStartLoginLink prints a one-time admin sign-in link on standard
// error (never to the log: it is a credential), so a trial needs no
// identity provider. On by default in embedded mode only.
func (a *App) printStartLoginLink(ctx context.Context) {
	if !a.cfg.Web.LoginLinkAtStart {
		return
	}
	link, err := a.loginLinks().ForName(ctx, "admin", models.WebRoleAdmin)
	if err != nil {
		a.log.Warn("could not make a start-up sign-in link", "err", err)
		return
	}
	fmt.Fprintf(os.Stderr, "\n  Sign in to the web UI as admin (one-time link, valid %s):\n  %s\n\n", ui.LoginLinkTTL, link)
}

const loginLinkUsage = `usage: herald login-link --as NAME [--role admin|member|viewer]
       herald login-link --slack USER_ID

Prints a one-time link (valid 15 minutes) that signs a browser in to the
web UI: as NAME (created with --role if new, default member), or as the
Slack user (the same account "Sign in with Slack" and @incident login use).`

// loginLinkCommand is `herald login-link`.
func loginLinkCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("login-link", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("as", "", "the web user's name")
	role := fs.String("role", "", "role of a new user: admin, member or viewer")
	slackID := fs.String("slack", "", "a Slack user id instead of --as")
	fs.Usage = func() { fmt.Fprintln(stderr, loginLinkUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if (*name == "") == (*slackID == "") || fs.NArg() > 0 {
		return usageError{loginLinkUsage}
	}
	if *role != "" && !models.ValidWebRole(*role) {
		return usageError{fmt.Sprintf("--role %q: want admin, member or viewer", *role)}
	}
	cfg, log, err := loadConfig()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	a := &App{cfg: cfg, Store: models.NewStore(db, nil)}
	var link string
	if *slackID != "" {
		link, err = a.loginLinks().ForSlackUser(ctx, *slackID, "")
	} else {
		link, err = a.loginLinks().ForName(ctx, *name, *role)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, link)
	return nil
}
