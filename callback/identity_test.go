package callback

import (
	"strings"
	"testing"
)

func corpus(t *testing.T, name string) *Callback {
	t.Helper()
	return mustDecode(t, mustRead(t, "testdata/corpus/"+name+".json"))
}

// TestCustomerIdentity checks Message.Customer: the message's ids
// completed with the contact matched by wa_id or user_id.
func TestCustomerIdentity(t *testing.T) {
	tests := []struct {
		file string
		want Identity
	}{
		{"doc_bsuid_username_only__text", Identity{UserID: "US.13491208655302741918", ParentUserID: "US.ENT.11815799212886844830", Username: "testuser", Name: "Test User"}},
		{"doc_bsuid_with_phone__text", Identity{WaID: "15551234567", UserID: "US.13491208655302741918", ParentUserID: "US.ENT.11815799212886844830", Username: "testuser", Name: "Test User"}},
		{"pywa_message__text", Identity{WaID: "972987654321", UserID: "US.13491208655302741918", ParentUserID: "US.ENT.11815799212886844830", Name: "Test Name"}},
		{"doc_system__user_changed_user_id", Identity{UserID: "US.13491208655302741918", ParentUserID: "US.ENT.11815799212886844830"}},
		{"doc_group_message__text", Identity{WaID: "15551234567", UserID: "US.13491208655302741918", Name: "Test User"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := corpus(t, tt.file).Messages()[0]
			if !m.Usable() {
				t.Fatalf("problems %+v", m.Problems)
			}
			for _, p := range m.Problems {
				if p.Code == CodeNoCustomerID {
					t.Errorf("no_customer_id on a message with ids")
				}
			}
			if got := m.Customer(); got != tt.want {
				t.Errorf("Customer = %+v, want %+v", got, tt.want)
			}
		})
	}
	m := corpus(t, "bad_no_customer_id__text").Messages()[0]
	if !m.Usable() || m.Customer().Known() || len(m.Problems) != 1 || m.Problems[0].Code != CodeNoCustomerID || m.Problems[0].Severity != SeverityWarning {
		t.Errorf("message without ids: usable %v, problems %+v", m.Usable(), m.Problems)
	}
	if g := corpus(t, "doc_group_message__text").Messages()[0].GroupID; g == "" {
		t.Error("group_id lost")
	}
}

// TestStatusRecipients checks BSUID-only recipients and per-participant
// group receipts.
func TestStatusRecipients(t *testing.T) {
	s := corpus(t, "doc_status_delivered__bsuid_recipient").Statuses()[0]
	if got := s.Recipient(); got != (Identity{UserID: "US.13491208655302741918", ParentUserID: "US.ENT.11815799212886844830", Username: "testuser", Name: "Test User"}) || s.Group() || s.Participant() != "" {
		t.Errorf("Recipient = %+v, group %v", got, s.Group())
	}
	ss := corpus(t, "doc_group_statuses__read_two_participants").Statuses()
	if len(ss) != 2 {
		t.Fatalf("%d statuses", len(ss))
	}
	wantPart := []string{"US.1000000000000000001", "US.1000000000000000002"}
	wantName := []string{"Participant One", "Participant Two"}
	for i, s := range ss {
		if !s.Group() || s.GroupID() != s.RecipientID || s.Participant() != wantPart[i] || s.Recipient().Name != wantName[i] {
			t.Errorf("status %d: group %v %q participant %q recipient %+v", i, s.Group(), s.GroupID(), s.Participant(), s.Recipient())
		}
	}
	if ss[0].MessageID != ss[1].MessageID || ss[0].Participant() == ss[1].Participant() {
		t.Error("two participants' receipts of one message are not told apart")
	}
	g := corpus(t, "pywa_message_status__group").Statuses()[0]
	if g.RecipientType != "group" || g.Participant() != "US.123456" || g.Recipient().Username != "<USERNAME>" {
		t.Errorf("pywa group status: %+v, recipient %+v", g, g.Recipient())
	}
}

// TestChangeKinds checks that every kind of change is typed or kept, with
// a summary the intake can report.
func TestChangeKinds(t *testing.T) {
	tests := []struct {
		file    string
		kind    ChangeKind
		summary string
		check   func(t *testing.T, ch *Change)
	}{
		{"pywa_call_connect__user_initiated", KindCalls, "calls: connect", func(t *testing.T, ch *Change) {
			if c := ch.CallCustomer(0); c.WaID != "972987654321" || c.Name != "Test Name" {
				t.Errorf("CallCustomer = %+v", c)
			}
		}},
		{"pywa_call_terminate__call_terminate", KindCalls, "calls: terminate COMPLETED, 1 error", func(t *testing.T, ch *Change) {
			c := ch.Calls[0]
			if c.ID != "wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh" || c.Duration != 120 || c.StartTime.Unix() != 1671644824 || c.EndTime.Unix() != 1671644944 || c.Direction != "BUSINESS_INITIATED" {
				t.Errorf("call = %+v", c)
			}
		}},
		{"pywa_call_status__call_status", KindCalls, "calls: status RINGING", func(t *testing.T, ch *Change) {
			if len(ch.Statuses) != 0 || ch.Calls[0].RecipientID != "163155536021" {
				t.Errorf("statuses %d, calls %+v", len(ch.Statuses), ch.Calls)
			}
		}},
		{"meta_user_preferences__resume", KindUserPreferences, "user_preferences: marketing_messages resume", func(t *testing.T, ch *Change) {
			p := ch.UserPreferences[0]
			if p.WaID != "16505551234" || p.Timestamp.Unix() != 1731705721 || ch.PreferenceCustomer(0).WaID != "16505551234" {
				t.Errorf("preference = %+v", p)
			}
		}},
		{"doc_user_preferences__stop_bsuid", KindUserPreferences, "user_preferences: marketing_messages stop", func(t *testing.T, ch *Change) {
			if c := ch.PreferenceCustomer(0); c.Username != "testuser" || c.WaID != "" {
				t.Errorf("PreferenceCustomer = %+v", c)
			}
		}},
		{"doc_user_id_update", KindUserIDUpdate, "user_id_update: 1 user id update", func(t *testing.T, ch *Change) {
			u := ch.UserIDUpdates[0]
			if u.PreviousUserID != "US.13491208655302741918" || u.CurrentUserID != "US.24817305912873645029" || u.CurrentParentUserID == "" {
				t.Errorf("update = %+v", u)
			}
		}},
		{"pywa_outgoing_message__text", KindEchoes, "smb_message_echoes: 1 echo", func(t *testing.T, ch *Change) {
			e := ch.Echoes[0]
			if !e.Outbound || e.Text == nil || e.Text.Body != "Test message" || e.ToUserID != "<BSUID>" || e.Customer().UserID != "<BSUID>" || e.Change() != ch {
				t.Errorf("echo = %+v", e)
			}
		}},
		{"pywa_template_status_update__approved", KindBusinessEvent, "message_template_status_update: APPROVED", func(t *testing.T, ch *Change) {
			if ev := ch.Event; ev == nil || ev.TemplateID != "1689556908129832" || ev.TemplateName != "order_confirmation" || len(ch.Raw) == 0 {
				t.Errorf("event = %+v", ev)
			}
		}},
		{"pywa_account_update__account_violation", KindBusinessEvent, "account_update: ACCOUNT_VIOLATION", nil},
		{"doc_phone_number_quality_update", KindBusinessEvent, "phone_number_quality_update: FLAGGED", func(t *testing.T, ch *Change) {
			if ev := ch.Event; ev.CurrentLimit != "TIER_10K" || ev.DisplayPhoneNumber != "16505551234" {
				t.Errorf("event = %+v", ev)
			}
		}},
		{"doc_group_lifecycle_update", KindGroup, "group_lifecycle_update: kept raw", func(t *testing.T, ch *Change) {
			if len(ch.Raw) == 0 || len(ch.Problems) != 0 {
				t.Errorf("raw %d bytes, problems %+v", len(ch.Raw), ch.Problems)
			}
		}},
		{"doc_unknown_field", KindUnknown, `unknown field "some_future_field": kept raw`, func(t *testing.T, ch *Change) {
			if len(ch.Problems) != 1 || ch.Problems[0].Code != CodeUnknownField || ch.Problems[0].Path != "entry[0].changes[0].field" || len(ch.Raw) == 0 {
				t.Errorf("problems %+v", ch.Problems)
			}
		}},
		{"pywa_message__interactive_message_with_err", KindMessages, "messages: 1 message, 1 error", func(t *testing.T, ch *Change) {
			m := &ch.Messages[0]
			if !m.Usable() || len(m.Problems) != 1 || m.Problems[0].Code != CodePayloadWithheld || ch.Errors[0].Code != 131000 {
				t.Errorf("problems %+v", m.Problems)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ch := &corpus(t, tt.file).Changes[0]
			if ch.Kind() != tt.kind || ch.Summary() != tt.summary {
				t.Errorf("Kind %q Summary %q, want %q %q", ch.Kind(), ch.Summary(), tt.kind, tt.summary)
			}
			if tt.check != nil {
				tt.check(t, ch)
			}
		})
	}
}

// TestWithheldPayload checks that a message without its payload is a
// warning when Meta explains it, and still an error when nothing does.
func TestWithheldPayload(t *testing.T) {
	m := corpus(t, "pywa_message__unsupported").Messages()[0]
	if !m.Usable() || len(m.Errors) != 1 || m.Errors[0].Code != 131051 {
		t.Errorf("unsupported: %+v", m)
	}
	m = mustDecode(t, messageBody(`{"id": "w", "from": "1", "timestamp": "1", "type": "interactive", "errors": [{"code": 131051, "title": "Unsupported message type"}]}`)).Messages()[0]
	if !m.Usable() || len(m.Problems) != 1 || m.Problems[0].Code != CodePayloadWithheld || m.Problems[0].Path != msg0+".interactive" {
		t.Errorf("interactive with errors: %+v", m.Problems)
	}
	m = mustDecode(t, messageBody(`{"id": "w", "from": "1", "timestamp": "1", "type": "interactive"}`)).Messages()[0]
	if m.Usable() || m.Problems[0].Code != CodeMissingField {
		t.Errorf("interactive without errors: %+v", m.Problems)
	}
}

// TestUntypedMembersKeepRaw checks that a messages change keeps its value
// raw when the value or a contact holds a member this package does not
// type, and only then.
func TestUntypedMembersKeepRaw(t *testing.T) {
	for body, keep := range map[string]bool{
		`{"messages": [], "contacts": [{"wa_id": "1"}]}`:                         false,
		`{"messages": [], "contacts": [{"wa_id": "1", "new": 1}]}`:               true,
		`{"messages": [], "contacts": [{"wa_id": "1", "profile": {"x": true}}]}`: true,
		`{"messages": [], "novelty": {"a": 1}}`:                                  true,
	} {
		cb := mustDecode(t, []byte(`{"entry": [{"changes": [{"field": "messages", "value": `+body+`}]}]}`))
		if ch := cb.Changes[0]; (len(ch.Raw) > 0) != keep || (keep && !strings.Contains(body, string(ch.Raw))) {
			t.Errorf("%s: Raw %q, want kept %v", body, ch.Raw, keep)
		}
	}
}

// TestMediaURL checks that a message reaches Kaleyra's media_url through
// its change, and Meta's media url otherwise.
func TestMediaURL(t *testing.T) {
	body := `{"meta_object": {"value": {"messages": [{"id": "w", "from": "1", "timestamp": "1", "type": "image", "image": {"id": "m"}}]}, "field": "messages"},
		"extra_info": {"media_url": "https://s3.example/m.jpg"}}`
	m := mustDecode(t, []byte(body)).Messages()[0]
	if m.MediaURL() != "https://s3.example/m.jpg" || m.Extra() == nil || m.Change() == nil {
		t.Errorf("MediaURL %q", m.MediaURL())
	}
	m = corpus(t, "pywa_message__media_with_url").Messages()[0]
	if !strings.HasPrefix(m.MediaURL(), "https://lookaside.fbsbx.com/") || m.Extra() != nil {
		t.Errorf("MediaURL %q", m.MediaURL())
	}
}
