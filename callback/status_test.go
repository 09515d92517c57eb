package callback

import "testing"

// statusBody wraps statuses in a Kaleyra status callback; top holds extra
// top-level members, with a trailing comma.
func statusBody(statuses, extra, top string) []byte {
	return []byte(`{` + top + `"meta_object": {"value": {"messaging_product": "whatsapp", "statuses": [` + statuses +
		`]}, "field": "messages"}, "extra_info": {` + extra + `}}`)
}

const status0 = "meta_object.value.statuses[0]"

func TestStatuses(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		kinds     []StatusKind
		messageID []string
		problems  [][]want
	}{
		{
			name:      "KaleyraTopLevelMessageID",
			body:      statusBody(`{"id": "conv1", "status": "sent", "timestamp": "1"}`, `"message_id": "wamid.EXTRA"`, `"status": "sent", "message_id": "wamid.TOP", `),
			kinds:     []StatusKind{StatusSent},
			messageID: []string{"wamid.TOP"},
		},
		{
			name:      "KaleyraExtraInfoMessageID",
			body:      statusBody(`{"id": "conv1", "status": "read", "timestamp": "1"}`, `"message_id": "wamid.EXTRA"`, ``),
			kinds:     []StatusKind{StatusRead},
			messageID: []string{"wamid.EXTRA"},
		},
		{
			name:      "KaleyraOwnID",
			body:      statusBody(`{"id": "wamid.OWN", "status": "delivered", "timestamp": "1"}`, ``, ``),
			kinds:     []StatusKind{StatusDelivered},
			messageID: []string{"wamid.OWN"},
		},
		{
			name:      "KaleyraTwoStatusesKeepTheirIDs",
			body:      statusBody(`{"id": "wamid.A", "status": "sent", "timestamp": "1"}, {"id": "wamid.B", "status": "sent", "timestamp": "1"}`, `"message_id": "wamid.EXTRA"`, `"message_id": "wamid.TOP", `),
			kinds:     []StatusKind{StatusSent, StatusSent},
			messageID: []string{"wamid.A", "wamid.B"},
		},
		{
			name:      "NotSentNormalised",
			body:      statusBody(`{"status": "NOT-SENT", "timestamp": "1"}`, ``, `"message_id": "wamid.TOP", `),
			kinds:     []StatusKind{StatusNotSent},
			messageID: []string{"wamid.TOP"},
		},
		{
			name:      "MixedCase",
			body:      statusBody(`{"id": "w", "status": "Delivered", "timestamp": "1"}`, ``, ``),
			kinds:     []StatusKind{StatusDelivered},
			messageID: []string{"w"},
		},
		{
			name:      "Played",
			body:      statusBody(`{"id": "w", "status": "played", "timestamp": "1"}`, ``, ``),
			kinds:     []StatusKind{StatusPlayed},
			messageID: []string{"w"},
		},
		{
			name:      "UnknownStatus",
			body:      statusBody(`{"id": "w", "status": "deleted", "timestamp": "1"}`, ``, ``),
			kinds:     []StatusKind{"deleted"},
			messageID: []string{"w"},
			problems:  [][]want{{{CodeUnknownStatus, status0 + ".status"}}},
		},
		{
			name:      "MissingStatus",
			body:      statusBody(`{"id": "w", "timestamp": "1"}`, ``, ``),
			kinds:     []StatusKind{""},
			messageID: []string{"w"},
			problems:  [][]want{{{CodeMissingField, status0 + ".status"}}},
		},
		{
			name:      "MissingID",
			body:      statusBody(`{"status": "sent", "timestamp": "1"}`, ``, ``),
			kinds:     []StatusKind{StatusSent},
			messageID: []string{""},
			problems:  [][]want{{{CodeMissingID, status0 + ".id"}}},
		},
		{
			name:      "BadTimestamp",
			body:      statusBody(`{"id": "w", "status": "sent", "timestamp": "soon"}`, ``, ``),
			kinds:     []StatusKind{StatusSent},
			messageID: []string{"w"},
			problems:  [][]want{{{CodeInvalidTimestamp, status0 + ".timestamp"}}},
		},
		{
			name:      "NotAnObject",
			body:      statusBody(`"sent", {"id": "w", "status": "sent", "timestamp": "1"}`, ``, ``),
			kinds:     []StatusKind{"", StatusSent},
			messageID: []string{"", "w"},
			problems:  [][]want{{{CodeInvalidField, status0}}, nil},
		},
		{
			name:      "FailedWithErrorsAndPricing",
			body:      statusBody(`{"id": "w", "status": "failed", "timestamp": "1", "recipient_id": "r", "biz_opaque_callback_data": "o", "conversation": {"id": "c", "expiration_timestamp": 1767300000, "origin": {"type": "service"}}, "pricing": {"billable": true, "pricing_model": "CBP", "category": "service"}, "errors": [{"code": 131049}]}`, ``, ``),
			kinds:     []StatusKind{StatusFailed},
			messageID: []string{"w"},
		},
		{
			name:      "PricingBillableNotBoolean",
			body:      statusBody(`{"id": "w", "status": "sent", "timestamp": "1", "pricing": {"billable": "yes"}}`, ``, ``),
			kinds:     []StatusKind{StatusSent},
			messageID: []string{"w"},
			problems:  [][]want{{{CodeInvalidField, status0 + ".pricing.billable"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := mustDecode(t, tt.body).Statuses()
			if len(ss) != len(tt.kinds) {
				t.Fatalf("%d statuses, want %d", len(ss), len(tt.kinds))
			}
			for i, s := range ss {
				if s.Status != tt.kinds[i] || s.MessageID != tt.messageID[i] {
					t.Errorf("status %d = %q for %q, want %q for %q", i, s.Status, s.MessageID, tt.kinds[i], tt.messageID[i])
				}
				var wants []want
				if i < len(tt.problems) {
					wants = tt.problems[i]
				}
				checkProblemList(t, s.Problems, wants)
			}
		})
	}

	t.Run("FailedDetails", func(t *testing.T) {
		s := mustDecode(t, statusBody(`{"id": "w", "status": "failed", "timestamp": "1", "recipient_id": "r", "biz_opaque_callback_data": "o", "conversation": {"id": "c", "expiration_timestamp": 1767300000, "origin": {"type": "service"}}, "pricing": {"billable": true, "pricing_model": "CBP", "category": "service"}, "errors": [{"code": 131049}]}`, ``, ``)).Statuses()[0]
		if s.RecipientID != "r" || s.BizOpaqueCallbackData != "o" || len(s.Errors) != 1 || s.Errors[0].Code != 131049 {
			t.Errorf("status = %+v", s)
		}
		if c := s.Conversation; c == nil || *c != (Conversation{ID: "c", ExpirationTimestamp: "1767300000", OriginType: "service"}) {
			t.Errorf("Conversation = %+v", c)
		}
		if p := s.Pricing; p == nil || p.Billable == nil || !*p.Billable || p.PricingModel != "CBP" || p.Category != "service" {
			t.Errorf("Pricing = %+v", p)
		}
	})
	t.Run("MetaIgnoresTopLevelMessageID", func(t *testing.T) {
		cb := mustDecode(t, []byte(`{"message_id": "x", "entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.M", "status": "sent", "timestamp": "1"}]}}]}]}`))
		if got := cb.Statuses()[0].MessageID; got != "wamid.M" {
			t.Errorf("MessageID = %q", got)
		}
	})
}

func TestStatusRank(t *testing.T) {
	tests := []struct {
		kind     StatusKind
		rank     int
		terminal bool
	}{
		{StatusSent, 1, false},
		{StatusDelivered, 2, false},
		{StatusRead, 3, false},
		{StatusPlayed, 4, false},
		{StatusFailed, 100, true},
		{StatusNotSent, 100, true},
		{"deleted", 0, false},
		{"", 0, false},
		{"SENT", 0, false}, // Decode lower-cases; the methods do not
	}
	for _, tt := range tests {
		if got := tt.kind.Rank(); got != tt.rank {
			t.Errorf("%q.Rank() = %d, want %d", tt.kind, got, tt.rank)
		}
		if got := tt.kind.Terminal(); got != tt.terminal {
			t.Errorf("%q.Terminal() = %v, want %v", tt.kind, got, tt.terminal)
		}
		if got := tt.kind.Known(); got != (tt.rank > 0) {
			t.Errorf("%q.Known() = %v", tt.kind, got)
		}
	}
}

func TestAdvances(t *testing.T) {
	tests := []struct {
		from, to StatusKind
		want     bool
	}{
		{"", StatusSent, true},
		{StatusSent, StatusDelivered, true},
		{StatusSent, StatusRead, true}, // delivered may be skipped
		{StatusDelivered, StatusRead, true},
		{StatusRead, StatusPlayed, true},
		{StatusRead, StatusSent, false}, // a late sent never overwrites read
		{StatusRead, StatusDelivered, false},
		{StatusDelivered, StatusDelivered, false},
		{StatusRead, StatusFailed, true},
		{StatusSent, StatusNotSent, true},
		{StatusFailed, StatusRead, false}, // failed is terminal
		{StatusFailed, StatusNotSent, false},
		{StatusNotSent, StatusFailed, false},
		{StatusFailed, StatusFailed, false},
		{StatusSent, "deleted", false},
	}
	for _, tt := range tests {
		if got := Advances(tt.from, tt.to); got != tt.want {
			t.Errorf("Advances(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}
