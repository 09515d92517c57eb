package simulate

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/money"
)

// Kind names what a generated callback carries.
type Kind string

// The kinds of callback a Generator produces. Every message of one callback
// has the same kind.
const (
	KindOrder       Kind = "order"
	KindText        Kind = "text"
	KindImage       Kind = "image"
	KindVideo       Kind = "video"
	KindAudio       Kind = "audio"
	KindDocument    Kind = "document"
	KindSticker     Kind = "sticker"
	KindLocation    Kind = "location"
	KindContacts    Kind = "contacts"
	KindButtonReply Kind = "button_reply" // interactive reply to a button message
	KindListReply   Kind = "list_reply"   // interactive reply to a list message
	KindNFMReply    Kind = "nfm_reply"    // interactive Flow or address-message response
	KindButton      Kind = "button"       // template quick-reply button
	KindReaction    Kind = "reaction"
	KindSystem      Kind = "system"
	KindUnsupported Kind = "unsupported"
	KindStatus      Kind = "status" // status updates of the brand's outbound messages
)

// Kinds returns every Kind, in a fixed order.
func Kinds() []Kind {
	return []Kind{
		KindOrder, KindText, KindImage, KindVideo, KindAudio, KindDocument, KindSticker,
		KindLocation, KindContacts, KindButtonReply, KindListReply, KindNFMReply, KindButton,
		KindReaction, KindSystem, KindUnsupported, KindStatus,
	}
}

// Defect names the way a malformed callback is broken.
type Defect string

// The defects a Generator injects when asked for malformed bodies.
const (
	// DefectTruncated is a body cut short: not valid JSON.
	DefectTruncated Defect = "truncated"
	// DefectWrongEnvelope is JSON (or form data) in neither Kaleyra's nor
	// Meta's envelope: a bare webhook value, Kaleyra's legacy flat format, a
	// top-level array or a form-encoded body.
	DefectWrongEnvelope Defect = "wrong-envelope"
	// DefectZeroQuantity is an order with one item of quantity 0.
	DefectZeroQuantity Defect = "zero-quantity"
	// DefectUnknownCurrency is an order with one item in a currency that is
	// not ISO 4217.
	DefectUnknownCurrency Defect = "unknown-currency"
	// DefectTooPrecise is an order with one price that has more decimals than
	// its currency allows (1980.1 JPY, 16.991 USD).
	DefectTooPrecise Defect = "too-precise"
)

// Defects returns every Defect, in a fixed order.
func Defects() []Defect {
	return []Defect{DefectTruncated, DefectWrongEnvelope, DefectZeroQuantity, DefectUnknownCurrency, DefectTooPrecise}
}

// wholeBody reports whether d breaks the body as a whole, so that no message
// in it can be read (the receiver answers 400 and quarantines the body).
func (d Defect) wholeBody() bool { return d == DefectTruncated || d == DefectWrongEnvelope }

// DefaultMix returns the share of each kind a Generator uses when
// Options.Mix is empty: mostly orders, statuses and text, every kind present.
func DefaultMix() map[Kind]float64 {
	return map[Kind]float64{
		KindOrder: 30, KindStatus: 25, KindText: 14, KindButtonReply: 4, KindButton: 3,
		KindReaction: 3, KindImage: 3, KindListReply: 2, KindNFMReply: 2, KindLocation: 2,
		KindAudio: 2, KindVideo: 1, KindDocument: 1, KindSticker: 1, KindContacts: 1,
		KindSystem: 0.5, KindUnsupported: 0.5,
	}
}

// ParseMix reads a mix such as "order=60,status=30,text=10" (shares need not
// add up to anything in particular). An empty string returns nil, which
// means DefaultMix.
func ParseMix(s string) (map[Kind]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	mix := make(map[Kind]float64)
	for part := range strings.SplitSeq(s, ",") {
		name, share, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("parse mix %q: want kind=share", part)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(share), 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("parse mix %q: share must be a number >= 0", part)
		}
		mix[Kind(strings.TrimSpace(name))] = v
	}
	o := Options{Mix: mix}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return mix, nil
}

// Options shape what a Generator produces. The zero value is usable.
type Options struct {
	// MessagesPerCallback is the number of messages (or, in Meta's envelope,
	// statuses) per callback; 0 means 1. Kaleyra status callbacks always
	// carry one status, because their top-level message_id names one message.
	MessagesPerCallback int
	// MaxItems is the largest number of product lines in one order; 0 means 5.
	MaxItems int
	// Mix is the relative share of each kind; nil or all zero means DefaultMix.
	Mix map[Kind]float64
	// MalformedShare is the probability, from 0 to 1, that a callback is
	// malformed (see Defect).
	MalformedShare float64
	// Envelope is callback.EnvelopeKaleyra (the default when empty) or
	// callback.EnvelopeMeta.
	Envelope callback.Envelope
	// Customers is the size of the customer pool, so that customers repeat;
	// 0 means 1000.
	Customers int
	// Start is the time of the first message; zero means 2026-01-01 UTC.
	// Each callback moves the clock on by 0 to 2 seconds.
	Start time.Time
}

// Validate reports options a Generator would have to ignore or clamp.
func (o Options) Validate() error {
	if o.MessagesPerCallback < 0 || o.MaxItems < 0 || o.Customers < 0 {
		return fmt.Errorf("options: counts must not be negative")
	}
	if o.MalformedShare < 0 || o.MalformedShare > 1 {
		return fmt.Errorf("options: malformed share %v is not between 0 and 1", o.MalformedShare)
	}
	if o.Envelope != "" && o.Envelope != callback.EnvelopeKaleyra && o.Envelope != callback.EnvelopeMeta {
		return fmt.Errorf("options: unknown envelope %q", o.Envelope)
	}
	for k, v := range o.Mix {
		if !slices.Contains(Kinds(), k) {
			return fmt.Errorf("options: unknown kind %q (known: %s)", k, joinKinds())
		}
		if v < 0 {
			return fmt.Errorf("options: share of %q is negative", k)
		}
	}
	return nil
}

func joinKinds() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// StatusKey is the receiver's dedup key of one status update.
type StatusKey struct {
	MessageID string // the wamid the status is about
	Status    string // sent, delivered, read, failed or not-sent
}

// ExpectedOrder is what a receiver should make of one order message.
type ExpectedOrder struct {
	MessageID string
	// Totals has one amount per currency, in order of first appearance.
	Totals []money.Amount
	Items  int
}

// Generated is one generated callback body and what it should lead to.
type Generated struct {
	// Body is the exact request body. It is not reused by the Generator.
	Body []byte
	Kind Kind
	// Envelope is the envelope the body uses; empty for DefectWrongEnvelope.
	Envelope callback.Envelope
	// MessageIDs are the ids of the usable inbound messages: the ones a
	// receiver should store. Empty for status callbacks and for bodies that
	// cannot be read as a whole.
	MessageIDs []string
	// StatusKeys are the usable status updates of a status callback.
	StatusKeys []StatusKey
	// Orders are the usable orders, with their expected totals.
	Orders []ExpectedOrder
	// Malformed is set when the body carries a defect; Defect says which.
	Malformed bool
	Defect    Defect
	// DefectiveIDs are the ids of messages a receiver should quarantine
	// while storing the rest of the callback (order-level defects only).
	DefectiveIDs []string
}

// customer is one member of the customer pool.
type customer struct {
	waID    string
	name    string
	profile bool // false: contacts entry without a profile
	userID  string
	market  int
}

// outbound is a message the brand sent, whose statuses are still to come.
type outbound struct {
	id      string
	convID  string
	cust    int
	refs    [3]string
	pending []statusEvent // in delivery order, which need not be time order
}

type statusEvent struct {
	status string
	at     int64 // seconds after Start
}

// Generator produces callbacks. It is not safe for concurrent use; share
// its output, not the Generator.
type Generator struct {
	opts    Options
	rnd     *rand.Rand
	seedMix uint64
	counter uint64
	start   int64
	clock   int64 // seconds after start
	tame    bool  // no hostile text (examples)

	kinds []Kind
	cum   []float64 // cumulative shares, parallel to kinds

	customers []customer
	byMarket  [][]int // customer indexes per market
	marketCum []int
	outbound  [][]*outbound // per market

	w       jsonWriter // the body
	scratch jsonWriter // messages or statuses, spliced into the body
	inner   jsonWriter // JSON text embedded as a string (response_json)
	parts   []part
}

// part is one message or status written to scratch.
type part struct {
	start, end int
	cust       int
}

// New returns a Generator whose output depends only on seed and opts.
// Options that fail Validate are clamped to something usable.
func New(seed uint64, opts Options) *Generator {
	if opts.MessagesPerCallback <= 0 {
		opts.MessagesPerCallback = 1
	}
	if opts.MaxItems <= 0 {
		opts.MaxItems = 5
	}
	if opts.Customers <= 0 {
		opts.Customers = 1000
	}
	opts.MalformedShare = min(max(opts.MalformedShare, 0), 1)
	if opts.Envelope != callback.EnvelopeMeta {
		opts.Envelope = callback.EnvelopeKaleyra
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	g := &Generator{
		opts:    opts,
		rnd:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		seedMix: mix64(seed),
		start:   opts.Start.Unix(),
	}
	g.setMix(opts.Mix)
	g.buildCustomers()
	g.outbound = make([][]*outbound, len(markets))
	return g
}

func (g *Generator) setMix(mix map[Kind]float64) {
	total := 0.0
	for _, k := range Kinds() {
		if v := mix[k]; v > 0 {
			total += v
		}
	}
	if total == 0 {
		mix = DefaultMix()
	}
	sum := 0.0
	for _, k := range slices.Sorted(maps.Keys(mix)) {
		if v := mix[k]; v > 0 && slices.Contains(Kinds(), k) {
			sum += v
			g.kinds = append(g.kinds, k)
			g.cum = append(g.cum, sum)
		}
	}
}

func (g *Generator) buildCustomers() {
	total := 0
	for _, m := range markets {
		total += m.weight
		g.marketCum = append(g.marketCum, total)
	}
	g.byMarket = make([][]int, len(markets))
	g.customers = make([]customer, g.opts.Customers)
	for i := range g.customers {
		mi := g.pickMarket()
		m := &markets[mi]
		c := customer{market: mi, profile: g.rnd.IntN(20) != 0}
		c.waID = m.dialCode + string(m.localFirst[g.rnd.IntN(len(m.localFirst))]) + g.digits(m.localDigits-1)
		switch {
		case g.rnd.IntN(33) == 0:
			c.name = hostileNames[g.rnd.IntN(len(hostileNames))]
		default:
			c.name = plainNames[g.rnd.IntN(len(plainNames))]
		}
		if g.rnd.IntN(20) == 0 {
			c.userID = "IN." + g.digits(19)
		}
		g.customers[i] = c
		g.byMarket[mi] = append(g.byMarket[mi], i)
	}
	// Every market needs at least one customer, however small the pool.
	for mi := range g.byMarket {
		if len(g.byMarket[mi]) == 0 {
			c := customer{market: mi, profile: true, name: plainNames[0]}
			c.waID = markets[mi].dialCode + "9" + g.digits(markets[mi].localDigits-1)
			g.customers = append(g.customers, c)
			g.byMarket[mi] = append(g.byMarket[mi], len(g.customers)-1)
		}
	}
}

func (g *Generator) pickMarket() int {
	if g.tame { // examples: the Indian shop of the contract's samples
		return 0
	}
	n := g.rnd.IntN(g.marketCum[len(g.marketCum)-1])
	for i, c := range g.marketCum {
		if n < c {
			return i
		}
	}
	return 0
}

func (g *Generator) pickKind() Kind {
	x := g.rnd.Float64() * g.cum[len(g.cum)-1]
	for i, c := range g.cum {
		if x < c {
			return g.kinds[i]
		}
	}
	return g.kinds[len(g.kinds)-1]
}

// Next returns the next callback.
func (g *Generator) Next() Generated {
	g.clock += int64(g.rnd.IntN(3))
	if g.opts.MalformedShare > 0 && g.rnd.Float64() < g.opts.MalformedShare {
		defects := Defects()
		return g.malformed(defects[g.rnd.IntN(len(defects))])
	}
	return g.build(g.pickKind(), g.opts.Envelope, "")
}

// build writes one well-formed callback of kind, or one whose order
// messages carry an order-level defect.
func (g *Generator) build(kind Kind, env callback.Envelope, defect Defect) Generated {
	if kind == KindStatus {
		return g.buildStatuses(shapeOf(env))
	}
	return g.buildMessages(kind, shapeOf(env), defect)
}

// pick returns a random element of s.
func pick[T any](g *Generator, s []T) T { return s[g.rnd.IntN(len(s))] }

// chance reports true with probability 1/n.
func (g *Generator) chance(n int) bool { return g.rnd.IntN(n) == 0 }

func (g *Generator) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rnd.IntN(10))
	}
	return string(b)
}

func (g *Generator) timestamp(at int64) string {
	return strconv.FormatInt(g.start+at, 10)
}
