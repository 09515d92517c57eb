package simulate

// malformed returns a callback with defect d. Order-level defects give an
// order callback with one broken message among good ones; whole-body defects
// give a body no message of which can be read.
func (g *Generator) malformed(d Defect) Generated {
	switch d {
	case DefectTruncated:
		cb := g.build(g.pickKind(), g.opts.Envelope, "")
		cut := 1 + g.rnd.IntN(len(cb.Body)-1) // any proper prefix is unbalanced
		return Generated{Body: cb.Body[:cut:cut], Kind: cb.Kind, Envelope: cb.Envelope, Malformed: true, Defect: d}
	case DefectWrongEnvelope:
		return g.wrongEnvelope()
	default:
		return g.build(KindOrder, g.opts.Envelope, d)
	}
}

// wrongEnvelope returns a body in neither known envelope.
func (g *Generator) wrongEnvelope() Generated {
	kind := KindText
	if g.chance(2) {
		kind = KindOrder
	}
	out := Generated{Kind: kind, Malformed: true, Defect: DefectWrongEnvelope}
	switch g.rnd.IntN(4) {
	case 0: // Meta's value with no envelope
		out.Body = g.buildMessages(kind, shapeBareValue, "").Body
	case 1: // a valid Kaleyra body, wrapped in an array
		out.Body = g.buildMessages(kind, shapeArray, "").Body
	case 2: // Kaleyra's legacy flat "dynamic variables" format, as JSON
		c := &g.customers[g.rnd.IntN(len(g.customers))]
		w := &g.w
		w.b, w.needComma = w.b[:0], false
		w.open()
		w.field("from", c.waID)
		w.field("id", g.wamid(domainInbound))
		w.field("body", pick(g, chatTexts))
		w.field("type", "text")
		w.field("wanumber", markets[c.market].display)
		w.field("timestamp", g.timestamp(g.clock))
		w.field("reply_to", "")
		w.close()
		out.Body = append([]byte(nil), w.b...)
	default: // the same, form-encoded
		c := &g.customers[g.rnd.IntN(len(g.customers))]
		out.Body = []byte("from=" + c.waID + "&body=Hi+there&type=text&wanumber=" + markets[c.market].display)
	}
	return out
}
