package store

import "github.com/waorders/waorders"

// CreationActor is the Actor of the first entry of every order's history.
const CreationActor = "intake"

// WithCreation returns an order's history with its creation entry first.
// Drivers do not store that entry: it says only that the order was created
// pending when it was received, which the order row already holds, and
// writing it cost a row and an index entry per order on the intake path.
// stored are the history rows in version order; firstVersion is the version
// of the first of them. Databases written before this change hold the
// creation entry as version 1: it is kept as stored and not added again.
func WithCreation(o *waorders.Order, stored []waorders.StatusChange, firstVersion int64) []waorders.StatusChange {
	if len(stored) > 0 && firstVersion == 1 {
		return stored
	}
	created := waorders.StatusChange{At: o.ReceivedAt, Actor: CreationActor, To: waorders.OrderPending}
	return append([]waorders.StatusChange{created}, stored...)
}
