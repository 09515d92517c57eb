package server_test

// The regression corpus (callback/testdata/corpus, public webhook samples)
// through the whole stack: every body is posted to its endpoint, and every
// message, status and change it holds must be readable back by API with
// its raw JSON equal to the element of the body (byte for byte in the
// store, the same JSON value through HTTP) and its identity fields typed.

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/wire"
)

func TestCorpusThroughHTTP(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob(filepath.Join("..", "..", "callback", "testdata", "corpus", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var bodies, messages, statuses, changes atomic.Int64
	t.Cleanup(func() {
		t.Logf("corpus: %d bodies; %d messages, %d statuses, %d changes read back with their raw JSON",
			bodies.Load(), messages.Load(), statuses.Load(), changes.Load())
	})
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".json"), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := callback.Decode(body)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			b := setup(t)
			var r reply
			if cb.Envelope == callback.EnvelopeKaleyra {
				r = b.kaleyra(t, body)
			} else {
				r = b.meta(t, body)
			}
			a := wantAnswer(t, r)
			bodies.Add(1)

			var wantChanges int
			seen := map[string]bool{}
			for ci := range cb.Changes {
				ch := &cb.Changes[ci]
				msgs := ch.Messages
				if ch.Kind() == callback.KindEchoes {
					msgs = ch.Echoes
				}
				if ch.Kind() != callback.KindMessages {
					wantChanges++
				}
				for mi := range msgs {
					m := &msgs[mi]
					if !m.Usable() || seen["m"+m.ID] {
						continue
					}
					seen["m"+m.ID] = true
					checkCorpusMessage(t, b, m)
					messages.Add(1)
				}
				for si := range ch.Statuses {
					s := &ch.Statuses[si]
					key := "s" + s.MessageID + "\x00" + s.Participant() + "\x00" + string(s.Status)
					if !s.Usable() || seen[key] {
						continue
					}
					seen[key] = true
					checkCorpusStatus(t, b, s)
					statuses.Add(1)
				}
				if k := ch.Kind(); k != callback.KindMessages && k != callback.KindEchoes {
					checkCorpusChange(t, b, ch)
					changes.Add(1)
				}
			}
			if len(a.Changes) != wantChanges {
				t.Errorf("answer has %d changes, want %d: %s", len(a.Changes), wantChanges, r)
			}
			for _, c := range a.Changes {
				if c.Result != "stored" && c.Result != "kept" {
					t.Errorf("change %s answered %q, want stored or kept", c.Field, c.Result)
				}
				if c.Kind == string(callback.KindUnknown) && len(c.Warnings) == 0 {
					t.Errorf("unknown field %s answered without a warning", c.Field)
				}
			}
		})
	}
}

// sameValue reports whether two JSON texts hold the same value (HTTP
// answers re-encode raw JSON compactly).
func sameValue(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	for _, p := range []struct {
		src []byte
		dst *any
	}{{a, &x}, {b, &y}} {
		d := json.NewDecoder(bytes.NewReader(p.src))
		d.UseNumber()
		if err := d.Decode(p.dst); err != nil {
			return false
		}
	}
	return reflect.DeepEqual(x, y)
}

func checkCorpusMessage(t *testing.T, b *bundle, m *callback.Message) {
	t.Helper()
	stored, err := b.store.GetMessage(t.Context(), m.ID)
	if err != nil {
		t.Errorf("message %s: %v", m.ID, err)
		return
	}
	if !bytes.Equal(stored.Raw, m.Raw) {
		t.Errorf("message %s: stored raw %s, want the body's %s", m.ID, stored.Raw, m.Raw)
	}
	var got wire.Message
	b.get(t, "/v1/messages/"+url.PathEscape(m.ID), 200, &got)
	if !sameValue(t, got.Raw, m.Raw) {
		t.Errorf("message %s: raw %s through HTTP, want %s", m.ID, got.Raw, m.Raw)
	}
	// The identity: the ids the decoder found are typed on the message (a
	// sender that matches no contact takes the only contact's, as before).
	id := m.Customer()
	if id.UserID != "" && got.Customer.UserID != id.UserID || id.Username != "" && got.Customer.Username != id.Username {
		t.Errorf("message %s: customer %+v, want the identity %+v", m.ID, got.Customer, id)
	}
	if id.Known() && got.Customer.WaID == "" && got.Customer.UserID == "" && got.Customer.ParentUserID == "" {
		t.Errorf("message %s: customer %+v has no id, want the identity %+v", m.ID, got.Customer, id)
	}
	// The type and one-line summary are the decoder's (an edit reads
	// "edited: …", a revoke "[message deleted]").
	if got.Type != string(m.Type) || got.Summary != m.Summary() {
		t.Errorf("message %s: type %q summary %q, want %q %q", m.ID, got.Type, got.Summary, m.Type, m.Summary())
	}
	wantDir := "inbound"
	if m.Outbound {
		wantDir = "outbound"
	}
	if got.Direction != wantDir {
		t.Errorf("message %s: direction %q, want %q", m.ID, got.Direction, wantDir)
	}
	if len(m.Errors) > 0 && (got.ErrorCode != m.Errors[0].Code || len(got.Errors) == 0) {
		t.Errorf("message %s: error_code %d errors %s, want %d", m.ID, got.ErrorCode, got.Errors, m.Errors[0].Code)
	}
	if u := m.MediaURL(); got.MediaURL != u {
		t.Errorf("message %s: media_url %q, want %q", m.ID, got.MediaURL, u)
	}
	// The customer is found by every identifier the message shows.
	for _, v := range []string{got.Customer.WaID, got.Customer.UserID, got.Customer.ParentUserID, got.Customer.Username} {
		if v == "" {
			continue
		}
		var c wire.CustomerSummary
		b.get(t, "/v1/customers/"+url.PathEscape(v), 200, &c)
		if c.MessageCount == 0 {
			t.Errorf("customer %s of message %s: no message counted", v, m.ID)
		}
	}
}

func checkCorpusStatus(t *testing.T, b *bundle, s *callback.Status) {
	t.Helper()
	var got wire.StatusList
	b.get(t, "/v1/messages/"+url.PathEscape(s.MessageID)+"/statuses", 200, &got)
	sts, err := b.store.ListStatuses(t.Context(), s.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, g := range got.Statuses {
		if g.Participant != s.Participant() || g.Status != string(s.Status) {
			continue
		}
		found = true
		if !bytes.Equal(sts[i].Raw, s.Raw) {
			t.Errorf("status %s %s: stored raw %s, want %s", s.MessageID, s.Status, sts[i].Raw, s.Raw)
		}
		if !sameValue(t, g.Raw, s.Raw) {
			t.Errorf("status %s %s: raw %s through HTTP, want %s", s.MessageID, s.Status, g.Raw, s.Raw)
		}
		rc := s.Recipient()
		if g.Recipient.UserID != rc.UserID || g.Recipient.WaID != strings.TrimPrefix(rc.WaID, "+") || g.GroupID != s.GroupID() {
			t.Errorf("status %s %s: recipient %+v group %q, want %+v %q", s.MessageID, s.Status, g.Recipient, g.GroupID, rc, s.GroupID())
		}
		if s.Pricing != nil && len(g.Pricing) == 0 || s.Conversation != nil && len(g.Conversation) == 0 {
			t.Errorf("status %s %s: pricing or conversation missing: %+v", s.MessageID, s.Status, g)
		}
	}
	if !found {
		t.Errorf("status %s %s (participant %q) not served: %+v", s.MessageID, s.Status, s.Participant(), got)
	}
}

func checkCorpusChange(t *testing.T, b *bundle, ch *callback.Change) {
	t.Helper()
	var got wire.ChangeList
	b.get(t, "/v1/changes?limit=500&field="+url.QueryEscape(ch.Field), 200, &got)
	for _, c := range got.Changes {
		if sameValue(t, c.Raw, ch.Raw) {
			if c.Kind != string(ch.Kind()) {
				t.Errorf("change %s: kind %q, want %q", ch.Field, c.Kind, ch.Kind())
			}
			return
		}
	}
	t.Errorf("change %s (%s) not served with its raw value; got %+v", ch.Field, ch.Path, got)
}
