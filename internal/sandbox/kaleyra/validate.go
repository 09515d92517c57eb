package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one violation of the send schema, at a JSON path.
type Problem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

type obj = map[string]any

// checker collects problems.
type checker struct{ problems []Problem }

func (c *checker) add(path, format string, args ...any) {
	if len(c.problems) < 20 {
		c.problems = append(c.problems, Problem{path, fmt.Sprintf(format, args...)})
	}
}

var e164 = regexp.MustCompile(`^\+?[1-9][0-9]{6,14}$`)
var templateName = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)

// known returns the unknown keys of o among allowed, as problems.
func (c *checker) known(o obj, path string, allowed ...string) {
	for k := range o {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			c.add(join(path, k), "unknown field")
		}
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// object returns o[k] as an object; required says whether absence is a
// problem.
func (c *checker) object(o obj, path, k string, required bool) obj {
	v, ok := o[k]
	if !ok || v == nil {
		if required {
			c.add(join(path, k), "required")
		}
		return nil
	}
	m, ok := v.(obj)
	if !ok {
		c.add(join(path, k), "must be an object")
		return nil
	}
	return m
}

func (c *checker) array(o obj, path, k string, min, max int) []any {
	v, ok := o[k]
	if !ok || v == nil {
		if min > 0 {
			c.add(join(path, k), "required")
		}
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		c.add(join(path, k), "must be an array")
		return nil
	}
	if len(a) < min || len(a) > max {
		c.add(join(path, k), "must have %d to %d elements, has %d", min, max, len(a))
	}
	return a
}

// str returns o[k] as a string of at most max characters (0: no limit).
func (c *checker) str(o obj, path, k string, required bool, max int) (string, bool) {
	v, ok := o[k]
	if !ok || v == nil {
		if required {
			c.add(join(path, k), "required")
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.add(join(path, k), "must be a string")
		return "", false
	}
	if required && strings.TrimSpace(s) == "" {
		c.add(join(path, k), "must not be empty")
		return s, false
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		c.add(join(path, k), "longer than %d characters", max)
	}
	return s, true
}

func (c *checker) oneOf(o obj, path, k string, required bool, values ...string) string {
	s, ok := c.str(o, path, k, required, 0)
	if !ok {
		return ""
	}
	for _, v := range values {
		if s == v {
			return s
		}
	}
	c.add(join(path, k), "must be one of %s, is %q", strings.Join(values, ", "), s)
	return ""
}

// boolish accepts a JSON boolean or "true"/"false": Kaleyra's own sample
// sends preview_url as the string "false".
func (c *checker) boolish(o obj, path, k string) {
	switch v := o[k].(type) {
	case nil, bool:
	case string:
		if v != "true" && v != "false" {
			c.add(join(path, k), "must be a boolean")
		}
	default:
		c.add(join(path, k), "must be a boolean")
	}
}

// sendRequest is what validation extracts from a valid body.
type sendRequest struct {
	To, Type, ReplyTo string
	Ref, Ref1, Ref2   string
}

var messageTypes = []string{"text", "template", "interactive", "image", "video", "audio", "document", "sticker", "location", "contacts", "reaction"}

// validate checks a send body against the documented V2 schema: the
// messaging_object (Meta's Cloud API send body) and extra_info.
func validate(body []byte) (sendRequest, []Problem) {
	var c checker
	var r sendRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return r, []Problem{{"", "not valid JSON: " + err.Error()}}
	}
	if dec.More() {
		return r, []Problem{{"", "more than one JSON value"}}
	}
	root, ok := top.(obj)
	if !ok {
		return r, []Problem{{"", "must be an object"}}
	}
	c.known(root, "", "messaging_object", "extra_info")
	if ei := c.object(root, "", "extra_info", false); ei != nil {
		c.known(ei, "extra_info", "ref", "ref1", "ref2", "wa_source")
		r.Ref, _ = c.str(ei, "extra_info", "ref", false, 256)
		r.Ref1, _ = c.str(ei, "extra_info", "ref1", false, 256)
		r.Ref2, _ = c.str(ei, "extra_info", "ref2", false, 256)
		c.str(ei, "extra_info", "wa_source", false, 256)
	}
	mo := c.object(root, "", "messaging_object", true)
	if mo == nil {
		return r, c.problems
	}
	const p = "messaging_object"
	c.oneOf(mo, p, "messaging_product", true, "whatsapp")
	c.oneOf(mo, p, "recipient_type", false, "individual")
	if to, ok := c.str(mo, p, "to", true, 0); ok {
		if !e164.MatchString(to) {
			c.add(p+".to", "must be an E.164 number, is %q", to)
		}
		r.To = to
	}
	r.Type = c.oneOf(mo, p, "type", true, messageTypes...)
	allowed := []string{"messaging_product", "recipient_type", "to", "type", "context", "biz_opaque_callback_data"}
	if r.Type != "" {
		allowed = append(allowed, r.Type)
	}
	c.known(mo, p, allowed...)
	if ctx := c.object(mo, p, "context", false); ctx != nil {
		c.known(ctx, p+".context", "message_id")
		r.ReplyTo, _ = c.str(ctx, p+".context", "message_id", true, 0)
	}
	c.str(mo, p, "biz_opaque_callback_data", false, 512)
	switch r.Type {
	case "text":
		if t := c.object(mo, p, "text", true); t != nil {
			c.known(t, p+".text", "body", "preview_url")
			c.str(t, p+".text", "body", true, 4096)
			c.boolish(t, p+".text", "preview_url")
		}
	case "template":
		if t := c.object(mo, p, "template", true); t != nil {
			c.template(t, p+".template")
		}
	case "interactive":
		if in := c.object(mo, p, "interactive", true); in != nil {
			c.interactive(in, p+".interactive")
		}
	case "":
	default:
		// Media, location, contacts, reaction: the object must be there.
		c.object(mo, p, r.Type, true)
	}
	return r, c.problems
}

func (c *checker) template(t obj, p string) {
	c.known(t, p, "name", "language", "components", "namespace")
	if name, ok := c.str(t, p, "name", true, 512); ok && !templateName.MatchString(name) {
		c.add(p+".name", "must be lower-case letters, digits and underscores")
	}
	if l := c.object(t, p, "language", true); l != nil {
		c.known(l, p+".language", "code", "policy")
		c.str(l, p+".language", "code", true, 15)
		c.oneOf(l, p+".language", "policy", false, "deterministic")
	}
	for i, v := range c.array(t, p, "components", 0, 20) {
		cp := fmt.Sprintf("%s.components[%d]", p, i)
		co, ok := v.(obj)
		if !ok {
			c.add(cp, "must be an object")
			continue
		}
		c.known(co, cp, "type", "sub_type", "index", "parameters")
		typ := c.oneOf(co, cp, "type", true, "header", "body", "button", "carousel", "limited_time_offer")
		if typ == "button" {
			c.oneOf(co, cp, "sub_type", true, "quick_reply", "url", "copy_code", "flow", "catalog", "mpm", "voice_call")
			switch ix := co["index"].(type) {
			case json.Number:
				if n, err := ix.Int64(); err != nil || n < 0 || n > 9 {
					c.add(cp+".index", "must be 0 to 9")
				}
			case string:
				if n, err := strconv.Atoi(ix); err != nil || n < 0 || n > 9 {
					c.add(cp+".index", "must be 0 to 9")
				}
			default:
				c.add(cp+".index", "required for a button")
			}
		}
		for j, pv := range c.array(co, cp, "parameters", 0, 100) {
			pp := fmt.Sprintf("%s.parameters[%d]", cp, j)
			po, ok := pv.(obj)
			if !ok {
				c.add(pp, "must be an object")
				continue
			}
			switch c.oneOf(po, pp, "type", true, "text", "currency", "date_time", "image", "document", "video", "location", "payload", "coupon_code", "action", "product") {
			case "text":
				c.str(po, pp, "text", true, 32768)
			case "payload":
				c.str(po, pp, "payload", true, 256)
			}
		}
	}
}

func (c *checker) interactive(in obj, p string) {
	c.known(in, p, "type", "header", "body", "footer", "action")
	typ := c.oneOf(in, p, "type", true, "button", "list", "product", "product_list", "catalog_message")
	if h := c.object(in, p, "header", typ == "product_list"); h != nil {
		c.known(h, p+".header", "type", "text", "image", "video", "document")
		if c.oneOf(h, p+".header", "type", true, "text", "image", "video", "document") == "text" {
			c.str(h, p+".header", "text", true, 60)
		}
	}
	bodyMax := 1024
	if typ == "list" {
		bodyMax = 4096
	}
	if b := c.object(in, p, "body", typ != "product"); b != nil {
		c.known(b, p+".body", "text")
		c.str(b, p+".body", "text", true, bodyMax)
	}
	if f := c.object(in, p, "footer", false); f != nil {
		c.known(f, p+".footer", "text")
		c.str(f, p+".footer", "text", true, 60)
	}
	a := c.object(in, p, "action", true)
	if a == nil {
		return
	}
	ap := p + ".action"
	switch typ {
	case "button":
		c.known(a, ap, "buttons")
		ids, titles := map[string]bool{}, map[string]bool{}
		for i, v := range c.array(a, ap, "buttons", 1, 3) {
			bp := fmt.Sprintf("%s.buttons[%d]", ap, i)
			b, ok := v.(obj)
			if !ok {
				c.add(bp, "must be an object")
				continue
			}
			c.known(b, bp, "type", "reply")
			c.oneOf(b, bp, "type", true, "reply")
			if r := c.object(b, bp, "reply", true); r != nil {
				c.known(r, bp+".reply", "id", "title")
				id, _ := c.str(r, bp+".reply", "id", true, 256)
				title, _ := c.str(r, bp+".reply", "title", true, 20)
				if ids[id] || titles[title] {
					c.add(bp+".reply", "id and title must be unique")
				}
				ids[id], titles[title] = true, true
			}
		}
	case "list":
		c.known(a, ap, "button", "sections")
		c.str(a, ap, "button", true, 20)
		secs := c.array(a, ap, "sections", 1, 10)
		rows := 0
		for i, v := range secs {
			sp := fmt.Sprintf("%s.sections[%d]", ap, i)
			s, ok := v.(obj)
			if !ok {
				c.add(sp, "must be an object")
				continue
			}
			c.known(s, sp, "title", "rows")
			c.str(s, sp, "title", len(secs) > 1, 24)
			for j, rv := range c.array(s, sp, "rows", 1, 10) {
				rp := fmt.Sprintf("%s.rows[%d]", sp, j)
				r, ok := rv.(obj)
				if !ok {
					c.add(rp, "must be an object")
					continue
				}
				rows++
				c.known(r, rp, "id", "title", "description")
				c.str(r, rp, "id", true, 200)
				c.str(r, rp, "title", true, 24)
				c.str(r, rp, "description", false, 72)
			}
		}
		if rows > 10 {
			c.add(ap+".sections", "at most 10 rows in all, has %d", rows)
		}
	case "product":
		c.known(a, ap, "catalog_id", "product_retailer_id")
		c.str(a, ap, "catalog_id", true, 0)
		c.str(a, ap, "product_retailer_id", true, 0)
	case "product_list":
		c.known(a, ap, "catalog_id", "sections")
		c.str(a, ap, "catalog_id", true, 0)
		items := 0
		for i, v := range c.array(a, ap, "sections", 1, 10) {
			sp := fmt.Sprintf("%s.sections[%d]", ap, i)
			s, ok := v.(obj)
			if !ok {
				c.add(sp, "must be an object")
				continue
			}
			c.known(s, sp, "title", "product_items")
			c.str(s, sp, "title", true, 24)
			for j, iv := range c.array(s, sp, "product_items", 1, 30) {
				ip := fmt.Sprintf("%s.product_items[%d]", sp, j)
				it, ok := iv.(obj)
				if !ok {
					c.add(ip, "must be an object")
					continue
				}
				items++
				c.known(it, ip, "product_retailer_id")
				c.str(it, ip, "product_retailer_id", true, 0)
			}
		}
		if items > 30 {
			c.add(ap+".sections", "at most 30 products in all, has %d", items)
		}
	case "catalog_message":
		c.known(a, ap, "name", "parameters")
		c.oneOf(a, ap, "name", true, "catalog_message")
		if ps := c.object(a, ap, "parameters", false); ps != nil {
			c.known(ps, ap+".parameters", "thumbnail_product_retailer_id")
			c.str(ps, ap+".parameters", "thumbnail_product_retailer_id", false, 0)
		}
	}
}
