package server_test

// Customers without a phone number (issue 12): a username user's message, a
// BSUID change and a marketing preference through the whole stack.

import (
	"slices"
	"testing"

	"github.com/waorders/waorders/internal/wire"
)

func TestCustomerIdentityThroughHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		oldBSUID = "US.13491208655302741918"
		newBSUID = "US.24817305912873645029"
		parent   = "US.ENT.11815799212886844830"
		phone    = "15557654321"
	)
	for _, f := range []string{"bsuid_username_only_text.json", "meta_user_id_update.json", "meta_user_preferences.json"} {
		a := wantAnswer(t, b.meta(t, readTestdata(t, f)))
		for _, m := range a.Messages {
			if m.Result != "stored" {
				t.Errorf("%s: message %s %s", f, m.ID, m.Result)
			}
		}
	}
	// The username user's message carries its BSUID, parent BSUID and username.
	var msgs wire.MessageList
	b.get(t, "/v1/messages?customer=testuser", 200, &msgs)
	if len(msgs.Messages) != 1 {
		t.Fatalf("messages of testuser: %+v", msgs)
	}
	if c := msgs.Messages[0].Customer; c.UserID != oldBSUID || c.ParentUserID != parent || c.Username != "testuser" || c.WaID != "" {
		t.Errorf("customer of the username message = %+v", c)
	}
	// The BSUID change linked the phone, the old and the new BSUID: one
	// customer, keyed by its oldest BSUID, found by every identifier.
	for _, id := range []string{phone, "+" + phone, oldBSUID, newBSUID, parent, "testuser"} {
		var c wire.CustomerSummary
		b.get(t, "/v1/customers/"+id, 200, &c)
		var got []string
		for _, x := range c.Identifiers {
			got = append(got, x.Kind+":"+x.Value)
		}
		want := []string{"parent_user_id:" + parent, "user_id:" + newBSUID, "user_id:" + oldBSUID, "username:testuser", "wa_id:" + phone}
		slices.Sort(got)
		slices.Sort(want)
		if c.ID != oldBSUID || !slices.Equal(got, want) || c.Username != "testuser" || c.MessageCount != 1 {
			t.Errorf("GET /v1/customers/%s = %+v; want key %s and identifiers %v", id, c, oldBSUID, want)
		}
	}
	var chs wire.ChangeList
	b.get(t, "/v1/changes?field=user_id_update&customer=testuser", 200, &chs)
	if len(chs.Changes) != 1 || chs.Changes[0].Kind != "user_id_update" || chs.Changes[0].Customer.UserID != newBSUID {
		t.Errorf("user_id_update of testuser: %+v", chs)
	}
	// A customer known only by a preference change is found, with it.
	var c wire.CustomerSummary
	b.get(t, "/v1/customers/16505551234", 200, &c)
	if c.MarketingPreference != "resume" || c.OrderCount != 0 {
		t.Errorf("customer of the preference = %+v; want marketing_preference resume", c)
	}
	wantError(t, b.api(t, "GET", "/v1/customers/nobody", nil), 404, "not_found")
}
