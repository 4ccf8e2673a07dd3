package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/models"
)

// getSignedIn fetches a page of the signed-in web UI (the incident doc):
// it signs a viewer in with a one-time link first, as a browser would.
func (h *harness) getSignedIn(path string) response {
	h.t.Helper()
	link, err := h.node.app.loginLinks().ForName(h.ctx, "e2e-viewer", models.WebRoleViewer)
	if err != nil {
		h.t.Fatal(err)
	}
	noRedirect := &http.Client{Transport: h.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(h.srv.URL+"/login/link", url.Values{"token": {link[strings.LastIndex(link, "/")+1:]}})
	if err != nil {
		h.t.Fatalf("signing in: %v", err)
	}
	resp.Body.Close()
	req, err := http.NewRequestWithContext(h.ctx, http.MethodGet, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = noRedirect.Do(req)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
