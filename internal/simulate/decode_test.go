package simulate

import (
	"errors"
	"slices"
	"testing"

	"github.com/waorders/waorders/callback"
)

// TestDecodeAgreesWithGenerator feeds every generated body through the
// real decoder: well-formed callbacks decode with every message usable,
// orders carry the expected totals, statuses the expected keys; defects are
// reported as the defect they are.
func TestDecodeAgreesWithGenerator(t *testing.T) {
	t.Parallel()
	eachEnvelope(t, []int{1, 3}, Options{MalformedShare: 0.15, MaxItems: 8}, func(t *testing.T, opts Options) {
		for i, cb := range generate(31, opts, 1500) {
			got, err := callback.Decode(cb.Body)
			if cb.Malformed && cb.Defect.wholeBody() {
				var de *callback.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("callback %d (%s): Decode error = %v, want a *DecodeError", i, cb.Defect, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("callback %d (%s): %v\n%s", i, cb.Kind, err, cb.Body)
			}
			if got.Envelope != opts.Envelope {
				t.Fatalf("callback %d: decoded envelope %q, want %q", i, got.Envelope, opts.Envelope)
			}
			checkDecodedMessages(t, i, cb, got)
			checkDecodedStatuses(t, i, cb, got)
		}
	})
}

// defectCodes maps each order-level defect to the problem code Decode
// should report for it.
var defectCodes = map[Defect]string{
	DefectZeroQuantity:    callback.CodeInvalidQuantity,
	DefectUnknownCurrency: callback.CodeUnknownCurrency,
	DefectTooPrecise:      callback.CodeTooPrecise,
}

func checkDecodedMessages(t *testing.T, i int, cb Generated, got *callback.Callback) {
	t.Helper()
	var usable, defective []string
	orders := map[string]*callback.Order{}
	for _, m := range got.Messages() {
		if !m.Usable() {
			defective = append(defective, m.ID)
			if want := defectCodes[cb.Defect]; !slices.ContainsFunc(m.Problems, func(p callback.Problem) bool { return p.Code == want }) {
				t.Fatalf("callback %d: message %s problems %+v, want code %q", i, m.ID, m.Problems, want)
			}
			continue
		}
		for _, p := range m.Problems {
			if p.Code != callback.CodeUnknownType || m.Type != callback.TypeUnknown {
				t.Fatalf("callback %d: usable message %s has problem %+v\n%s", i, m.ID, p, m.Raw)
			}
		}
		usable = append(usable, m.ID)
		if m.Order != nil {
			orders[m.ID] = m.Order
		}
	}
	if !slices.Equal(usable, cb.MessageIDs) || !slices.Equal(defective, cb.DefectiveIDs) {
		t.Fatalf("callback %d: decoder found usable %v defective %v, generator says %v and %v",
			i, usable, defective, cb.MessageIDs, cb.DefectiveIDs)
	}
	if len(orders) != len(cb.Orders) {
		t.Fatalf("callback %d: decoder found %d orders, generator says %d", i, len(orders), len(cb.Orders))
	}
	for _, want := range cb.Orders {
		o := orders[want.MessageID]
		if o == nil || !slices.Equal(o.Totals, want.Totals) || len(o.Items) != want.Items {
			t.Fatalf("callback %d: order %s decoded as %+v, want totals %v and %d items", i, want.MessageID, o, want.Totals, want.Items)
		}
	}
}

func checkDecodedStatuses(t *testing.T, i int, cb Generated, got *callback.Callback) {
	t.Helper()
	var keys []StatusKey
	for _, s := range got.Statuses() {
		if !s.Usable() {
			t.Fatalf("callback %d: status %s unusable: %+v", i, s.ID, s.Problems)
		}
		keys = append(keys, StatusKey{MessageID: s.MessageID, Status: string(s.Status)})
	}
	if !slices.Equal(keys, cb.StatusKeys) {
		t.Fatalf("callback %d: decoded status keys %v, generator says %v", i, keys, cb.StatusKeys)
	}
}
