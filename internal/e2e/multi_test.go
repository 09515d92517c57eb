package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/simulate"
	"github.com/waorders/waorders/internal/store/postgres"
)

// callbackAnswer is the part of a 200 answer these tests read.
type callbackAnswer struct {
	Messages []struct {
		ID     string `json:"id"`
		Result string `json:"result"`
	} `json:"messages"`
}

// TestTwoInstancesOnePostgres starts two serve processes on one fresh
// database and delivers each of 200 order callbacks to both at the same
// moment, twice: every delivery must be answered 200, each message must be
// reported `stored` by exactly one delivery, and the database must hold
// exactly one order per message.
func TestTwoInstancesOnePostgres(t *testing.T) {
	const (
		callbacks  = 200
		deliveries = 2 // to each instance
		inFlight   = 16
	)
	url := newPGDatabase(t)
	a := startServe(t, "--database-url", url, "--migrate")
	b := startServe(t, "--database-url", url) // the schema is migrated: no --migrate
	targets := []*server{a, b}

	// A fixed seed: the bodies are the same in every run.
	gen := simulate.New(20260101, simulate.Options{Mix: map[simulate.Kind]float64{simulate.KindOrder: 1}})
	bodies := make([][]byte, callbacks)
	var ids []string
	for i := range bodies {
		cb := gen.Next()
		if len(cb.Orders) != 1 || len(cb.MessageIDs) != 1 {
			t.Fatalf("generated callback %d has %d orders and %d messages, want 1 of each", i, len(cb.Orders), len(cb.MessageIDs))
		}
		bodies[i] = cb.Body
		ids = append(ids, cb.MessageIDs[0])
	}

	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: inFlight * deliveries * len(targets)},
	}
	defer client.CloseIdleConnections()

	var (
		mu       sync.Mutex
		outcomes = make(map[string]map[string]int) // message id → result → count
		failures []string
	)
	record := func(i int, target string, ans answer, err error) {
		mu.Lock()
		defer mu.Unlock()
		var msg string
		switch {
		case err != nil:
			msg = err.Error()
		case ans.code != http.StatusOK:
			msg = fmt.Sprintf("status %d: %s", ans.code, ans.body)
		}
		if msg == "" {
			var res callbackAnswer
			if err := json.Unmarshal(ans.body, &res); err != nil {
				msg = fmt.Sprintf("answer %q: %v", ans.body, err)
			}
			for _, m := range res.Messages {
				if outcomes[m.ID] == nil {
					outcomes[m.ID] = make(map[string]int)
				}
				outcomes[m.ID][m.Result]++
			}
		}
		if msg != "" {
			failures = append(failures, fmt.Sprintf("callback %d (%s) to %s: %s", i, ids[i], target, msg))
		}
	}

	ctx := context.Background()
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i, body := range bodies {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// All deliveries of one callback leave together.
			release := make(chan struct{})
			var each sync.WaitGroup
			for range deliveries {
				for _, s := range targets {
					each.Go(func() {
						<-release
						ans, err := postCallback(ctx, client, s.url, body)
						record(i, s.name, ans, err)
					})
				}
			}
			close(release)
			each.Wait()
		})
	}
	wg.Wait()

	for _, f := range failures {
		t.Errorf("delivery not answered 200: %s", f)
	}
	total := deliveries * len(targets)
	for _, id := range ids {
		got := outcomes[id]
		if got["stored"] != 1 || got["duplicate"] != total-1 {
			t.Errorf("message %s: results %v over %d deliveries, want stored once and duplicate %d times", id, got, total, total-1)
		}
	}

	for _, s := range targets {
		if err := s.sigterm(); err != nil {
			t.Errorf("%s after SIGTERM: %v, want exit status 0", s.name, err)
		}
	}
	st, err := postgres.Open(ctx, url, postgres.Options{NoMigrate: true})
	if err != nil {
		t.Fatalf("open the database after the test: %v", err)
	}
	defer st.Close()
	c := checkStored(t, st, &ackSet{messages: ids})
	if c.Orders != callbacks || c.Messages != callbacks {
		t.Errorf("database holds %d orders and %d messages, want exactly %d of each", c.Orders, c.Messages, callbacks)
	}
	t.Logf("%d callbacks × %d deliveries to each of 2 instances: %d answers 200, %d orders, %d messages stored",
		callbacks, deliveries, callbacks*total-len(failures), c.Orders, c.Messages)
}
