package callback

import (
	"strings"
	"testing"
	"time"
)

const msg0 = "meta_object.value.messages[0]"

// TestBatchOfThree checks that every message of a change is returned, each
// with its own path, and that the contacts are kept.
func TestBatchOfThree(t *testing.T) {
	cb := mustDecode(t, mustRead(t, "testdata/kaleyra_batch3.json"))
	msgs := cb.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	wantTypes := []MessageType{TypeText, TypeOrder, TypeReaction}
	for i, m := range msgs {
		if m.Type != wantTypes[i] || m.Path != "meta_object.value.messages["+string(rune('0'+i))+"]" || !m.Usable() {
			t.Errorf("message %d: %s at %s, usable %v", i, m.Type, m.Path, m.Usable())
		}
	}
	if got := msgs[1].Order.Totals; len(got) != 1 || got[0] != amount("INR", 124900) {
		t.Errorf("Totals = %v, want 1249.00 INR", got)
	}
	if msgs[2].Reaction.Emoji != "👍" {
		t.Errorf("emoji = %q", msgs[2].Reaction.Emoji)
	}
	ch := cb.Changes[0]
	if c := ch.Contact("919900000002"); c == nil || c.Name != "Test Buyer Two" {
		t.Errorf("Contact = %+v", c)
	}
	if ch.Contact("nobody") != nil {
		t.Error("Contact of an unknown wa_id is not nil")
	}
}

// TestMessages covers the typed payloads and the message-level rules.
func TestMessages(t *testing.T) {
	tests := []struct {
		name     string
		message  string
		problems []want
		check    func(t *testing.T, m *Message)
	}{
		{
			name:     "UnknownTypeKept",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "poll", "poll": {"q": 1}}`,
			problems: []want{{CodeUnknownType, msg0 + ".type"}},
			check: func(t *testing.T, m *Message) {
				if m.Known() || !m.Usable() || !strings.Contains(string(m.Raw), `"poll": {"q": 1}`) {
					t.Errorf("unknown message: known %v usable %v raw %s", m.Known(), m.Usable(), m.Raw)
				}
				if m.Problems[0].Severity != SeverityWarning {
					t.Errorf("severity = %s", m.Problems[0].Severity)
				}
			},
		},
		{
			name:     "TypeMissing",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "text": {"body": "hi"}}`,
			problems: []want{{CodeMissingField, msg0 + ".type"}},
			check: func(t *testing.T, m *Message) {
				if m.Text != nil {
					t.Error("a payload without type was kept")
				}
			},
		},
		{
			name:     "NotAnObject",
			message:  `[1, 2]`,
			problems: []want{{CodeInvalidField, msg0}},
			check: func(t *testing.T, m *Message) {
				if string(m.Raw) != `[1, 2]` || m.Usable() {
					t.Errorf("Raw = %s, usable %v", m.Raw, m.Usable())
				}
			},
		},
		{
			name:     "NullMessage",
			message:  `null`,
			problems: []want{{CodeInvalidField, msg0}},
		},
		{
			name:     "WrongTypedFieldIsAProblem",
			message:  `{"id": "w", "from": 919900000001, "timestamp": "1", "type": "text", "text": {"body": "hi"}}`,
			problems: []want{{CodeInvalidField, msg0 + ".from"}},
		},
		{
			name:    "TypeAfterPayload",
			message: `{"text": {"body": "hi"}, "id": "w", "from": "1", "timestamp": "1", "type": "text"}`,
			check: func(t *testing.T, m *Message) {
				if m.Text == nil || m.Text.Body != "hi" {
					t.Errorf("Text = %+v", m.Text)
				}
			},
		},
		{
			name:    "PayloadOfAnotherTypeDropped",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "text", "text": {"body": "hi"}, "order": {"product_items": [{"quantity": 0}]}, "image": {"id": 5}}`,
			check: func(t *testing.T, m *Message) {
				if m.Order != nil || m.Image != nil || m.Text == nil {
					t.Errorf("order %v image %v text %v", m.Order, m.Image, m.Text)
				}
			},
		},
		{
			name:     "PayloadMissing",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "text"}`,
			problems: []want{{CodeMissingField, msg0 + ".text"}},
		},
		{
			name:     "PayloadNull",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "image", "image": null}`,
			problems: []want{{CodeMissingField, msg0 + ".image"}},
		},
		{
			name:    "ContextAndForwarded",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "text", "text": {"body": "x"}, "context": {"from": "1", "id": "wamid.Q", "forwarded": true, "frequently_forwarded": true, "referred_product": {"catalog_id": "9", "product_retailer_id": "sku"}}}`,
			check: func(t *testing.T, m *Message) {
				c := m.Context
				if c == nil || c.From != "1" || c.ID != "wamid.Q" || !c.Forwarded || !c.FrequentlyForwarded ||
					c.ReferredProduct == nil || *c.ReferredProduct != (ReferredProduct{CatalogID: "9", ProductRetailerID: "sku"}) {
					t.Errorf("Context = %+v", c)
				}
			},
		},
		{
			name:     "ForwardedNotBoolean",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "text", "text": {"body": "x"}, "context": {"forwarded": "yes"}}`,
			problems: []want{{CodeInvalidField, msg0 + ".context.forwarded"}},
		},
		{
			name:    "Referral",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "text", "text": {"body": "x"}, "referral": {"source_url": "u", "source_id": "i", "source_type": "ad", "body": "b", "headline": "h", "media_type": "video", "video_url": "v", "thumbnail_url": "th", "ctwa_clid": "c", "welcome_message": {"text": "w"}}}`,
			check: func(t *testing.T, m *Message) {
				want := Referral{SourceURL: "u", SourceID: "i", SourceType: "ad", Body: "b", Headline: "h", MediaType: "video",
					VideoURL: "v", ThumbnailURL: "th", CtwaClid: "c", WelcomeMessageText: "w"}
				if m.Referral == nil || *m.Referral != want {
					t.Errorf("Referral = %+v", m.Referral)
				}
			},
		},
		{
			name:    "LocationKeepsNumberText",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "location", "location": {"latitude": 12.97159870000000001, "longitude": -77.5e0, "name": "N", "address": "A", "url": "U"}}`,
			check: func(t *testing.T, m *Message) {
				if l := m.Location; l == nil || l.Latitude != "12.97159870000000001" || l.Longitude != "-77.5e0" || l.Name != "N" || l.URL != "U" {
					t.Errorf("Location = %+v", l)
				}
			},
		},
		{
			name:    "ContactPhonesArray",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "contacts", "contacts": [{"name": {"formatted_name": "A B", "first_name": "A", "last_name": "B"}, "phones": [{"phone": "+1", "wa_id": "1", "type": "CELL"}, {"phone": "+2"}]}]}`,
			check: func(t *testing.T, m *Message) {
				if len(m.Contacts) != 1 || len(m.Contacts[0].Phones) != 2 || m.Contacts[0].Phones[0] != (ContactPhone{Phone: "+1", WaID: "1", Type: "CELL"}) {
					t.Errorf("Contacts = %+v", m.Contacts)
				}
				if !strings.HasPrefix(string(m.Contacts[0].Raw), `{"name"`) {
					t.Errorf("card Raw = %s", m.Contacts[0].Raw)
				}
			},
		},
		{
			name:    "ContactPhonesObject",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "contacts", "contacts": [{"name": {"formatted_name": "A"}, "phones": {"phone": "+1", "wa_id": "1", "type": "MOBILE"}}]}`,
			check: func(t *testing.T, m *Message) {
				if len(m.Contacts) != 1 || len(m.Contacts[0].Phones) != 1 || m.Contacts[0].Phones[0].WaID != "1" {
					t.Errorf("Contacts = %+v", m.Contacts)
				}
			},
		},
		{
			name:    "ListReply",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "r", "title": "T", "description": "D"}}}`,
			check: func(t *testing.T, m *Message) {
				if in := m.Interactive; in.ListReply == nil || *in.ListReply != (ListReply{ID: "r", Title: "T", Description: "D"}) {
					t.Errorf("Interactive = %+v", in)
				}
			},
		},
		{
			name:    "NFMReplyDecodesResponseJSON",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{\"flow_token\": \"t\", \"n\": 1.50}"}}}`,
			check: func(t *testing.T, m *Message) {
				n := m.Interactive.NFMReply
				if n == nil || n.Name != "flow" || string(n.Response) != `{"flow_token": "t", "n": 1.50}` || n.ResponseJSON != string(n.Response) {
					t.Errorf("NFMReply = %+v", n)
				}
			},
		},
		{
			name:     "NFMReplyInvalidResponseJSON",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow", "response_json": "{\"a\":"}}}`,
			problems: []want{{CodeInvalidResponseJSON, msg0 + ".interactive.nfm_reply.response_json"}},
			check: func(t *testing.T, m *Message) {
				if n := m.Interactive.NFMReply; n.Response != nil || n.ResponseJSON != `{"a":` || !m.Usable() {
					t.Errorf("NFMReply = %+v, usable %v", n, m.Usable())
				}
			},
		},
		{
			name:     "InteractiveUnknownType",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "interactive", "interactive": {"type": "call_permission_reply", "call_permission_reply": {}}}`,
			problems: []want{{CodeUnknownType, msg0 + ".interactive.type"}},
		},
		{
			name:     "InteractiveReplyMissing",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "interactive", "interactive": {"type": "button_reply"}}`,
			problems: []want{{CodeMissingField, msg0 + ".interactive.button_reply"}},
		},
		{
			name:    "Button",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "button", "button": {"payload": "P", "text": "T"}}`,
			check: func(t *testing.T, m *Message) {
				if m.Button == nil || *m.Button != (Button{Payload: "P", Text: "T"}) {
					t.Errorf("Button = %+v", m.Button)
				}
			},
		},
		{
			name:    "ReactionRemoved",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "reaction", "reaction": {"message_id": "wamid.X"}}`,
			check: func(t *testing.T, m *Message) {
				if m.Reaction == nil || m.Reaction.Emoji != "" || m.Reaction.MessageID != "wamid.X" {
					t.Errorf("Reaction = %+v", m.Reaction)
				}
			},
		},
		{
			// Meta's edit webhook (Coexistence numbers): the new content is a
			// message object without id, sender or timestamp.
			name: "Edit",
			message: `{"id": "wamid.E", "from": "1", "timestamp": "1", "type": "edit", "edit": {"original_message_id": "wamid.O",
				"message": {"context": {"from": "2", "id": "wamid.Q"}, "type": "text", "text": {"body": "2 kg, not 1"}}}}`,
			check: func(t *testing.T, m *Message) {
				if m.Edit == nil || m.Edit.OriginalMessageID != "wamid.O" || m.Edit.Message == nil {
					t.Fatalf("Edit = %+v", m.Edit)
				}
				n := m.Edit.Message
				if n.Type != TypeText || n.Text == nil || n.Text.Body != "2 kg, not 1" || n.Context == nil || n.Context.ID != "wamid.Q" ||
					n.Path != msg0+".edit.message" || n.ID != "" {
					t.Errorf("edited message = %+v", n)
				}
				if got := m.Summary(); got != "edited: 2 kg, not 1" {
					t.Errorf("Summary = %q", got)
				}
			},
		},
		{
			name: "EditOfACaptionKeepsOnlyItsType",
			message: `{"id": "wamid.E", "from": "1", "timestamp": "1", "type": "edit", "edit": {"original_message_id": "wamid.O",
				"message": {"type": "image", "image": {"id": "m", "caption": "new"}, "text": {"body": "stray"}}}}`,
			check: func(t *testing.T, m *Message) {
				if n := m.Edit.Message; n.Image == nil || n.Image.Caption != "new" || n.Text != nil {
					t.Errorf("edited message = %+v", n)
				}
			},
		},
		{
			name:     "EditWithoutPayload",
			message:  `{"id": "wamid.E", "from": "1", "timestamp": "1", "type": "edit", "edit": {"original_message_id": "wamid.O", "message": {"type": "text"}}}`,
			problems: []want{{CodeMissingField, msg0 + ".edit.message.text"}},
			check: func(t *testing.T, m *Message) {
				if !m.Usable() || m.Summary() != "edited: [text]" {
					t.Errorf("usable %v, summary %q", m.Usable(), m.Summary())
				}
			},
		},
		{
			name:    "Revoke",
			message: `{"id": "wamid.R", "from": "1", "timestamp": "1", "type": "revoke", "revoke": {"original_message_id": "wamid.O"}}`,
			check: func(t *testing.T, m *Message) {
				if m.Revoke == nil || m.Revoke.OriginalMessageID != "wamid.O" || m.Summary() != "[message deleted]" || !m.Known() {
					t.Errorf("Revoke = %+v, summary %q", m.Revoke, m.Summary())
				}
			},
		},
		{
			name:     "RevokeWithoutItsObject",
			message:  `{"id": "wamid.R", "from": "1", "timestamp": "1", "type": "revoke"}`,
			problems: []want{{CodeMissingField, msg0 + ".revoke"}},
		},
		{
			name:    "MediaFields",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "document", "document": {"id": "m", "mime_type": "application/pdf", "sha256": "s", "caption": "c", "filename": "f.pdf"}}`,
			check: func(t *testing.T, m *Message) {
				want := Media{ID: "m", MimeType: "application/pdf", SHA256: "s", Caption: "c", Filename: "f.pdf"}
				if m.Document == nil || *m.Document != want {
					t.Errorf("Document = %+v", m.Document)
				}
			},
		},
		{
			name:    "System",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "system", "system": {"body": "B", "type": "user_changed_user_id", "user_id": "US.1", "customer": "c"}}`,
			check: func(t *testing.T, m *Message) {
				if s := m.System; s == nil || s.Type != "user_changed_user_id" || s.UserID != "US.1" || s.Customer != "c" {
					t.Errorf("System = %+v", s)
				}
			},
		},
		{
			name:    "UnsupportedWithErrors",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "unsupported", "unsupported": {"type": "edit"}, "errors": [{"code": 131051, "title": "T", "error_data": {"details": "D"}}]}`,
			check: func(t *testing.T, m *Message) {
				if m.Unsupported == nil || m.Unsupported.Type != "edit" || len(m.Errors) != 1 || m.Errors[0] != (Error{Code: 131051, Title: "T", Details: "D"}) {
					t.Errorf("unsupported = %+v %+v", m.Unsupported, m.Errors)
				}
			},
		},
		{
			name:    "OldUnknownTypeWithoutPayload",
			message: `{"id": "w", "from": "1", "timestamp": "1", "type": "unknown", "errors": [{"code": "131051"}]}`,
			check: func(t *testing.T, m *Message) {
				if !m.Known() || len(m.Errors) != 1 || m.Errors[0].Code != 131051 {
					t.Errorf("message = %+v", m)
				}
			},
		},
		{
			name:     "ErrorCodeNotInteger",
			message:  `{"id": "w", "from": "1", "timestamp": "1", "type": "unknown", "errors": [{"code": "x"}]}`,
			problems: []want{{CodeInvalidField, msg0 + ".errors[0].code"}},
		},
		{
			name:    "UnknownFieldsIgnored",
			message: `{"id": "w", "from": "1", "new": {"deep": [[[{}]]]}, "timestamp": "1", "type": "text", "text": {"body": "x", "preview": true}, "identity": {"acknowledged": true}}`,
			check: func(t *testing.T, m *Message) {
				if m.Text.Body != "x" {
					t.Errorf("Text = %+v", m.Text)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustDecode(t, messageBody(tt.message)).Messages()[0]
			checkProblemList(t, m.Problems, tt.problems)
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

// TestTimestamps covers the accepted spellings of unix seconds and the
// warning for the rest.
func TestTimestamps(t *testing.T) {
	tests := []struct {
		name string
		ts   string // JSON value; "" leaves the member out
		want time.Time
		raw  string
	}{
		{"String", `"1767225600"`, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "1767225600"},
		{"Number", `1767225600`, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "1767225600"},
		{"Zero", `"0"`, time.Unix(0, 0).UTC(), "0"},
		{"KaleyraPlaceholder", `"17XXXXXXXX"`, time.Time{}, "17XXXXXXXX"},
		{"Missing", ``, time.Time{}, ""},
		{"Null", `null`, time.Time{}, ""},
		{"Negative", `"-5"`, time.Time{}, "-5"},
		{"Fraction", `1767225600.5`, time.Time{}, "1767225600.5"},
		{"Exponent", `1.7e9`, time.Time{}, "1.7e9"},
		{"Plus", `"+1767225600"`, time.Time{}, "+1767225600"},
		{"AfterYear9999", `"253402300800"`, time.Time{}, "253402300800"},
		{"Year9999", `"253402300799"`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), "253402300799"},
		{"Boolean", `true`, time.Time{}, "true"},
		{"ISODate", `"2026-01-01T00:00:00Z"`, time.Time{}, "2026-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			member := ""
			if tt.ts != "" {
				member = `"timestamp": ` + tt.ts + `, `
			}
			m := mustDecode(t, messageBody(`{"id": "w", "from": "1", `+member+`"type": "text", "text": {"body": "x"}}`)).Messages()[0]
			if !m.Timestamp.Equal(tt.want) || m.RawTimestamp != tt.raw {
				t.Errorf("Timestamp = %v, RawTimestamp = %q; want %v, %q", m.Timestamp, m.RawTimestamp, tt.want, tt.raw)
			}
			if tt.want.IsZero() {
				checkProblemList(t, m.Problems, []want{{CodeInvalidTimestamp, msg0 + ".timestamp"}})
				if m.Problems[0].Severity != SeverityWarning || !m.Usable() {
					t.Error("a bad timestamp must be a warning only")
				}
			} else {
				checkProblemList(t, m.Problems, nil)
				if m.Timestamp.Location() != time.UTC {
					t.Errorf("Timestamp not in UTC: %v", m.Timestamp.Location())
				}
			}
		})
	}
}

// TestMetaPaths checks message paths in Meta's envelope across entries and
// changes.
func TestMetaPaths(t *testing.T) {
	body := `{"entry": [{"id": "1", "changes": [{"value": {}}]}, {"id": "2", "changes": [{"value": {}}, {"value": {"messages": [
		{"id": "a", "from": "1", "timestamp": "1", "type": "text", "text": {"body": "x"}},
		{"id": "b", "from": "1", "timestamp": "1", "type": "order", "order": {"product_items": [{"product_retailer_id": "s", "quantity": 1, "item_price": 1, "currency": "ABC"}]}}]}}]}]}`
	cb := mustDecode(t, []byte(body))
	msgs := cb.Messages()
	if len(msgs) != 2 || msgs[1].Path != "entry[1].changes[1].value.messages[1]" {
		t.Fatalf("messages = %+v", msgs)
	}
	checkProblemList(t, msgs[1].Problems, []want{{CodeUnknownCurrency, "entry[1].changes[1].value.messages[1].order.product_items[0].currency"}})
}

// TestEditsAndRevokesInCorpus decodes the public edit and revoke samples,
// the customer's and the business app's (echoes), as typed messages.
func TestEditsAndRevokesInCorpus(t *testing.T) {
	for _, tc := range []struct {
		file     string
		typ      MessageType
		original string
		summary  string
	}{
		{"pywa_edited_message__image.json", TypeEdit, "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=", "edited: Updated image caption"},
		{"pywa_outgoing_message__edit.json", TypeEdit, "wamid.zzzzzz", "edited: Text was edited"},
		{"pywa_deleted_message__revoke.json", TypeRevoke, "<ORIGINAL_WHATSAPP_MESSAGE_ID>", "[message deleted]"},
		{"pywa_outgoing_message__delete.json", TypeRevoke, "wamid.zzzzzz", "[message deleted]"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cb := mustDecode(t, mustRead(t, "testdata/corpus/"+tc.file))
			var ms []*Message
			for _, ch := range cb.Changes {
				for i := range ch.Messages {
					ms = append(ms, &ch.Messages[i])
				}
				for i := range ch.Echoes {
					ms = append(ms, &ch.Echoes[i])
				}
			}
			if len(ms) != 1 {
				t.Fatalf("%d messages", len(ms))
			}
			m := ms[0]
			for _, p := range m.Problems {
				if p.Code == CodeUnknownType {
					t.Errorf("problem %+v", p)
				}
			}
			original := ""
			switch {
			case m.Edit != nil:
				original = m.Edit.OriginalMessageID
			case m.Revoke != nil:
				original = m.Revoke.OriginalMessageID
			}
			if m.Type != tc.typ || original != tc.original || m.Summary() != tc.summary {
				t.Errorf("%s of %q, summary %q", m.Type, original, m.Summary())
			}
		})
	}
}
