package callback

import (
	"strconv"
	"strings"
	"time"
)

// ChangeKind classifies a change by its webhook field.
type ChangeKind string

// The kinds of change.
const (
	// KindMessages: inbound messages and statuses of outbound ones.
	KindMessages ChangeKind = "messages"
	// KindCalls: call events and call statuses, in Change.Calls.
	KindCalls ChangeKind = "calls"
	// KindUserPreferences: marketing preferences, in Change.UserPreferences.
	KindUserPreferences ChangeKind = "user_preferences"
	// KindUserIDUpdate: BSUID changes, in Change.UserIDUpdates.
	KindUserIDUpdate ChangeKind = "user_id_update"
	// KindEchoes: messages sent from the WhatsApp Business app, in Change.Echoes.
	KindEchoes ChangeKind = "smb_message_echoes"
	// KindBusinessEvent: template, account and phone-number events; their
	// key fields in Change.Event, the whole value in Change.Raw.
	KindBusinessEvent ChangeKind = "business_event"
	// KindGroup: group lifecycle, participants, settings and status
	// webhooks, kept in Change.Raw.
	KindGroup ChangeKind = "group"
	// KindSync: coexistence synchronisation (history, smb_app_state_sync),
	// kept in Change.Raw.
	KindSync ChangeKind = "sync"
	// KindUnknown: a field this package does not know, kept in Change.Raw,
	// with an unknown_field warning in Change.Problems.
	KindUnknown ChangeKind = "unknown"
)

// businessFields are the webhook fields of KindBusinessEvent.
var businessFields = map[string]bool{
	"message_template_status_update":      true,
	"message_template_quality_update":     true,
	"message_template_components_update":  true,
	"template_category_update":            true,
	"template_correct_category_detection": true,
	"account_update":                      true,
	"account_alerts":                      true,
	"account_review_update":               true,
	"account_settings_update":             true,
	"phone_number_quality_update":         true,
	"phone_number_name_update":            true,
	"business_capability_update":          true,
	"business_status_update":              true,
	"security":                            true,
	"flows":                               true,
	"payment_configuration_update":        true,
	"partner_solutions":                   true,
	"automatic_events":                    true,
	"tracking_events":                     true,
}

// Kind classifies the change by its field. A Kaleyra callback is always
// KindMessages.
func (c *Change) Kind() ChangeKind {
	switch c.Field {
	case "messages":
		return KindMessages
	case "calls":
		return KindCalls
	case "user_preferences":
		return KindUserPreferences
	case "user_id_update":
		return KindUserIDUpdate
	case "smb_message_echoes":
		return KindEchoes
	case "history", "smb_app_state_sync":
		return KindSync
	}
	if strings.HasPrefix(c.Field, "group_") {
		return KindGroup
	}
	if businessFields[c.Field] {
		return KindBusinessEvent
	}
	return KindUnknown
}

// Summary says in one line what the change was and what it held, for logs
// and for the intake's per-change report: "messages: 1 message",
// "calls: terminate COMPLETED", "user_preferences: marketing_messages stop",
// "message_template_status_update: APPROVED", "unknown field \"x\"". It
// holds no personal data.
func (c *Change) Summary() string {
	var parts []string
	count := func(n int, what string) {
		if n == 1 {
			parts = append(parts, "1 "+what)
		} else if n > 1 {
			parts = append(parts, strconv.Itoa(n)+" "+what+"s")
		}
	}
	count(len(c.Messages), "message")
	count(len(c.Statuses), "status")
	for _, call := range c.Calls {
		parts = append(parts, strings.TrimSpace(call.Event+" "+call.Status))
	}
	for _, p := range c.UserPreferences {
		parts = append(parts, strings.TrimSpace(p.Category+" "+p.Value))
	}
	count(len(c.UserIDUpdates), "user id update")
	count(len(c.Echoes), "echo")
	if c.Event != nil && c.Event.Event != "" {
		parts = append(parts, c.Event.Event)
	}
	count(len(c.Errors), "error")
	field := c.Field
	if field == "" {
		field = "(no field)"
	}
	s := field + ": "
	if c.Kind() == KindUnknown {
		s = "unknown field " + strconv.Quote(c.Field) + ": "
	}
	if len(parts) == 0 {
		if len(c.Raw) > 0 {
			return clip(s + "kept raw")
		}
		return clip(s + "empty")
	}
	return clip(s + strings.Join(parts, ", "))
}

// Call is one call event of a "calls" change.
type Call struct {
	// Path is the JSON path of the event: a value.calls[] element, or a
	// value.statuses[] element for a call status.
	Path string
	ID   string // wacid.…
	// Event is "connect" or "terminate" for value.calls[]; "status" for a
	// call status taken from value.statuses[].
	Event string
	// Status is the call's status as sent: RINGING, ACCEPTED, REJECTED on
	// status events; COMPLETED or FAILED on terminate.
	Status    string
	Direction string // USER_INITIATED or BUSINESS_INITIATED
	From      string
	To        string
	// FromUserID, FromParentUserID, ToUserID and ToParentUserID are the
	// BSUIDs of the caller and callee, when sent.
	FromUserID       string
	FromParentUserID string
	ToUserID         string
	ToParentUserID   string
	// RecipientID, RecipientUserID and RecipientParentUserID identify the
	// customer of a call status.
	RecipientID           string
	RecipientUserID       string
	RecipientParentUserID string
	Timestamp             time.Time
	RawTimestamp          string
	StartTime             time.Time
	RawStartTime          string
	EndTime               time.Time
	RawEndTime            string
	// Duration is the call's length in seconds, on terminate.
	Duration              int64
	BizOpaqueCallbackData string
	Errors                []Error
}

// customer is the identity CallCustomer returns.
func (c *Call) customer(ch *Change) Identity {
	id := Identity{WaID: c.RecipientID, UserID: c.RecipientUserID, ParentUserID: c.RecipientParentUserID}
	switch {
	case id.Known():
	case strings.EqualFold(c.Direction, "USER_INITIATED"):
		id = Identity{WaID: c.From, UserID: c.FromUserID, ParentUserID: c.FromParentUserID}
	default:
		id = Identity{WaID: c.To, UserID: c.ToUserID, ParentUserID: c.ToParentUserID}
	}
	return identify(ch, id)
}

// CallCustomer returns the customer on the other end of call i of the
// change: the caller of a user-initiated call, the callee of a
// business-initiated one, the recipient of a call status.
func (c *Change) CallCustomer(i int) Identity { return c.Calls[i].customer(c) }

// UserPreference is a customer's change of marketing preference.
type UserPreference struct {
	Path         string
	WaID         string
	UserID       string
	ParentUserID string
	// Category is "marketing_messages".
	Category string
	// Value is "stop" or "resume" (and "signup" for a sign-up link).
	Value        string
	Detail       string
	SignupID     string
	Timestamp    time.Time
	RawTimestamp string
}

// PreferenceCustomer returns the customer of user preference i of the
// change, completed from the change's contacts.
func (c *Change) PreferenceCustomer(i int) Identity {
	p := &c.UserPreferences[i]
	return identify(c, Identity{WaID: p.WaID, UserID: p.UserID, ParentUserID: p.ParentUserID})
}

// UserIDUpdate says that a customer's BSUID (and parent BSUID) changed.
type UserIDUpdate struct {
	Path                 string
	WaID                 string
	Detail               string
	PreviousUserID       string // user_id.previous
	CurrentUserID        string // user_id.current
	PreviousParentUserID string // parent_user_id.previous
	CurrentParentUserID  string // parent_user_id.current
	Timestamp            time.Time
	RawTimestamp         string
}

// BusinessEvent holds the key fields of a template, account or
// phone-number change; the whole value is in Change.Raw.
type BusinessEvent struct {
	// Event is value.event: APPROVED, REJECTED, ACCOUNT_VIOLATION,
	// FLAGGED, UPGRADE, ...
	Event  string
	Reason string
	// TemplateID, TemplateName, TemplateLanguage and TemplateCategory come
	// from message_template_* members.
	TemplateID       string
	TemplateName     string
	TemplateLanguage string
	TemplateCategory string
	// PreviousQualityScore and NewQualityScore come with template quality
	// updates; PreviousCategory and NewCategory with category updates.
	PreviousQualityScore string
	NewQualityScore      string
	PreviousCategory     string
	NewCategory          string
	// DisplayPhoneNumber and CurrentLimit come with phone number updates.
	DisplayPhoneNumber string
	CurrentLimit       string
}

// businessMember reads the member name of a change value into ev if it is
// one of BusinessEvent's, and reports whether it was.
func (r *reader) businessMember(ch *Change, name string) bool {
	var dst *string
	ev := ch.Event
	if ev == nil {
		ev = &BusinessEvent{}
	}
	switch name {
	case "event":
		dst = &ev.Event
	case "reason":
		dst = &ev.Reason
	case "message_template_id":
		dst = &ev.TemplateID
	case "message_template_name":
		dst = &ev.TemplateName
	case "message_template_language":
		dst = &ev.TemplateLanguage
	case "message_template_category":
		dst = &ev.TemplateCategory
	case "previous_quality_score":
		dst = &ev.PreviousQualityScore
	case "new_quality_score":
		dst = &ev.NewQualityScore
	case "previous_category":
		dst = &ev.PreviousCategory
	case "new_category":
		dst = &ev.NewCategory
	case "display_phone_number":
		dst = &ev.DisplayPhoneNumber
	case "current_limit":
		dst = &ev.CurrentLimit
	default:
		return false
	}
	switch r.kind() {
	case '"', '0':
		*dst = r.unquotedText()
	default:
		return false // another shape: left to Raw
	}
	ch.Event = ev
	return true
}

// calls reads value.calls.
func (r *reader) calls(ch *Change) {
	for range r.array() {
		c := Call{Path: r.path()}
		for name := range r.object() {
			switch string(name) {
			case "id":
				c.ID = r.str()
			case "event":
				c.Event = r.token()
			case "status":
				c.Status = r.token()
			case "direction":
				c.Direction = r.token()
			case "from":
				c.From = r.str()
			case "to":
				c.To = r.str()
			case "from_user_id":
				c.FromUserID = r.str()
			case "from_parent_user_id":
				c.FromParentUserID = r.str()
			case "to_user_id":
				c.ToUserID = r.str()
			case "to_parent_user_id":
				c.ToParentUserID = r.str()
			case "recipient_id":
				c.RecipientID = r.str()
			case "recipient_user_id":
				c.RecipientUserID = r.str()
			case "recipient_parent_user_id", "parent_recipient_user_id":
				c.RecipientParentUserID = r.str()
			case "timestamp":
				c.RawTimestamp = r.timestamp()
			case "start_time":
				c.RawStartTime = r.timestamp()
			case "end_time":
				c.RawEndTime = r.timestamp()
			case "duration":
				c.Duration = r.integer()
			case "biz_opaque_callback_data":
				c.BizOpaqueCallbackData = r.str()
			case "errors":
				c.Errors = r.errorList()
			}
		}
		c.Timestamp = r.checkTimestamp(c.RawTimestamp, c.Path+".timestamp")
		c.StartTime, _ = parseUnix(c.RawStartTime)
		c.EndTime, _ = parseUnix(c.RawEndTime)
		ch.Calls = append(ch.Calls, c)
	}
}

// callFromStatus turns a call status that Meta sends in value.statuses
// into a Call.
func callFromStatus(s *Status) Call {
	return Call{
		Path: s.Path, ID: s.ID, Event: "status", Status: s.rawStatus,
		RecipientID: s.RecipientID, RecipientUserID: s.RecipientUserID, RecipientParentUserID: s.RecipientParentUserID,
		Timestamp: s.Timestamp, RawTimestamp: s.RawTimestamp,
		BizOpaqueCallbackData: s.BizOpaqueCallbackData, Errors: s.Errors,
	}
}

// userPreferences reads value.user_preferences.
func (r *reader) userPreferences(ch *Change) {
	for range r.array() {
		p := UserPreference{Path: r.path()}
		for name := range r.object() {
			switch string(name) {
			case "wa_id":
				p.WaID = r.str()
			case "user_id":
				p.UserID = r.str()
			case "parent_user_id":
				p.ParentUserID = r.str()
			case "category":
				p.Category = r.token()
			case "value":
				p.Value = r.token()
			case "detail":
				p.Detail = r.str()
			case "signup_id":
				p.SignupID = r.unquotedText()
			case "timestamp":
				p.RawTimestamp = r.timestamp()
			}
		}
		p.Timestamp = r.checkTimestamp(p.RawTimestamp, p.Path+".timestamp")
		ch.UserPreferences = append(ch.UserPreferences, p)
	}
}

// userIDUpdates reads value.user_id_update.
func (r *reader) userIDUpdates(ch *Change) {
	for range r.array() {
		u := UserIDUpdate{Path: r.path()}
		for name := range r.object() {
			switch string(name) {
			case "wa_id":
				u.WaID = r.str()
			case "detail":
				u.Detail = r.str()
			case "user_id":
				u.PreviousUserID, u.CurrentUserID = r.previousCurrent()
			case "parent_user_id":
				u.PreviousParentUserID, u.CurrentParentUserID = r.previousCurrent()
			case "timestamp":
				u.RawTimestamp = r.timestamp()
			}
		}
		u.Timestamp = r.checkTimestamp(u.RawTimestamp, u.Path+".timestamp")
		ch.UserIDUpdates = append(ch.UserIDUpdates, u)
	}
}

// previousCurrent reads a {"previous", "current"} object.
func (r *reader) previousCurrent() (previous, current string) {
	for name := range r.object() {
		switch string(name) {
		case "previous":
			previous = r.str()
		case "current":
			current = r.str()
		}
	}
	return previous, current
}
