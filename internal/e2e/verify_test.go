package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// storedCounts is what checkStored found.
type storedCounts struct {
	Messages   int // messages in the database
	Orders     int // orders in the database (ExportOrders)
	Missing    int // acknowledged records not found
	Duplicates int // order ids ExportOrders yielded more than once
}

// maxReported bounds the missing records listed one by one.
const maxReported = 10

// checkStored reads st (a database no server uses any more) and checks
// that every acknowledged message is stored and has exactly one order
// (every message the tests acknowledge is an order), that every
// acknowledged status update is stored, and that no order exists twice.
// Each problem is reported with t.Errorf.
func checkStored(t *testing.T, st store.Store, acks *ackSet) storedCounts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var c storedCounts
	missing := func(format string, args ...any) {
		t.Helper()
		c.Missing++
		if c.Missing <= maxReported {
			t.Errorf("LOST: "+format, args...)
		}
	}
	for _, id := range acks.messages {
		if _, err := st.GetMessage(ctx, id); err != nil {
			missing("acknowledged message %s: GetMessage: %v", id, err)
			continue
		}
		if _, err := st.GetOrder(ctx, id); err != nil {
			missing("acknowledged order %s: GetOrder: %v", id, err)
		}
	}

	byMessage := make(map[string][]string)
	for _, k := range acks.statuses {
		byMessage[k.messageID] = append(byMessage[k.messageID], k.status)
	}
	for id, want := range byMessage {
		got, err := st.ListStatuses(ctx, id)
		if err != nil {
			missing("acknowledged statuses of %s: ListStatuses: %v", id, err)
			continue
		}
		have := make(map[string]bool, len(got))
		for _, u := range got {
			have[u.Status] = true
		}
		for _, s := range want {
			if !have[s] {
				missing("acknowledged status %q of %s is not stored", s, id)
			}
		}
	}

	seen := make(map[string]bool)
	err := st.ExportOrders(ctx, store.ListOrdersParams{}, func(o *waorders.Order) error {
		c.Orders++
		if seen[o.ID] {
			c.Duplicates++
			t.Errorf("DUPLICATE: order %s exported more than once", o.ID)
		}
		seen[o.ID] = true
		return nil
	})
	if err != nil {
		t.Fatalf("export orders: %v", err)
	}

	f := store.ListMessagesParams{Limit: store.MaxLimit}
	for {
		page, err := st.ListMessages(ctx, f)
		if err != nil {
			t.Fatalf("list messages: %v", err)
		}
		c.Messages += len(page.Messages)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if c.Missing > maxReported {
		t.Errorf("LOST: %d acknowledged records in all (first %d listed)", c.Missing, maxReported)
	}
	return c
}
