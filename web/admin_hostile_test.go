package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
)

// The admin key: missing, wrong or in another scheme is a 401 that stores
// nothing and does not echo the key; the Bearer scheme is
// case-insensitive and spaces around the key do not matter.
func TestAdminKeyHostile(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newNoiseEnv(t, d)
			send := func(auth []string) int {
				req, err := http.NewRequest(http.MethodPost, env.srv.URL+"/api/v1/maintenance", strings.NewReader(goodWindow))
				noiseMust(t, err)
				for _, a := range auth {
					req.Header.Add("Authorization", a)
				}
				resp, err := env.srv.Client().Do(req)
				noiseMust(t, err)
				defer resp.Body.Close()
				return resp.StatusCode
			}
			before := env.windows()
			for _, auth := range [][]string{
				nil, {""}, {"Bearer"}, {"Bearer "}, {"Basic " + noiseAdminKey}, {noiseAdminKey},
				{"Bearer " + noiseAdminKey + "x"}, {"Bearer " + noiseAdminKey[:len(noiseAdminKey)-1]},
				{"Bearer " + strings.ToUpper(noiseAdminKey)}, {"Bearer " + noiseAdminKey[:5] + " " + noiseAdminKey[5:]},
				{"Bearer " + env.keys["prometheus"]},        // an integration key is not the admin key
				{"Bearer wrong", "Bearer " + noiseAdminKey}, // only the first header counts
			} {
				if got := send(auth); got != http.StatusUnauthorized {
					t.Errorf("Authorization %q: %d, want 401", auth, got)
				}
			}
			if n := env.windows(); n != before {
				t.Fatalf("refused requests stored windows: %d, was %d", n, before)
			}
			for i, auth := range []string{"bearer " + noiseAdminKey, "BEARER  " + noiseAdminKey + " "} {
				body := strings.Replace(goodWindow, `"name": "`, `"name": "v`+string(rune('a'+i)), 1)
				req, err := http.NewRequest(http.MethodPost, env.srv.URL+"/api/v1/maintenance", strings.NewReader(body))
				noiseMust(t, err)
				req.Header.Set("Authorization", auth)
				resp, err := env.srv.Client().Do(req)
				noiseMust(t, err)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					t.Errorf("variant %d: %d", i, resp.StatusCode)
				}
			}
		})
	}
}
