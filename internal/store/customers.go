package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/waorders/waorders"
)

// Customers reads customers. A customer is not a row: it is the set of
// identifiers (phone-based id, BSUID, parent BSUID, username) connected by
// customer links, the pairs that messages and identity changes showed
// together. WriteInbound appends the links of what it stores (append-only,
// deduplicated by UNIQUE keys, never read on the write path), and reads
// resolve the set, so two callbacks of one customer written concurrently,
// on any number of instances, never create two customers: they add the
// same links. Every message and order is filed under one identifier it
// carried (its customer key, waorders.Customer.Key), which is in its
// customer's set.
type Customers interface {
	// GetCustomer summarises the customer that id (any of its identifiers)
	// belongs to: every identifier, names, username, marketing preference,
	// messages, and the orders over the whole set. CodeNotFound when no
	// message, order or change was stored for any identifier of the set.
	GetCustomer(ctx context.Context, id string) (*waorders.CustomerSummary, error)
}

// CustomerLink is a pair of identifiers seen together, so of one customer.
type CustomerLink struct {
	A, B waorders.CustomerID
}

// normal returns the link with its ends in a fixed order, so that a pair
// seen both ways is stored once.
func (l CustomerLink) normal() CustomerLink {
	if l.B.Value < l.A.Value || (l.B.Value == l.A.Value && l.B.Kind < l.A.Kind) {
		l.A, l.B = l.B, l.A
	}
	return l
}

// Key returns a string that identifies the link, for sorting and
// deduplicating within a call.
func (l CustomerLink) Key() string {
	return l.A.Value + "\x00" + l.A.Kind + "\x00" + l.B.Value + "\x00" + l.B.Kind
}

// linksOf appends the links that join the identifiers of c: each to the
// first (a star; the set is what matters, not the edges).
func linksOf(out []CustomerLink, c waorders.Customer) []CustomerLink {
	n := 0
	for _, v := range []string{c.UserID, c.WaID, c.ParentUserID, c.Username} {
		if v != "" {
			n++
		}
	}
	if n < 2 { // one identifier needs no link: the common case costs nothing
		return out
	}
	ids := c.IDs()
	for _, id := range ids[min(1, len(ids)):] {
		out = append(out, CustomerLink{A: ids[0], B: id})
	}
	return out
}

// InboundLinks returns the customer links an Inbound writes, normalised,
// deduplicated and sorted by Key (the order both drivers insert them in):
// its Links and the identifiers carried together by each message, status
// recipient and change. Self links are dropped; a customer with one
// identifier needs no link.
func InboundLinks(d *Inbound) []CustomerLink {
	var out []CustomerLink
	for _, mw := range d.Messages {
		out = linksOf(out, mw.Message.Customer)
	}
	for _, sw := range d.Statuses {
		u := sw.Update
		out = linksOf(out, waorders.Customer{WaID: u.RecipientID, UserID: u.RecipientUserID, ParentUserID: u.RecipientParentUserID})
	}
	for _, cw := range d.Changes {
		out = linksOf(out, cw.Change.Customer)
	}
	if len(out) == 0 && len(d.Links) == 0 {
		return nil
	}
	out = append(out, d.Links...)
	return normalLinks(out)
}

func normalLinks(ls []CustomerLink) []CustomerLink {
	out := ls[:0]
	for _, l := range ls {
		if l.A.Value == "" || l.B.Value == "" || l.A == l.B {
			continue
		}
		out = append(out, l.normal())
	}
	slices.SortFunc(out, func(a, b CustomerLink) int { return strings.Compare(a.Key(), b.Key()) })
	return slices.CompactFunc(out, func(a, b CustomerLink) bool { return a == b })
}

// CustomerRow is one identifier of a resolved customer set, with when it was
// first linked (zero if never: the identifier the lookup started from).
type CustomerRow struct {
	ID     waorders.CustomerID
	SeenAt int64 // unix microseconds; 0 when unknown
}

// CustomerKey chooses the stable key of a customer set: its oldest BSUID,
// else its oldest phone-based id, parent BSUID, username (ties by value).
// An identifier of unknown kind (the one looked up, never linked) counts
// as the newest of its kind.
func CustomerKey(rows []CustomerRow) string {
	for _, kind := range []string{waorders.IDUser, waorders.IDWa, waorders.IDParent, waorders.IDUsername} {
		best := -1
		for i, r := range rows {
			if r.ID.Kind != kind {
				continue
			}
			if best < 0 || older(r, rows[best]) {
				best = i
			}
		}
		if best >= 0 {
			return rows[best].ID.Value
		}
	}
	if len(rows) > 0 {
		return rows[0].ID.Value
	}
	return ""
}

func older(a, b CustomerRow) bool {
	as, bs := a.SeenAt, b.SeenAt
	if as == 0 {
		as = 1<<63 - 1
	}
	if bs == 0 {
		bs = 1<<63 - 1
	}
	if as != bs {
		return as < bs
	}
	return a.ID.Value < b.ID.Value
}

// CustomerSighting is the identifiers one stored record carried, and when.
type CustomerSighting struct {
	Customer waorders.Customer
	At       time.Time
}

// BuildCustomer assembles the summary of the customer looked up by id from
// its resolved set (links, each identifier with the time its first link was
// stored) and the identifiers its messages carried, newest first. It fills
// every field but the order and preference ones; ok is false when no
// record holds any identifier of the set.
func BuildCustomer(id string, links []CustomerRow, sightings []CustomerSighting) (c *waorders.CustomerSummary, ok bool) {
	first := map[waorders.CustomerID]int64{}
	seen := func(cid waorders.CustomerID, at int64) {
		if cid.Value == "" {
			return
		}
		if old, ok := first[cid]; !ok || (at != 0 && (old == 0 || at < old)) {
			first[cid] = at
		}
	}
	// An identifier's age is its oldest record's time; one that no record
	// carried yet (a BSUID first seen in a BSUID change) takes its link's.
	for _, s := range sightings {
		at := s.At.UnixMicro()
		for _, cid := range s.Customer.IDs() {
			seen(cid, at)
		}
	}
	linked := map[waorders.CustomerID]int64{}
	for _, r := range links {
		if old, ok := linked[r.ID]; !ok || r.SeenAt < old {
			linked[r.ID] = r.SeenAt
		}
	}
	for cid, at := range linked {
		if _, ok := first[cid]; !ok && cid.Value != "" {
			first[cid] = at
		}
	}
	c = &waorders.CustomerSummary{Identifiers: []waorders.CustomerID{}, Names: []string{}}
	for _, s := range sightings {
		cu := s.Customer
		c.WaID = cmp.Or(c.WaID, cu.WaID)
		c.UserID = cmp.Or(c.UserID, cu.UserID)
		c.ParentUserID = cmp.Or(c.ParentUserID, cu.ParentUserID)
		c.Username = cmp.Or(c.Username, cu.Username)
		c.Name = cmp.Or(c.Name, cu.Name)
		if cu.Name != "" && !slices.Contains(c.Names, cu.Name) {
			c.Names = append(c.Names, cu.Name)
		}
	}
	if len(first) == 0 {
		return nil, false
	}
	rows := make([]CustomerRow, 0, len(first))
	for cid, at := range first {
		rows = append(rows, CustomerRow{ID: cid, SeenAt: at})
	}
	slices.SortFunc(rows, func(a, b CustomerRow) int {
		return cmp.Or(strings.Compare(kindRank(a.ID.Kind), kindRank(b.ID.Kind)), strings.Compare(a.ID.Value, b.ID.Value))
	})
	for _, r := range rows {
		c.Identifiers = append(c.Identifiers, r.ID)
	}
	c.ID = CustomerKey(rows)
	if c.ID == "" {
		c.ID = id
	}
	return c, true
}

func kindRank(kind string) string {
	switch kind {
	case waorders.IDUser:
		return "1"
	case waorders.IDWa:
		return "2"
	case waorders.IDParent:
		return "3"
	}
	return "4" + kind
}

// MarketingPreference returns the preference value of a stored
// user_preferences change's Event ("marketing_messages stop" → "stop").
func MarketingPreference(event string) string {
	if i := strings.LastIndexByte(event, ' '); i >= 0 {
		return event[i+1:]
	}
	return event
}
