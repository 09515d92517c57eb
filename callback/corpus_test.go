package callback

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// corpusBodies returns the public sample bodies of testdata/corpus (see its
// README for where each comes from), sorted.
func corpusBodies(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus bodies: %v", err)
	}
	return names
}

// corpusErrors lists the error-severity problem codes a corpus body is
// expected to have, in order; every other body must have none.
var corpusErrors = map[string][]string{
	"bad_status_without_status.json": {CodeMissingField},
}

// corpusWarnings lists warning codes a corpus body must have (others are
// allowed: unknown message types such as poll, Meta's
// placeholder timestamps, ...).
var corpusWarnings = map[string][]string{
	"bad_no_customer_id__text.json":                   {CodeNoCustomerID},
	"pywa_message__interactive_message_with_err.json": {CodePayloadWithheld},
	"doc_unknown_field.json":                          {CodeUnknownField},
}

// TestCorpus decodes every public sample: none is rejected, none has an
// error-severity problem unless corpusErrors says so, call statuses never
// become message statuses, and no field is dropped (see checkNoFieldDropped).
func TestCorpus(t *testing.T) {
	rawOnly := map[string]bool{}
	for _, name := range corpusBodies(t) {
		base := filepath.Base(name)
		t.Run(strings.TrimSuffix(base, ".json"), func(t *testing.T) {
			body := mustRead(t, name)
			cb := mustDecode(t, body)
			var errs, warns []string
			collect := func(ps []Problem) {
				for _, p := range ps {
					if p.Severity == SeverityError {
						errs = append(errs, p.Code)
					} else {
						warns = append(warns, p.Code)
					}
				}
			}
			for i := range cb.Changes {
				ch := &cb.Changes[i]
				collect(ch.Problems)
				for _, m := range ch.Messages {
					collect(m.Problems)
				}
				for _, m := range ch.Echoes {
					collect(m.Problems)
				}
				for _, s := range ch.Statuses {
					collect(s.Problems)
				}
				if ch.Kind() == KindCalls && len(ch.Statuses) > 0 {
					t.Errorf("%s: a calls change returned %d message statuses", ch.Path, len(ch.Statuses))
				}
				for _, s := range ch.Statuses {
					if strings.HasPrefix(s.ID, "wacid.") {
						t.Errorf("%s: call status %s returned as a message status", s.Path, s.ID)
					}
				}
				if ch.Summary() == "" {
					t.Errorf("%s: empty Summary", ch.Path)
				}
			}
			if want := corpusErrors[base]; !slices.Equal(errs, want) {
				t.Errorf("error problems %v, want %v", errs, want)
			}
			for _, w := range corpusWarnings[base] {
				if !slices.Contains(warns, w) {
					t.Errorf("warnings %v lack %s", warns, w)
				}
			}
			for _, p := range checkNoFieldDropped(t, body, cb) {
				rawOnly[p] = true
			}
		})
	}
	// Also the hand-written bodies of testdata: none drops a field either.
	for _, name := range bodies(t) {
		body := mustRead(t, name)
		for _, p := range checkNoFieldDropped(t, body, mustDecode(t, body)) {
			rawOnly[p] = true
		}
	}
	if testing.Verbose() {
		t.Logf("leaves kept only in a Raw (indexes elided): %s", strings.Join(slices.Sorted(mapKeys(rawOnly)), " "))
	}
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// leaf is one scalar of a JSON document: its path in this package's syntax
// ("entry[0].changes[0].value.messages[0].from") and its value (a
// string's content, a number's or boolean's text). null is absent.
type leaf struct{ path, value string }

// leaves lists the scalars of the JSON value doc, with paths prefixed by
// prefix.
func leaves(t testing.TB, doc []byte, prefix string) []leaf {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("leaves: %v", err)
	}
	var out []leaf
	var walk func(string, any)
	walk = func(p string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if p == "" {
					walk(k, e)
				} else {
					walk(p+"."+k, e)
				}
			}
		case []any:
			for i, e := range v {
				walk(p+"["+strconv.Itoa(i)+"]", e)
			}
		case string:
			out = append(out, leaf{p, v})
		case json.Number:
			out = append(out, leaf{p, string(v)})
		case bool:
			out = append(out, leaf{p, strconv.FormatBool(v)})
		}
	}
	walk(prefix, v)
	return out
}

// identityLeaf matches the members that identify a customer: wherever they
// occur in a message, status, contact, call, preference or user id update,
// they must be typed, not only kept raw.
var identityLeaf = regexp.MustCompile(`\.(from|from_user_id|from_parent_user_id|to|to_user_id|to_parent_user_id|wa_id|user_id|parent_user_id|username|recipient_id|recipient_user_id|recipient_parent_user_id|recipient_participant_id|recipient_participant_user_id|recipient_participant_parent_user_id|group_id|previous_user_id|previous_parent_user_id)$`)

// checkNoFieldDropped asserts that every leaf of body is either represented
// in the typed view of cb, with the same value (see covered), or kept byte
// for byte in the Raw of the element that holds it: a message, a status, a
// shared contact card or the change's value. It returns the leaves found
// only in a Raw, with array indexes elided, for the log.
func checkNoFieldDropped(t *testing.T, body []byte, cb *Callback) (rawOnly []string) {
	t.Helper()
	typed := covered(cb)
	type kept struct {
		path string
		raw  []byte
	}
	var raws []kept
	kinds := map[string]ChangeKind{}
	for i := range cb.Changes {
		ch := &cb.Changes[i]
		kinds[ch.Path] = ch.Kind()
		if len(ch.Raw) > 0 {
			raws = append(raws, kept{ch.Path, ch.Raw})
		}
		for _, ms := range [][]Message{ch.Messages, ch.Echoes} {
			for _, m := range ms {
				raws = append(raws, kept{m.Path, m.Raw})
				for k, c := range m.Contacts {
					raws = append(raws, kept{m.Path + ".contacts[" + strconv.Itoa(k) + "]", c.Raw})
				}
			}
		}
		for _, s := range ch.Statuses {
			raws = append(raws, kept{s.Path, s.Raw})
		}
	}
	rawLeaves := map[string]map[string]string{}
	inRaw := func(l leaf) bool {
		for _, k := range raws {
			if !within(l.path, k.path) {
				continue
			}
			m, ok := rawLeaves[k.path]
			if !ok {
				m = map[string]string{}
				for _, x := range leaves(t, k.raw, k.path) {
					m[x.path] = x.value
				}
				rawLeaves[k.path] = m
			}
			if v, ok := m[l.path]; ok && v == l.value {
				return true
			}
		}
		return false
	}
	elide := regexp.MustCompile(`\[\d+\]`)
	for _, l := range leaves(t, body, "") {
		switch top, _, _ := strings.Cut(strings.SplitN(l.path, "[", 2)[0], "."); top {
		case "object", "entry", "meta_object", "extra_info", "status", "message_id":
		default:
			continue // a member of neither envelope, which Decode ignores
		}
		if v, ok := typed[l.path]; ok {
			if !strings.EqualFold(v, l.value) {
				t.Errorf("%s = %q in the body, %q in the typed view", l.path, l.value, v)
			}
			continue
		}
		if !inRaw(l) {
			t.Errorf("%s = %q dropped: neither typed nor in a kept Raw", l.path, l.value)
			continue
		}
		rawOnly = append(rawOnly, elide.ReplaceAllString(l.path, "[]"))
		if identityLeaf.MatchString(l.path) && !strings.Contains(l.path, ".contacts[0].phones") {
			kind := KindUnknown
			for p, k := range kinds {
				if within(l.path, p) {
					kind = k
				}
			}
			switch kind {
			case KindMessages, KindCalls, KindUserPreferences, KindUserIDUpdate, KindEchoes:
				if !regexp.MustCompile(`\.messages\[\d+\]\.contacts\[`).MatchString(l.path) {
					t.Errorf("%s: an identity field kept only raw, not typed", l.path)
				}
			}
		}
	}
	return rawOnly
}

// covered maps the JSON path of every typed field of cb to its value, as
// the body spells it. It is the "covered paths" of the typed view: a
// field Decode reads appears here under the path it was read from.
func covered(cb *Callback) map[string]string {
	c := map[string]string{}
	put := func(path, v string) { c[path] = v }
	putBool := func(path string, b bool) { c[path] = strconv.FormatBool(b) }
	put("object", cb.Object)
	put("status", cb.Status)
	put("message_id", cb.MessageID)
	errs := func(p string, es []Error) {
		for i, e := range es {
			q := p + "[" + strconv.Itoa(i) + "]"
			put(q+".code", strconv.FormatInt(e.Code, 10))
			put(q+".title", e.Title)
			put(q+".message", e.Message)
			put(q+".href", e.Href)
			put(q+".error_data.details", e.Details)
		}
	}
	for i := range cb.Changes {
		ch := &cb.Changes[i]
		p := ch.Path
		outer := strings.TrimSuffix(p, ".value")
		put(outer+".field", ch.Field)
		if strings.HasPrefix(p, "entry[") {
			put(p[:strings.Index(p, "]")+1]+".id", ch.WABAID)
			put(p[:strings.Index(p, "]")+1]+".time", ch.RawEntryTime)
		}
		if x := ch.Extra; x != nil {
			for k, v := range map[string]string{"media_url": x.MediaURL, "ref": x.Ref, "ref1": x.Ref1, "ref2": x.Ref2,
				"reply_to": x.ReplyTo, "trace_id": x.TraceID, "waba_id": x.WABAID, "message_id": x.MessageID} {
				put("extra_info."+k, v)
			}
			putBool("extra_info.enable_url_tracking_body", x.EnableURLTrackingBody)
			putBool("extra_info.enable_url_tracking_button", x.EnableURLTrackingButton)
		}
		put(p+".messaging_product", ch.MessagingProduct)
		put(p+".metadata.display_phone_number", ch.Metadata.DisplayPhoneNumber)
		put(p+".metadata.phone_number_id", ch.Metadata.PhoneNumberID)
		for k, ct := range ch.Contacts {
			q := p + ".contacts[" + strconv.Itoa(k) + "]"
			put(q+".wa_id", ct.WaID)
			put(q+".user_id", ct.UserID)
			put(q+".parent_user_id", ct.ParentUserID)
			put(q+".identity_key_hash", ct.IdentityKeyHash)
			put(q+".profile.name", ct.Name)
			put(q+".profile.username", ct.Username)
		}
		errs(p+".errors", ch.Errors)
		for _, ms := range [][]Message{ch.Messages, ch.Echoes} {
			for k := range ms {
				coverMessage(put, putBool, errs, &ms[k])
			}
		}
		for k := range ch.Statuses {
			s := &ch.Statuses[k]
			q := s.Path
			put(q+".id", s.ID)
			put(q+".status", string(s.Status))
			put(q+".timestamp", s.RawTimestamp)
			put(q+".recipient_id", s.RecipientID)
			put(q+".recipient_user_id", s.RecipientUserID)
			put(q+".recipient_parent_user_id", s.RecipientParentUserID)
			put(q+".recipient_type", s.RecipientType)
			put(q+".recipient_participant_id", s.RecipientParticipantID)
			put(q+".recipient_participant_user_id", s.RecipientParticipantUserID)
			put(q+".recipient_participant_parent_user_id", s.RecipientParticipantParentUserID)
			put(q+".biz_opaque_callback_data", s.BizOpaqueCallbackData)
			if cv := s.Conversation; cv != nil {
				put(q+".conversation.id", cv.ID)
				put(q+".conversation.expiration_timestamp", cv.ExpirationTimestamp)
				put(q+".conversation.origin.type", cv.OriginType)
			}
			if pr := s.Pricing; pr != nil {
				if pr.Billable != nil {
					putBool(q+".pricing.billable", *pr.Billable)
				}
				put(q+".pricing.pricing_model", pr.PricingModel)
				put(q+".pricing.type", pr.Type)
				put(q+".pricing.category", pr.Category)
			}
			errs(q+".errors", s.Errors)
		}
		for _, cl := range ch.Calls {
			q := cl.Path
			put(q+".id", cl.ID)
			if cl.Event != "status" {
				put(q+".event", cl.Event)
			}
			put(q+".status", cl.Status)
			put(q+".direction", cl.Direction)
			put(q+".from", cl.From)
			put(q+".to", cl.To)
			put(q+".from_user_id", cl.FromUserID)
			put(q+".from_parent_user_id", cl.FromParentUserID)
			put(q+".to_user_id", cl.ToUserID)
			put(q+".to_parent_user_id", cl.ToParentUserID)
			put(q+".recipient_id", cl.RecipientID)
			put(q+".recipient_user_id", cl.RecipientUserID)
			put(q+".recipient_parent_user_id", cl.RecipientParentUserID)
			put(q+".timestamp", cl.RawTimestamp)
			put(q+".start_time", cl.RawStartTime)
			put(q+".end_time", cl.RawEndTime)
			put(q+".duration", strconv.FormatInt(cl.Duration, 10))
			put(q+".biz_opaque_callback_data", cl.BizOpaqueCallbackData)
			errs(q+".errors", cl.Errors)
		}
		for _, up := range ch.UserPreferences {
			q := up.Path
			put(q+".wa_id", up.WaID)
			put(q+".user_id", up.UserID)
			put(q+".parent_user_id", up.ParentUserID)
			put(q+".category", up.Category)
			put(q+".value", up.Value)
			put(q+".detail", up.Detail)
			put(q+".signup_id", up.SignupID)
			put(q+".timestamp", up.RawTimestamp)
		}
		for _, u := range ch.UserIDUpdates {
			q := u.Path
			put(q+".wa_id", u.WaID)
			put(q+".detail", u.Detail)
			put(q+".user_id.previous", u.PreviousUserID)
			put(q+".user_id.current", u.CurrentUserID)
			put(q+".parent_user_id.previous", u.PreviousParentUserID)
			put(q+".parent_user_id.current", u.CurrentParentUserID)
			put(q+".timestamp", u.RawTimestamp)
		}
		if ev := ch.Event; ev != nil {
			for k, v := range map[string]string{"event": ev.Event, "reason": ev.Reason,
				"message_template_id": ev.TemplateID, "message_template_name": ev.TemplateName,
				"message_template_language": ev.TemplateLanguage, "message_template_category": ev.TemplateCategory,
				"previous_quality_score": ev.PreviousQualityScore, "new_quality_score": ev.NewQualityScore,
				"previous_category": ev.PreviousCategory, "new_category": ev.NewCategory,
				"display_phone_number": ev.DisplayPhoneNumber, "current_limit": ev.CurrentLimit} {
				put(p+"."+k, v)
			}
		}
	}
	return c
}

// coverMessage adds the typed fields of a message (or echo) to covered.
func coverMessage(put func(string, string), putBool func(string, bool), errs func(string, []Error), m *Message) {
	q := m.Path
	put(q+".id", m.ID)
	put(q+".from", m.From)
	put(q+".from_user_id", m.FromUserID)
	put(q+".from_parent_user_id", m.FromParentUserID)
	put(q+".to", m.To)
	put(q+".to_user_id", m.ToUserID)
	put(q+".to_parent_user_id", m.ToParentUserID)
	put(q+".group_id", m.GroupID)
	put(q+".type", string(m.Type))
	put(q+".timestamp", m.RawTimestamp)
	errs(q+".errors", m.Errors)
	if c := m.Context; c != nil {
		put(q+".context.from", c.From)
		put(q+".context.id", c.ID)
		putBool(q+".context.forwarded", c.Forwarded)
		putBool(q+".context.frequently_forwarded", c.FrequentlyForwarded)
		if rp := c.ReferredProduct; rp != nil {
			put(q+".context.referred_product.catalog_id", rp.CatalogID)
			put(q+".context.referred_product.product_retailer_id", rp.ProductRetailerID)
		}
	}
	if f := m.Referral; f != nil {
		for k, v := range map[string]string{"source_url": f.SourceURL, "source_id": f.SourceID, "source_type": f.SourceType,
			"body": f.Body, "headline": f.Headline, "media_type": f.MediaType, "image_url": f.ImageURL,
			"video_url": f.VideoURL, "thumbnail_url": f.ThumbnailURL, "ctwa_clid": f.CtwaClid,
			"welcome_message.text": f.WelcomeMessageText} {
			put(q+".referral."+k, v)
		}
	}
	if m.Text != nil {
		put(q+".text.body", m.Text.Body)
	}
	for name, md := range map[string]*Media{"image": m.Image, "video": m.Video, "audio": m.Audio, "document": m.Document, "sticker": m.Sticker} {
		if md == nil {
			continue
		}
		r := q + "." + name
		put(r+".id", md.ID)
		put(r+".mime_type", md.MimeType)
		put(r+".sha256", md.SHA256)
		put(r+".url", md.URL)
		put(r+".caption", md.Caption)
		put(r+".filename", md.Filename)
		putBool(r+".animated", md.Animated)
		putBool(r+".voice", md.Voice)
	}
	if l := m.Location; l != nil {
		put(q+".location.latitude", l.Latitude)
		put(q+".location.longitude", l.Longitude)
		put(q+".location.name", l.Name)
		put(q+".location.address", l.Address)
		put(q+".location.url", l.URL)
	}
	for k, sc := range m.Contacts {
		r := q + ".contacts[" + strconv.Itoa(k) + "].name"
		put(r+".formatted_name", sc.FormattedName)
		put(r+".first_name", sc.FirstName)
		put(r+".last_name", sc.LastName)
	}
	if in := m.Interactive; in != nil {
		put(q+".interactive.type", in.Type)
		if b := in.ButtonReply; b != nil {
			put(q+".interactive.button_reply.id", b.ID)
			put(q+".interactive.button_reply.title", b.Title)
		}
		if l := in.ListReply; l != nil {
			put(q+".interactive.list_reply.id", l.ID)
			put(q+".interactive.list_reply.title", l.Title)
			put(q+".interactive.list_reply.description", l.Description)
		}
		if n := in.NFMReply; n != nil {
			put(q+".interactive.nfm_reply.name", n.Name)
			put(q+".interactive.nfm_reply.body", n.Body)
			put(q+".interactive.nfm_reply.response_json", n.ResponseJSON)
		}
	}
	if b := m.Button; b != nil {
		put(q+".button.payload", b.Payload)
		put(q+".button.text", b.Text)
	}
	if o := m.Order; o != nil {
		put(q+".order.catalog_id", o.CatalogID)
		put(q+".order.text", o.Text)
		for k, it := range o.Items {
			r := q + ".order.product_items[" + strconv.Itoa(k) + "]"
			put(r+".product_retailer_id", it.ProductRetailerID)
			put(r+".quantity", unquote(it.RawQuantity))
			put(r+".item_price", unquote(it.RawPrice))
			put(r+".currency", it.Currency)
		}
	}
	if x := m.Reaction; x != nil {
		put(q+".reaction.message_id", x.MessageID)
		put(q+".reaction.emoji", x.Emoji)
	}
	if s := m.System; s != nil {
		for k, v := range map[string]string{"body": s.Body, "type": s.Type, "wa_id": s.WaID, "customer": s.Customer,
			"new_wa_id": s.NewWaID, "user_id": s.UserID, "parent_user_id": s.ParentUserID,
			"previous_user_id": s.PreviousUserID, "previous_parent_user_id": s.PreviousParentUserID} {
			put(q+".system."+k, v)
		}
	}
	if u := m.Unsupported; u != nil {
		put(q+".unsupported.type", u.Type)
	}
}

// unquote returns the content of a quoted JSON string, or s.
func unquote(s string) string {
	if strings.HasPrefix(s, `"`) {
		if b, err := jsontext.AppendUnquote(nil, s); err == nil {
			return string(b)
		}
	}
	return s
}
