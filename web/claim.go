package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// Claim links. An e-mailed page carries /claim/<token>. GET only shows a
// confirmation page (mail scanners and link previews fetch links; a GET
// must never claim); its form POSTs the token back, which claims. The
// token is the whole authorization: there is no session or cookie to
// forge a request with, so no CSRF token is needed beyond it. A token is
// signed, expires, and works once (its use is recorded before claiming).

// ClaimTarget is the incident a claim link is for, as the pages show it.
type ClaimTarget struct {
	Number int64
	Title  string
	By     string // who claimed (after ClaimByLink); "" when unknown
}

// ErrNotPaging means the incident has no escalation left to stop: it was
// claimed or resolved already, or was never escalating.
var ErrNotPaging = errors.New("incident is not paging anyone")

// Claimer claims incidents for claim links; cmd/herald wires it to the
// escalation engine.
type Claimer interface {
	// ClaimTarget describes an incident for the confirmation page; an
	// unknown id is an error satisfying models.IsNotFound.
	ClaimTarget(ctx context.Context, incidentID int64) (ClaimTarget, error)
	// ClaimByLink stops paging for an incident for whoever was sent the
	// claim code. It returns ErrNotPaging (and the target) when there was
	// nothing to stop.
	ClaimByLink(ctx context.Context, incidentID int64, claimCode string) (ClaimTarget, error)
}

// ClaimTokenStore records claim link uses; *models.Store is one.
type ClaimTokenStore interface {
	UseClaimToken(ctx context.Context, tokenHash string) (first bool, err error)
	ClaimTokenUsed(ctx context.Context, tokenHash string) (bool, error)
	ForgetClaimToken(ctx context.Context, tokenHash string) error
}

// ClaimPages serves the claim links (Options.Claims). All fields are
// required.
type ClaimPages struct {
	Links   *notifications.ClaimLinks
	Used    ClaimTokenStore
	Claimer Claimer
}

func registerClaimPages(e *echo.Echo, o Options) {
	cp := o.Claims
	if cp.Links == nil || cp.Used == nil || cp.Claimer == nil {
		panic("web: Options.Claims needs Links, Used and Claimer")
	}
	h := &claimHandlers{ClaimPages: *cp, pages: &htmlPages{clock: o.Clock, log: o.Log}}
	if h.pages.clock == nil {
		h.pages.clock = models.SystemClock{}
	}
	if h.pages.log == nil {
		h.pages.log = slog.Default()
	}
	e.GET("/claim/:token", h.show)
	e.POST("/claim/:token", h.claim)
}

type claimHandlers struct {
	ClaimPages
	pages *htmlPages
}

type claimView struct {
	Number  int64
	Title   string
	Token   string
	Expires stamp
}

// verify checks the token's signature and expiry; on failure it has
// already written the error page (done is true).
func (h *claimHandlers) verify(c echo.Context) (link notifications.ClaimLink, done bool, err error) {
	c.Response().Header().Set("X-Robots-Tag", "noindex, nofollow")
	link, verr := h.Links.Verify(c.Param("token"), h.pages.clock.Now())
	switch {
	case errors.Is(verr, notifications.ErrClaimLinkExpired):
		return link, true, h.pages.renderError(c, http.StatusGone, "This claim link has expired",
			fmt.Sprintf("Claim links work for %s after the page is sent. Claim the incident in Slack, or reply with the claim code from the message.", linkLifetime(h.Links.TTL())))
	case verr != nil:
		return link, true, h.pages.renderError(c, http.StatusBadRequest, "This claim link is not valid",
			"The link is incomplete or was altered. Copy the whole link from the message, or claim the incident in Slack.")
	}
	return link, false, nil
}

func linkLifetime(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		if d == time.Hour {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

func (h *claimHandlers) alreadyUsed(c echo.Context) error {
	return h.pages.renderError(c, http.StatusGone, "This claim link was already used",
		"Each claim link works once, and this one has been used. The incident was claimed through it.")
}

// show is GET: the confirmation page. It changes nothing.
func (h *claimHandlers) show(c echo.Context) error {
	link, done, err := h.verify(c)
	if done {
		return err
	}
	ctx := c.Request().Context()
	used, err := h.Used.ClaimTokenUsed(ctx, link.UseKey)
	if err != nil {
		return h.pages.failed(c, "checking a claim link", err)
	}
	if used {
		return h.alreadyUsed(c)
	}
	target, err := h.Claimer.ClaimTarget(ctx, link.IncidentID)
	if models.IsNotFound(err) {
		return h.gone(c)
	}
	if err != nil {
		return h.pages.failed(c, "loading a claim link's incident", err)
	}
	return h.pages.render(c, http.StatusOK, "claim", claimView{
		Number: target.Number, Title: target.Title, Token: c.Param("token"), Expires: newStamp(link.Expires),
	})
}

func (h *claimHandlers) gone(c echo.Context) error {
	return h.pages.renderError(c, http.StatusNotFound, "Incident not found", "The incident this link claims no longer exists.")
}

// claim is POST: verify, record the use, claim.
func (h *claimHandlers) claim(c echo.Context) error {
	link, done, err := h.verify(c)
	if done {
		return err
	}
	if c.FormValue("token") != c.Param("token") {
		return h.pages.renderError(c, http.StatusBadRequest, "This claim link is not valid",
			"The form does not match the link. Open the link from the message again and press Claim.")
	}
	ctx := c.Request().Context()
	first, err := h.Used.UseClaimToken(ctx, link.UseKey)
	if err != nil {
		return h.pages.failed(c, "recording a claim link use", err)
	}
	if !first {
		return h.alreadyUsed(c)
	}
	target, err := h.Claimer.ClaimByLink(ctx, link.IncidentID, link.ClaimCode)
	switch {
	case err == nil:
		return h.pages.render(c, http.StatusOK, "claimed", target)
	case errors.Is(err, ErrNotPaging):
		// The link did its job: nothing pages for the incident any more.
		return h.pages.renderError(c, http.StatusConflict, fmt.Sprintf("Incident #%d is not paging anyone", target.Number),
			"It was already claimed or resolved, so there was nothing to stop.")
	case models.IsNotFound(err):
		return h.gone(c)
	}
	// A passing failure: let the link work again.
	if ferr := h.Used.ForgetClaimToken(context.WithoutCancel(ctx), link.UseKey); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return h.pages.failed(c, "claiming by link", err)
}
