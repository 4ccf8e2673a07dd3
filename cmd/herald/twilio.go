package main

import (
	"log/slog"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/apimetrics"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

// registerTwilio adds the Twilio SMS and voice vendors after the others
// of their modes.
func (a *App) registerTwilio(v *notifications.Vendors, log *slog.Logger) error {
	tc := notifications.TwilioConfig{AccountSID: a.cfg.TwilioAccountSID, AuthToken: a.cfg.TwilioAuthToken, From: a.cfg.TwilioFromNumber,
		APIURL: a.cfg.TwilioAPIURL, BaseURL: a.cfg.BaseURL, Log: log, Now: a.Store.Clock().Now,
		// The default transport, timed per call (herald_api_request_seconds).
		Transport: apimetrics.Transport(a.vendorHTTP().RoundTripper(), a.obs, "twilio", notifications.TwilioAPIMethod, nil)}
	sms, err := notifications.NewTwilioSMS(tc)
	if err != nil {
		return err
	}
	voice, err := notifications.NewTwilioVoice(tc)
	if err != nil {
		return err
	}
	// Twilio can fail a page after accepting it (its delivery report):
	// the page then goes to the next vendor of its mode, never back here.
	if err := v.Register(sms); err != nil {
		return err
	}
	return v.Register(voice)
}

// twilioWeb wires Twilio's webhooks when Twilio is configured: SMS
// replies and keypresses claim through the handlers, so the incident,
// its timeline and headline change as with a Slack claim.
func (a *App) twilioWeb(deps handlers.Deps) *web.TwilioOptions {
	if !a.cfg.Twilio() {
		return nil
	}
	return &web.TwilioOptions{AuthToken: a.cfg.TwilioAuthToken, BaseURL: a.cfg.BaseURL, Store: a.Store,
		Claimer: handlers.NewPhoneActions(deps), Escalator: a.Engine, Deliveries: a.Engine}
}
