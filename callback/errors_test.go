package callback

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeErrors covers every whole-body error: its code and its path.
func TestDecodeErrors(t *testing.T) {
	// kaleyra wraps a meta_object value.
	kaleyra := func(value string) string {
		return `{"meta_object": {"value": ` + value + `, "field": "messages"}, "extra_info": {}}`
	}
	meta := func(value string) string {
		return `{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"value": ` + value + `, "field": "messages"}]}]}`
	}
	tests := []struct {
		name     string
		body     string
		code     string
		path     string
		contains string // in the message, when set
	}{
		{"Empty", ``, CodeEmptyBody, RootPath, ""},
		{"OnlyWhiteSpace", " \r\n\t ", CodeEmptyBody, RootPath, ""},
		{"NotJSON", `hello`, CodeInvalidJSON, RootPath, ""},
		{"NonBreakingSpaceIsNotBlank", "\u00a0", CodeInvalidJSON, RootPath, ""},
		{"Truncated", `{"meta_object": {"value": {"messages": [`, CodeInvalidJSON, "meta_object.value.messages", "end of JSON input"},
		{"InvalidUTF8", "{\"meta_object\": {\"value\": {\"messaging_product\": \"wh\xffatsapp\"}}}", CodeInvalidJSON, "meta_object.value.messaging_product", "UTF-8"},
		{"InvalidUTF8InUnknownField", "{\"meta_object\": {\"value\": {}}, \"x\": \"\xc3\"}", CodeInvalidJSON, "x", "UTF-8"},
		{"DuplicateName", `{"meta_object": {"value": {}, "value": {}}}`, CodeInvalidJSON, "meta_object.value", "duplicate"},
		{"TrailingData", kaleyra(`{}`) + ` {}`, CodeInvalidJSON, RootPath, "after the top-level value"},
		{"TrailingGarbage", kaleyra(`{}`) + `x`, CodeInvalidJSON, RootPath, ""},
		{"BadJSONAfterAShapeError", `{"meta_object": "x", "y": tru}`, CodeInvalidJSON, "y", ""},
		{"TopLevelArray", `[]`, CodeUnknownEnvelope, RootPath, "an array"},
		{"TopLevelString", `"meta_object"`, CodeUnknownEnvelope, RootPath, ""},
		{"TopLevelNull", `null`, CodeUnknownEnvelope, RootPath, ""},
		{"EmptyObject", `{}`, CodeUnknownEnvelope, RootPath, "neither"},
		{"OtherJSON", `{"event": "message", "payload": {}}`, CodeUnknownEnvelope, RootPath, ""},
		{"ObjectNull", `{"object": null}`, CodeUnknownEnvelope, RootPath, ""},
		{"ExtraInfoAlone", `{"extra_info": {"waba_id": "1"}}`, CodeUnknownEnvelope, RootPath, ""},
		{"BothEnvelopes", `{"meta_object": {"value": {}}, "entry": []}`, CodeUnknownEnvelope, RootPath, "both"},
		{"MetaObjectNotObject", `{"meta_object": "x"}`, CodeInvalidField, "meta_object", "want an object, got a string"},
		{"MetaObjectWithoutValue", `{"meta_object": {"field": "messages"}}`, CodeMissingField, "meta_object.value", ""},
		{"MetaObjectNull", `{"meta_object": null}`, CodeUnknownEnvelope, RootPath, ""},
		{"EntryNull", `{"object": "whatsapp_business_account", "entry": null}`, CodeMissingField, "entry", ""},
		{"MetaObjectEmpty", `{"meta_object": {}}`, CodeMissingField, "meta_object.value", ""},
		{"ValueNotObject", kaleyra(`[]`), CodeInvalidField, "meta_object.value", ""},
		{"MessagesNotArray", kaleyra(`{"messages": {}}`), CodeInvalidField, "meta_object.value.messages", "want an array, got an object"},
		{"StatusesNotArray", kaleyra(`{"statuses": "sent"}`), CodeInvalidField, "meta_object.value.statuses", ""},
		{"ContactsNotArray", kaleyra(`{"contacts": 1}`), CodeInvalidField, "meta_object.value.contacts", ""},
		{"ContactNotObject", kaleyra(`{"contacts": [{"wa_id": "1"}, 2]}`), CodeInvalidField, "meta_object.value.contacts[1]", ""},
		{"ContactWaIDNumber", kaleyra(`{"contacts": [{"wa_id": 91}]}`), CodeInvalidField, "meta_object.value.contacts[0].wa_id", "want a string, got a number"},
		{"MetadataNotObject", kaleyra(`{"metadata": "x"}`), CodeInvalidField, "meta_object.value.metadata", ""},
		{"PhoneNumberIDNumber", kaleyra(`{"metadata": {"phone_number_id": 1}}`), CodeInvalidField, "meta_object.value.metadata.phone_number_id", ""},
		{"ValueErrorsNotArray", kaleyra(`{"errors": {}}`), CodeInvalidField, "meta_object.value.errors", ""},
		{"ValueErrorCodeNotInteger", kaleyra(`{"errors": [{"code": 1.5}]}`), CodeInvalidField, "meta_object.value.errors[0].code", ""},
		{"FieldNotString", `{"meta_object": {"value": {}, "field": 1}}`, CodeInvalidField, "meta_object.field", ""},
		{"ExtraInfoNotObject", `{"meta_object": {"value": {}}, "extra_info": []}`, CodeInvalidField, "extra_info", ""},
		{"ExtraInfoRefNumber", `{"meta_object": {"value": {}}, "extra_info": {"ref": 1}}`, CodeInvalidField, "extra_info.ref", ""},
		{"ExtraInfoTrackingString", `{"meta_object": {"value": {}}, "extra_info": {"enable_url_tracking_body": "no"}}`, CodeInvalidField, "extra_info.enable_url_tracking_body", ""},
		{"TopLevelStatusNumber", `{"meta_object": {"value": {}}, "status": 1}`, CodeInvalidField, "status", ""},
		{"ObjectWithoutEntry", `{"object": "whatsapp_business_account"}`, CodeMissingField, "entry", ""},
		{"EntryNotArray", `{"object": "whatsapp_business_account", "entry": {}}`, CodeInvalidField, "entry", ""},
		{"EntryWithoutChanges", `{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}`, CodeMissingField, "entry[0].changes", ""},
		{"SecondEntryWithoutChanges", `{"entry": [{"changes": []}, {"id": "2"}]}`, CodeMissingField, "entry[1].changes", ""},
		{"ChangesNotArray", `{"entry": [{"changes": {}}]}`, CodeInvalidField, "entry[0].changes", ""},
		{"ChangeNotObject", `{"entry": [{"changes": [1]}]}`, CodeInvalidField, "entry[0].changes[0]", ""},
		{"ChangeWithoutValue", `{"entry": [{"changes": [{"field": "messages"}]}]}`, CodeMissingField, "entry[0].changes[0].value", ""},
		{"MetaMessagesNotArray", meta(`{"messages": "x"}`), CodeInvalidField, "entry[0].changes[0].value.messages", ""},
		{"EscapedNameInPath", kaleyra(`{"meta\u0064ata": 1}`), CodeInvalidField, "meta_object.value.metadata", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", cb)
			}
			if cb != nil {
				t.Errorf("Decode returned a callback with its error")
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if de.Code != tt.code || de.Path != tt.path {
				t.Errorf("got %s at %s, want %s at %s (%v)", de.Code, de.Path, tt.code, tt.path, de.Message)
			}
			if de.Message == "" || !strings.Contains(de.Message, tt.contains) {
				t.Errorf("message %q does not contain %q", de.Message, tt.contains)
			}
			if !strings.HasPrefix(err.Error(), de.Code+" at "+de.Path) {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

// TestDecodeAccepts lists bodies at the edge of the envelope rules that
// must decode.
func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		envelope Envelope
		changes  int
	}{
		{"KaleyraMinimal", `{"meta_object": {"value": {}}}`, EnvelopeKaleyra, 1},
		{"KaleyraWithoutExtraInfo", `{"meta_object": {"value": {"messages": []}, "field": "messages"}}`, EnvelopeKaleyra, 1},
		{"KaleyraExtraInfoFirst", `{"extra_info": {"waba_id": "9"}, "meta_object": {"field": "messages", "value": {}}}`, EnvelopeKaleyra, 1},
		{"NullsAreAbsent", `{"meta_object": {"value": {"messages": null, "statuses": null, "contacts": null, "metadata": null}}, "extra_info": null}`, EnvelopeKaleyra, 1},
		{"MetaWithoutObject", `{"entry": [{"changes": [{"value": {}}]}]}`, EnvelopeMeta, 1},
		{"MetaEmptyEntry", `{"object": "whatsapp_business_account", "entry": []}`, EnvelopeMeta, 0},
		{"MetaSeveralEntriesAndChanges", `{"entry": [{"id": "1", "changes": [{"value": {}}, {"value": {}}]}, {"id": "2", "changes": [{"value": {}}]}]}`, EnvelopeMeta, 3},
		{"UnknownFieldsEverywhere", `{"x": [1, {"y": null}], "meta_object": {"z": true, "value": {"w": {}}}, "extra_info": {"new": "field"}}`, EnvelopeKaleyra, 1},
		{"LeadingAndTrailingWhiteSpace", "\n\t " + `{"meta_object": {"value": {}}}` + " \r\n", EnvelopeKaleyra, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := mustDecode(t, []byte(tt.body))
			if cb.Envelope != tt.envelope || len(cb.Changes) != tt.changes {
				t.Errorf("got %s with %d changes, want %s with %d", cb.Envelope, len(cb.Changes), tt.envelope, tt.changes)
			}
		})
	}

	t.Run("KaleyraExtraInfoFirstKeepsWABAID", func(t *testing.T) {
		cb := mustDecode(t, []byte(`{"extra_info": {"waba_id": "9"}, "meta_object": {"value": {}}}`))
		if cb.Changes[0].WABAID != "9" || cb.Changes[0].Extra == nil {
			t.Errorf("WABAID = %q", cb.Changes[0].WABAID)
		}
	})
	t.Run("MetaWABAIDPerEntryEvenAfterChanges", func(t *testing.T) {
		cb := mustDecode(t, []byte(`{"entry": [{"changes": [{"value": {}}], "id": "1"}, {"id": "2", "changes": [{"value": {}}]}]}`))
		if cb.Changes[0].WABAID != "1" || cb.Changes[1].WABAID != "2" {
			t.Errorf("WABAIDs = %q, %q", cb.Changes[0].WABAID, cb.Changes[1].WABAID)
		}
		if cb.Changes[1].Path != "entry[1].changes[0].value" {
			t.Errorf("Path = %q", cb.Changes[1].Path)
		}
	})
	t.Run("OtherFieldKeepsRawValue", func(t *testing.T) {
		value := `{"event": "APPROVED",  "message_template_id": 12}`
		cb := mustDecode(t, []byte(`{"entry": [{"changes": [{"field": "message_template_status_update", "value": `+value+`}]}]}`))
		if got := string(cb.Changes[0].Raw); got != value {
			t.Errorf("Raw = %s, want %s", got, value)
		}
	})
	t.Run("MessagesFieldKeepsNoRawValue", func(t *testing.T) {
		cb := mustDecode(t, []byte(`{"meta_object": {"value": {}, "field": "messages"}}`))
		if cb.Changes[0].Raw != nil {
			t.Errorf("Raw = %s, want nil", cb.Changes[0].Raw)
		}
	})
}
