package callback

import (
	"strconv"
	"strings"
	"unicode"
)

// maxSummary is the longest Summary, in runes.
const maxSummary = 200

// Summary renders the message as one short line for people: the text body,
// a caption, the title of a tapped button or list row, "order: 2 items,
// 3600.00 INR", a reaction's emoji, a location's name, and so on. It is at
// most 200 runes, without line breaks, and never empty for a decoded
// message. It may contain personal data: do not log it at info level.
func (m *Message) Summary() string {
	return clip(m.summary())
}

func (m *Message) summary() string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.Image != nil:
		return media("image", m.Image)
	case m.Video != nil:
		return media("video", m.Video)
	case m.Audio != nil:
		if m.Audio.Voice {
			return "[voice message]"
		}
		return media("audio", m.Audio)
	case m.Document != nil:
		return media("document", m.Document)
	case m.Sticker != nil:
		return "[sticker]"
	case m.Location != nil:
		return location(m.Location)
	case m.Contacts != nil:
		return contacts(m.Contacts)
	case m.Interactive != nil:
		return interactive(m.Interactive)
	case m.Button != nil:
		return firstOf(m.Button.Text, m.Button.Payload, "[button]")
	case m.Order != nil:
		return order(m.Order, m.Usable())
	case m.Reaction != nil:
		if m.Reaction.Emoji == "" {
			return "[reaction removed]"
		}
		return "reaction: " + m.Reaction.Emoji
	case m.System != nil:
		return firstOf(m.System.Body, "[system: "+m.System.Type+"]")
	case m.Edit != nil:
		if m.Edit.Message == nil {
			return "[edited]"
		}
		return "edited: " + m.Edit.Message.summary()
	case m.Revoke != nil:
		return "[message deleted]"
	case m.Unsupported != nil:
		return "[unsupported message: " + m.Unsupported.Type + "]"
	case m.Type == TypeUnsupported || m.Type == TypeUnknown:
		return "[unsupported message]"
	case m.Type == "":
		return "[message]"
	}
	return "[" + string(m.Type) + "]"
}

func media(kind string, m *Media) string {
	if m.Caption != "" {
		return m.Caption
	}
	if m.Filename != "" {
		return "[" + kind + ": " + m.Filename + "]"
	}
	return "[" + kind + "]"
}

func location(l *Location) string {
	if s := firstOf(l.Name, l.Address); s != "" {
		return "location: " + s
	}
	return "location: " + l.Latitude + "," + l.Longitude
}

func contacts(cs []SharedContact) string {
	if len(cs) == 0 {
		return "[contacts]"
	}
	s := "contact: " + firstOf(cs[0].FormattedName, strings.TrimSpace(cs[0].FirstName+" "+cs[0].LastName), "?")
	if len(cs) > 1 {
		s += " (+" + strconv.Itoa(len(cs)-1) + " more)"
	}
	return s
}

func interactive(in *Interactive) string {
	switch {
	case in.ButtonReply != nil:
		return firstOf(in.ButtonReply.Title, in.ButtonReply.ID)
	case in.ListReply != nil:
		return firstOf(in.ListReply.Title, in.ListReply.ID)
	case in.NFMReply != nil:
		return firstOf(in.NFMReply.Body, "["+firstOf(in.NFMReply.Name, "flow")+" reply]")
	}
	return "[interactive: " + in.Type + "]"
}

func order(o *Order, usable bool) string {
	s := "order: " + strconv.Itoa(len(o.Items)) + " item"
	if len(o.Items) != 1 {
		s += "s"
	}
	if !usable || len(o.Totals) == 0 {
		return s + " (invalid)"
	}
	for i, t := range o.Totals {
		if i == 0 {
			s += ", "
		} else {
			s += " + "
		}
		s += t.String()
	}
	return s
}

// firstOf returns the first non-empty string.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// clip folds white space runs, line breaks included, into single spaces and
// cuts the result to maxSummary runes, ending a cut one with "…".
func clip(s string) string {
	var b strings.Builder
	n := 0
	space := false
	for _, c := range strings.TrimSpace(s) {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		if n == maxSummary-1 {
			b.WriteString("…")
			return b.String()
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}
