package simulate

import (
	"bytes"
	"strconv"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/money"
)

// shape is how a callback's value is wrapped.
type shape int

const (
	shapeKaleyra   shape = iota // {"meta_object": ..., "extra_info": ...}
	shapeMeta                   // {"object": ..., "entry": [...]}
	shapeBareValue              // Meta's value with no envelope at all (a defect)
	shapeArray                  // a Kaleyra body inside a top-level array (a defect)
)

func shapeOf(env callback.Envelope) shape {
	if env == callback.EnvelopeMeta {
		return shapeMeta
	}
	return shapeKaleyra
}

// extraInfo is what Kaleyra adds to a message callback.
type extraInfo struct {
	mediaURL string
	refs     [3]string
	replyTo  string
}

// messageResult is what writing one message produced besides JSON.
type messageResult struct {
	order    *ExpectedOrder
	mediaURL string
}

// repliesPercent is how often a kind is sent in reply to one of the brand's
// messages (with context, reply_to and campaign refs).
var repliesPercent = map[Kind]int{
	KindOrder: 70, KindText: 40, KindImage: 20, KindVideo: 20, KindAudio: 20, KindDocument: 30,
	KindSticker: 10, KindLocation: 50, KindContacts: 20, KindButtonReply: 100, KindListReply: 100,
	KindNFMReply: 100, KindButton: 100, KindReaction: 0, KindSystem: 0, KindUnsupported: 0,
}

// buildMessages writes a callback of inbound messages of one kind, all to
// the same business number. A non-empty defect breaks one order message.
func (g *Generator) buildMessages(kind Kind, sh shape, defect Defect) Generated {
	mi := g.pickMarket()
	m := &markets[mi]
	n := g.opts.MessagesPerCallback
	cb := Generated{Kind: kind, Envelope: callback.EnvelopeKaleyra}
	if sh == shapeMeta {
		cb.Envelope = callback.EnvelopeMeta
	}

	var extra extraInfo
	var contextID string
	if g.rnd.IntN(100) < repliesPercent[kind] {
		contextID = g.wamid(domainOutbound)
		extra.refs = g.refs()
		extra.replyTo = g.uuid()
	}
	bad := -1
	if defect != "" && kind == KindOrder {
		bad = g.rnd.IntN(n)
		cb.Malformed, cb.Defect = true, defect
	}

	g.scratch.b, g.parts = g.scratch.b[:0], g.parts[:0]
	cust := pick(g, g.byMarket[mi])
	for i := range n {
		if i > 0 && !g.chance(2) {
			cust = pick(g, g.byMarket[mi])
		}
		id := g.wamid(domainInbound)
		var d Defect
		if i == bad {
			d = defect
		}
		start := len(g.scratch.b)
		g.scratch.needComma = false
		res := g.writeMessage(&g.scratch, kind, m, &g.customers[cust], id, contextID, d)
		g.parts = append(g.parts, part{start: start, end: len(g.scratch.b), cust: cust})
		if extra.mediaURL == "" {
			extra.mediaURL = res.mediaURL
		}
		if d != "" {
			cb.DefectiveIDs = append(cb.DefectiveIDs, id)
			continue
		}
		cb.MessageIDs = append(cb.MessageIDs, id)
		if res.order != nil {
			cb.Orders = append(cb.Orders, *res.order)
		}
	}

	w := &g.w
	w.b, w.needComma = w.b[:0], false
	contacts := kind != KindSystem
	switch sh {
	case shapeMeta:
		g.writeMetaEnvelope(m, func(w *jsonWriter, from, to int) {
			g.writeValue(w, m, "messages", g.parts[from:to], contacts)
		})
	case shapeBareValue:
		g.writeValue(w, m, "messages", g.parts, contacts)
	default:
		if sh == shapeArray {
			w.openArray()
		}
		g.openKaleyraEnvelope(m, "messages", contacts)
		w.key("extra_info")
		w.open()
		w.field("media_url", extra.mediaURL)
		w.field("ref", extra.refs[0])
		w.field("ref1", extra.refs[1])
		w.field("ref2", extra.refs[2])
		w.field("reply_to", extra.replyTo)
		w.field("trace_id", g.uuid())
		w.field("waba_id", m.wabaID)
		w.close()
		w.close()
		if sh == shapeArray {
			w.closeArray()
		}
	}
	cb.Body = bytes.Clone(w.b)
	return cb
}

// openKaleyraEnvelope opens Kaleyra's envelope and writes its meta_object:
// the parts as the value's list named list (Kaleyra's field is "messages"
// whatever the list). The caller writes the rest of the envelope (its
// extra_info) and closes it.
func (g *Generator) openKaleyraEnvelope(m *market, list string, contacts bool) {
	w := &g.w
	w.open()
	w.key("meta_object")
	w.open()
	w.key("value")
	g.writeValue(w, m, list, g.parts, contacts)
	w.field("field", "messages")
	w.close()
}

// writeMetaEnvelope writes Meta's envelope around the parts, split over two
// entries now and then when there are several.
func (g *Generator) writeMetaEnvelope(m *market, value func(w *jsonWriter, from, to int)) {
	w := &g.w
	w.open()
	w.field("object", "whatsapp_business_account")
	w.key("entry")
	w.openArray()
	split := len(g.parts)
	if len(g.parts) > 1 && g.chance(5) {
		split = 1 + g.rnd.IntN(len(g.parts)-1)
	}
	for _, r := range [][2]int{{0, split}, {split, len(g.parts)}} {
		if r[0] == r[1] {
			continue
		}
		w.open()
		w.field("id", m.wabaID)
		w.key("changes")
		w.openArray()
		w.open()
		w.key("value")
		value(w, r[0], r[1])
		w.field("field", "messages")
		w.close()
		w.closeArray()
		w.close()
	}
	w.closeArray()
	w.close()
}

// writeValue writes Meta's webhook value holding parts under list
// ("messages" or "statuses").
func (g *Generator) writeValue(w *jsonWriter, m *market, list string, parts []part, contacts bool) {
	w.open()
	w.field("messaging_product", "whatsapp")
	w.key("metadata")
	w.open()
	w.field("display_phone_number", m.display)
	w.field("phone_number_id", m.phoneID)
	w.close()
	if contacts {
		w.key("contacts")
		w.openArray()
		for i, p := range parts {
			if g.seenBefore(parts[:i], p.cust) {
				continue
			}
			c := &g.customers[p.cust]
			w.open()
			if c.profile {
				w.key("profile")
				w.open()
				w.field("name", g.name(c))
				w.close()
			}
			w.field("wa_id", c.waID)
			if c.userID != "" {
				w.field("user_id", c.userID)
			}
			w.close()
		}
		w.closeArray()
	}
	w.key(list)
	w.openArray()
	for _, p := range parts {
		w.sep()
		w.b = append(w.b, g.scratch.b[p.start:p.end]...)
		w.needComma = true
	}
	w.closeArray()
	w.close()
}

func (g *Generator) seenBefore(parts []part, cust int) bool {
	for _, p := range parts {
		if p.cust == cust {
			return true
		}
	}
	return false
}

// name is the customer's profile name; examples always show the same
// friendly one.
func (g *Generator) name(c *customer) string {
	if g.tame {
		return plainNames[0]
	}
	return c.name
}

// refs returns campaign refs for a reply to one of the brand's messages:
// often set, sometimes empty, now and then hostile.
func (g *Generator) refs() [3]string {
	var r [3]string
	for i, p := range []int{85, 60, 40} {
		if g.rnd.IntN(100) < p {
			r[i] = pick(g, campaigns)
		}
	}
	if !g.tame && g.chance(100) {
		r[g.rnd.IntN(3)] = pick(g, hostileRefs)
	}
	return r
}

func (g *Generator) text(plain []string) string {
	if !g.tame && g.chance(50) {
		return pick(g, hostileTexts)
	}
	return pick(g, plain)
}

// writeMessage writes one messages[] element.
func (g *Generator) writeMessage(w *jsonWriter, kind Kind, m *market, c *customer, id, contextID string, defect Defect) messageResult {
	var res messageResult
	w.open()
	if contextID != "" {
		w.key("context")
		w.open()
		w.field("from", m.display)
		w.field("id", contextID)
		w.close()
	} else if kind == KindText {
		switch g.rnd.IntN(20) {
		case 0:
			w.key("context")
			w.open()
			w.key("forwarded")
			w.boolean(true)
			w.close()
		case 1:
			w.key("context")
			w.open()
			w.field("from", m.display)
			w.field("id", g.wamid(domainOutbound))
			w.key("referred_product")
			w.open()
			w.field("catalog_id", m.catalogID)
			w.field("product_retailer_id", pick(g, m.products).sku)
			w.close()
			w.close()
		}
	}
	w.field("from", c.waID)
	w.field("id", id)
	w.field("timestamp", g.timestamp(g.clock))
	switch kind {
	case KindOrder:
		w.field("type", "order")
		res.order = g.writeOrder(w, m, id, defect)
	case KindText:
		w.field("type", "text")
		w.key("text")
		w.open()
		w.field("body", g.text(chatTexts))
		w.close()
		if contextID == "" && g.chance(15) {
			g.writeReferral(w)
		}
	case KindImage, KindVideo, KindAudio, KindDocument, KindSticker:
		res.mediaURL = g.writeMedia(w, kind, m)
	case KindLocation:
		w.field("type", "location")
		w.key("location")
		w.open()
		w.fieldNum("latitude", strconv.FormatFloat(m.latitude+(g.rnd.Float64()-0.5)/10, 'f', 6, 64))
		w.fieldNum("longitude", strconv.FormatFloat(m.longitude+(g.rnd.Float64()-0.5)/10, 'f', 6, 64))
		if g.chance(2) {
			place := pick(g, m.places)
			w.field("name", place)
			w.field("address", place)
		}
		w.close()
	case KindContacts:
		g.writeContacts(w, m)
	case KindButtonReply, KindListReply, KindNFMReply:
		g.writeInteractive(w, kind, c)
	case KindButton:
		b := pick(g, templateButtons)
		w.field("type", "button")
		w.key("button")
		w.open()
		w.field("payload", b[0])
		w.field("text", b[1])
		w.close()
	case KindReaction:
		w.field("type", "reaction")
		w.key("reaction")
		w.open()
		w.field("message_id", g.wamid(domainOutbound))
		if !g.chance(8) { // no emoji: the reaction was removed
			w.field("emoji", pick(g, emojis))
		}
		w.close()
	case KindSystem:
		g.writeSystem(w, m, c)
	case KindUnsupported:
		g.writeUnsupported(w)
	}
	w.close()
	return res
}

// quantity is mostly 1 or 2, sometimes a bulk order.
func (g *Generator) quantity() int64 {
	switch r := g.rnd.IntN(100); {
	case r < 50:
		return 1
	case r < 75:
		return 2
	case r < 95:
		return 3 + g.rnd.Int64N(3)
	default:
		return 10 + g.rnd.Int64N(41)
	}
}

var unknownCurrencies = []string{"QQQ", "RS", "rupees", "XBT"}

func (g *Generator) writeOrder(w *jsonWriter, m *market, id string, defect Defect) *ExpectedOrder {
	n := 1
	if g.opts.MaxItems > 1 && !g.chance(2) {
		n = 2 + g.rnd.IntN(g.opts.MaxItems-1)
	}
	bad := -1
	if defect != "" {
		bad = g.rnd.IntN(n)
	}
	w.key("order")
	w.open()
	w.field("catalog_id", m.catalogID)
	if !g.chance(3) {
		w.field("text", g.text(orderTexts))
	}
	w.key("product_items")
	w.openArray()
	first := g.rnd.IntN(len(m.products))
	var total int64
	for k := range n {
		p := m.products[(first+k)%len(m.products)]
		sku := p.sku
		if k >= len(m.products) { // more lines than the catalogue: variants
			sku += "-v" + strconv.Itoa(k/len(m.products))
		}
		q := g.quantity()
		qty, price, cur := strconv.FormatInt(q, 10), formatMinor(p.minor, m.digits, !g.chance(8)), m.currency
		if k == bad {
			switch defect {
			case DefectZeroQuantity:
				qty = "0"
			case DefectUnknownCurrency:
				cur = pick(g, unknownCurrencies)
			case DefectTooPrecise:
				price = formatMinor(p.minor, m.digits, false)
				if m.digits == 0 {
					price += ".1"
				} else {
					price += "1"
				}
			}
		}
		w.open()
		w.field("product_retailer_id", sku)
		w.fieldNum("quantity", qty)
		w.fieldNum("item_price", price)
		w.field("currency", cur)
		w.close()
		total += q * p.minor
	}
	w.closeArray()
	w.close()
	return &ExpectedOrder{MessageID: id, Totals: []money.Amount{{Currency: m.currency, Minor: total}}, Items: n}
}

func (g *Generator) writeReferral(w *jsonWriter) {
	w.key("referral")
	w.open()
	w.field("source_url", "https://fb.me/"+g.digits(9))
	w.field("source_id", g.digits(15))
	w.field("source_type", "ad")
	w.field("body", "Flat 20% off this week only")
	w.field("headline", "Shop the sale on WhatsApp")
	w.field("media_type", "image")
	w.field("image_url", "https://scontent.example.invalid/ad.jpg")
	w.field("ctwa_clid", g.hex32())
	w.close()
}

func (g *Generator) writeMedia(w *jsonWriter, kind Kind, m *market) string {
	mt := mediaTypes[kind]
	mediaID := g.mediaID()
	w.field("type", string(kind))
	w.key(string(kind))
	w.open()
	if kind == KindImage || kind == KindVideo || kind == KindDocument {
		if c := pick(g, captions); c != "" {
			w.field("caption", c)
		}
	}
	if kind == KindDocument {
		w.field("filename", "invoice-"+g.digits(6)+".pdf")
	}
	w.field("mime_type", mt.mime)
	w.field("sha256", g.sha256b64())
	w.field("id", mediaID)
	switch kind {
	case KindAudio:
		w.key("voice")
		w.boolean(!g.chance(4))
	case KindSticker:
		w.key("animated")
		w.boolean(g.chance(3))
	}
	w.close()
	return "https://s3.ap-south-1.amazonaws.com/kaleyra-wa-media/" + m.wabaID + "/" + mediaID + "." + mt.ext
}

func (g *Generator) writeContacts(w *jsonWriter, m *market) {
	first, last := "Anil", "Kumar"
	if g.chance(2) {
		first, last = "Maria", "García"
	}
	wa := m.dialCode + "9" + g.digits(m.localDigits-1)
	w.field("type", "contacts")
	w.key("contacts")
	w.openArray()
	w.open()
	w.key("name")
	w.open()
	w.field("formatted_name", first+" "+last)
	w.field("first_name", first)
	w.field("last_name", last)
	w.close()
	// Kaleyra's sample sends phones as one object; Meta sends an array.
	asObject := g.opts.Envelope != callback.EnvelopeMeta && g.chance(5)
	w.key("phones")
	if !asObject {
		w.openArray()
	}
	w.open()
	w.field("phone", "+"+wa)
	w.field("wa_id", wa)
	w.field("type", "CELL")
	w.close()
	if !asObject {
		w.closeArray()
	}
	w.close()
	w.closeArray()
}

func (g *Generator) writeInteractive(w *jsonWriter, kind Kind, c *customer) {
	w.field("type", "interactive")
	w.key("interactive")
	w.open()
	w.field("type", string(kind))
	w.key(string(kind))
	w.open()
	switch kind {
	case KindButtonReply:
		b := pick(g, buttonReplies)
		w.field("id", b[0]+"-"+g.digits(4))
		w.field("title", b[1])
	case KindListReply:
		l := pick(g, listReplies)
		w.field("id", l[0])
		w.field("title", l[1])
		if l[2] != "" {
			w.field("description", l[2])
		}
	case KindNFMReply:
		in := &g.inner
		in.b, in.needComma = in.b[:0], false
		in.open()
		if g.chance(2) {
			w.field("name", "flow")
			w.field("body", "Sent")
			in.field("flow_token", g.uuid())
			in.field("delivery_slot", pick(g, listReplies)[0])
			in.field("gift_note", g.text(orderTexts))
		} else {
			w.field("name", "address_message")
			w.field("body", "Address")
			in.field("saved_address_id", g.digits(6))
			in.key("values")
			in.open()
			in.field("name", g.name(c))
			in.field("phone_number", c.waID)
			in.field("in_pin_code", "560034")
			in.field("house_number", "4B")
			in.field("address", "Koramangala 5th Block")
			in.field("city", "Bengaluru")
			in.field("state", "Karnataka")
			in.close()
		}
		in.close()
		w.field("response_json", string(in.b))
	}
	w.close()
	w.close()
}

func (g *Generator) writeSystem(w *jsonWriter, m *market, c *customer) {
	newWa := m.dialCode + "9" + g.digits(m.localDigits-1)
	w.field("type", "system")
	w.key("system")
	w.open()
	switch g.rnd.IntN(5) {
	case 0: // the older shape
		w.field("body", "\u200e"+g.name(c)+" changed from "+c.waID+" to "+newWa)
		w.field("customer", c.waID)
		w.field("new_wa_id", newWa)
		w.field("type", "customer_changed_number")
	case 1:
		w.field("body", g.name(c)+" changed their user id")
		w.field("user_id", "IN."+g.digits(19))
		w.field("type", "user_changed_user_id")
	default:
		w.field("body", "User "+g.name(c)+" changed from "+c.waID+" to "+newWa)
		w.field("wa_id", newWa)
		w.field("type", "user_changed_number")
	}
	w.close()
}

func (g *Generator) writeUnsupported(w *jsonWriter) {
	older := g.chance(10)
	if older {
		w.field("type", "unknown")
	} else {
		w.field("type", "unsupported")
	}
	w.key("errors")
	w.openArray()
	w.open()
	w.fieldNum("code", "131051")
	w.field("title", "Message type unknown")
	w.field("message", "Message type unknown")
	w.key("error_data")
	w.open()
	w.field("details", "Message type is currently not supported.")
	w.close()
	w.close()
	w.closeArray()
	if !older {
		w.key("unsupported")
		w.open()
		w.field("type", pick(g, unsupportedTypes))
		w.close()
	}
}
