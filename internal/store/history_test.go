package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

func TestWithCreation(t *testing.T) {
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := &waorders.Order{ReceivedAt: received}
	created := waorders.StatusChange{At: received, Actor: store.CreationActor, To: waorders.OrderPending}
	legacy := waorders.StatusChange{At: received.Add(time.Second), Actor: store.CreationActor, To: waorders.OrderPending}
	change := waorders.StatusChange{At: received.Add(time.Hour), Actor: "ops", From: waorders.OrderPending, To: waorders.OrderProcessing}
	tests := []struct {
		name   string
		stored []waorders.StatusChange
		first  int64
		want   []waorders.StatusChange
	}{
		{"NothingStored", nil, 0, []waorders.StatusChange{created}},
		{"ChangesStored", []waorders.StatusChange{change}, 2, []waorders.StatusChange{created, change}},
		{"CreationStored", []waorders.StatusChange{legacy}, 1, []waorders.StatusChange{legacy}},
		{"CreationAndChangesStored", []waorders.StatusChange{legacy, change}, 1, []waorders.StatusChange{legacy, change}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, store.WithCreation(o, tt.stored, tt.first)); d != "" {
				t.Errorf("WithCreation (-want +got):\n%s", d)
			}
		})
	}
}
