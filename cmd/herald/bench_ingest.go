package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/models"
)

// ingestClients is how many HTTP clients the ingest scenario runs at once.
const ingestClients = 64

// ingest: one `herald serve` child (the real server: HTTP API, worker,
// engine) takes --n PUT /api/v1/incidents from 64 concurrent clients; each
// incident's service pages one person by SMS, which the signed webhook
// vendor delivers to the sink. Slack is a local fake that answers ok.
func (e *benchEnv) ingest(ctx context.Context, r *ScenarioResult) error {
	key, err := e.seedIngest(ctx)
	if err != nil {
		return err
	}
	slack := startFakeSlack()
	defer slack.Close()
	base, err := e.startServe(ctx, slack.URL)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: ingestClients, MaxConnsPerHost: ingestClients}, Timeout: 30 * time.Second}
	var (
		mu      sync.Mutex
		sent    = map[int64]time.Time{} // incident id → request start
		lat     []float64
		non2xx  int
		failure string
	)
	start := time.Now()
	err = parallelDo(e.c.n, ingestClients, func(j int) error {
		body := fmt.Sprintf(`{"service":"bench","severity":"WARN","title":"bench incident %d","message":"load test","dedup_key":"bench-%d"}`, j, j)
		t0 := time.Now()
		id, status, raw, err := putIncident(ctx, client, base, key, body)
		if err != nil {
			return err
		}
		took := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, benchMS(took))
		if status/100 != 2 || id == 0 {
			non2xx++
			if failure == "" {
				failure = fmt.Sprintf("%d %s", status, bytes.TrimSpace(raw))
			}
			return nil
		}
		sent[id] = t0
		return nil
	})
	if err != nil {
		return err
	}
	lastRequest := time.Now()
	waitErr := e.sink.waitPaged(ctx, len(sent), 2*time.Minute)
	_, first, dups := e.sink.snapshot()
	var lastPage time.Time
	var pageLat []float64
	lost := 0
	for id, t := range sent {
		h, ok := first[id]
		if !ok {
			lost++
			continue
		}
		if h.Arrived.After(lastPage) {
			lastPage = h.Arrived
		}
		pageLat = append(pageLat, benchMS(h.Arrived.Sub(t)))
	}
	slices.Sort(lat)
	slices.Sort(pageLat)
	rss := e.peakRSS()
	f := r.Figures
	f["requests"], f["accepted"], f["non_2xx"], f["clients"] = e.c.n, len(sent), non2xx, ingestClients
	f["requests_ms"] = benchMS(lastRequest.Sub(start))
	f["requests_per_s"] = round1(float64(e.c.n) / lastRequest.Sub(start).Seconds())
	addPercentiles(f, "request_latency", lat)
	addPercentiles(f, "create_to_page", pageLat)
	allPaged := benchMS(lastPage.Sub(start))
	f["all_paged_after_first_request_ms"] = allPaged
	f["lost"], f["duplicates"], f["peak_rss_mb"] = lost, dups, rss
	if failure != "" {
		f["first_failure"] = failure
	}
	p99 := percentileOf(lat, 0.99)
	r.Checks = append(r.Checks,
		BenchCheck{"every PUT accepted (2xx)", fmt.Sprintf("%d of %d", len(sent), e.c.n), non2xx == 0},
		BenchCheck{"all first pages at the sink ≤ 5 s after the first request", fmt.Sprintf("%.0f ms, %d lost", allPaged, lost), lost == 0 && non2xx == 0 && allPaged <= 5000},
		BenchCheck{"p99 request latency ≤ 100 ms", fmt.Sprintf("%.1f ms", p99), p99 <= 100},
	)
	return waitErr
}

// putIncident raises an incident through the API with an integration key
// and returns the answer's incident id (0 when it has none), its status
// and body.
func putIncident(ctx context.Context, client *http.Client, base, key, body string) (int64, int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/api/v1/incidents", strings.NewReader(body))
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(raw, &out)
	return out.ID, resp.StatusCode, raw, nil
}

// seedIngest stores the paged person (low → SMS, a verified number), a
// plan paging them, the service "bench" with that plan, and an
// integration scoped to it; it returns the integration's key.
func (e *benchEnv) seedIngest(ctx context.Context) (string, error) {
	return e.seedIngestWith(ctx, onePagePlan)
}

// seedIngestWith is seedIngest with the plan's definition.
func (e *benchEnv) seedIngestWith(ctx context.Context, definition string) (string, error) {
	if _, err := e.seed(ctx, definition); err != nil {
		return "", err
	}
	db := e.gdb.WithContext(ctx)
	var person models.Person
	if err := db.Where("name = ?", "oncall").Take(&person).Error; err != nil {
		return "", err
	}
	var plan models.Plan
	if err := db.Where("name = ?", "bench").Take(&plan).Error; err != nil {
		return "", err
	}
	now := time.Now().UTC()
	rows := []any{
		&models.ContactMethod{ID: uuid.Must(uuid.NewV7()).String(), PersonID: person.ID, Mode: "sms", Destination: models.Secret("+15550100001"), VerifiedAt: &now, CreatedAt: now},
		&models.PriorityMode{PersonID: person.ID, Priority: "low", Modes: "sms"},
		&models.Service{ID: uuid.NewString(), Name: "bench", PlanID: &plan.ID, DefaultSeverity: models.SEV3, CreatedAt: now, UpdatedAt: now},
	}
	for _, row := range rows {
		if err := db.Create(row).Error; err != nil {
			return "", fmt.Errorf("seeding %T: %w", row, err)
		}
	}
	integ := &models.Integration{ID: models.NewIntegrationID(), Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := db.Create(integ).Error; err != nil {
		return "", err
	}
	if err := db.Create(&models.IntegrationService{IntegrationID: integ.ID, ServiceID: rows[2].(*models.Service).ID}).Error; err != nil {
		return "", err
	}
	return e.store.MintIntegrationKey(ctx, integ.ID, false)
}

// startServe starts `herald serve` on a free port against the benchmark
// database, pages going to the sink through the webhook vendor, and
// returns its base URL once /readyz answers.
func (e *benchEnv) startServe(ctx context.Context, slackURL string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(exe, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.dbURL, "ENCRYPTED_FIELD_KEY="+e.keys,
		"SLACK_BOT_TOKEN=xoxb-bench", "SLACK_SIGNING_SECRET=bench-signing-secret", "SLACK_API_URL="+slackURL+"/api/",
		"HERALD_ADDR="+addr, "HERALD_BASE_URL=http://"+addr, "HERALD_LOG_LEVEL=warn",
		"HERALD_WEBHOOK_URL="+e.sink.url, "HERALD_WEBHOOK_SECRET="+strings.Repeat("b", 40), "HERALD_WEBHOOK_MODES=sms")
	if e.c.profileDir != "" {
		cmd.Env = append(cmd.Env, "HERALD_PPROF_ADDR=127.0.0.1:6061")
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintf(e.log, "   [serve] %s\n", sc.Text())
		}
	}()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting herald serve: %w", err)
	}
	w := &benchWorker{cmd: cmd, name: "serve", done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = pw.Close(); close(w.done) }()
	go w.watchRSS()
	e.workers = append(e.workers, w)
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, nil
			}
		}
		select {
		case <-w.done:
			return "", fmt.Errorf("herald serve exited before it was ready")
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("herald serve not ready after 30 s")
		}
	}
}

// fakeSlack answers every Web API method ok, with a ts: the ingest
// scenario measures paging, not Slack.
type fakeSlack struct {
	srv *http.Server
	URL string
}

func startFakeSlack() *fakeSlack {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	f := &fakeSlack{URL: "http://" + ln.Addr().String()}
	f.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"CBENCH","ts":"1700000000.000100","user_id":"UBOT","team_id":"TBENCH","user":"herald"}`)
	})}
	go func() { _ = f.srv.Serve(ln) }()
	return f
}

func (f *fakeSlack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}
