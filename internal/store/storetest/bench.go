package storetest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// BenchInbound returns the single-order Inbound both drivers' write
// benchmarks clone: Kaleyra's catalogue order sample (two lines) with its
// campaign references, about 1.6 KB of body. One template for both drivers
// keeps their figures comparable.
func BenchInbound() *store.Inbound {
	o := NewOrder("wamid.template", Base,
		NewItem("shirt1122", 1, Money("INR", 160000)),
		NewItem("pant1122", 2, Money("INR", 200000)),
	)
	o.Campaign = waorders.Campaign{Ref: "Hello This will be my reference id - 123", Ref1: "shoes campaign", Ref2: "summer sale campaign"}
	o.ReplyTo = "48c38d78-4ec5-4f00-abee-03a1b2c36c85"
	o.TraceID = "cb94fee2-3e70-4a00-944a-2a4b5c6db90a"
	return NewOrderInbound(o)
}

// CloneInbound copies tmpl (a BenchInbound) at time at under ids made like
// real ones: a random wamid (so the messages' unique index sees random
// inserts), a customer out of 50,000 (so do the customer indexes), and a
// request id of the time in nanoseconds then 8 random bytes, as
// internal/server makes them. A non-empty campaign replaces ref1.
func CloneInbound(tmpl *store.Inbound, rnd *rand.ChaCha8, at time.Time, campaign string) *store.Inbound {
	var b [24]byte
	rnd.Read(b[:])
	id := "wamid.HBgMOTE5OD" + base64.RawURLEncoding.EncodeToString(b[:])
	m := *tmpl.Messages[0].Message
	o := *tmpl.Messages[0].Order
	m.ID, o.ID = id, id
	customer := fmt.Sprintf("9198%08d", rnd.Uint64()%50000)
	m.Customer.WaID, o.Customer.WaID = customer, customer
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixNano()))
	rnd.Read(b[8:16])
	m.CallbackID = hex.EncodeToString(b[:16])
	m.SentAt, o.OrderedAt = at, at
	if campaign != "" {
		o.Campaign.Ref1, m.Campaign.Ref1 = campaign, campaign
	}
	d := *tmpl
	d.Callback.ID = m.CallbackID
	d.Messages = []store.MessageWrite{{Message: &m, Order: &o}}
	return &d
}
