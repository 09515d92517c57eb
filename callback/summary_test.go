package callback

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/waorders/waorders/money"
)

func TestSummary(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"Text", Message{Type: TypeText, Text: &Text{Body: "Hi\nthere\t you"}}, "Hi there you"},
		{"LongTextClipped", Message{Type: TypeText, Text: &Text{Body: long}}, strings.Repeat("é", maxSummary-1) + "…"},
		{"ImageCaption", Message{Type: TypeImage, Image: &Media{Caption: "This one"}}, "This one"},
		{"ImageNoCaption", Message{Type: TypeImage, Image: &Media{}}, "[image]"},
		{"Document", Message{Type: TypeDocument, Document: &Media{Filename: "a.pdf"}}, "[document: a.pdf]"},
		{"Voice", Message{Type: TypeAudio, Audio: &Media{Voice: true}}, "[voice message]"},
		{"Location", Message{Type: TypeLocation, Location: &Location{Name: "Park"}}, "location: Park"},
		{"LocationCoordinates", Message{Type: TypeLocation, Location: &Location{Latitude: "1.5", Longitude: "2"}}, "location: 1.5,2"},
		{"Contacts", Message{Type: TypeContacts, Contacts: []SharedContact{{FirstName: "A", LastName: "B"}, {}}}, "contact: A B (+1 more)"},
		{"ButtonReply", Message{Type: TypeInteractive, Interactive: &Interactive{ButtonReply: &ButtonReply{ID: "c", Title: "Confirm"}}}, "Confirm"},
		{"ListReply", Message{Type: TypeInteractive, Interactive: &Interactive{ListReply: &ListReply{Title: "Large"}}}, "Large"},
		{"NFMReply", Message{Type: TypeInteractive, Interactive: &Interactive{NFMReply: &NFMReply{Name: "address_message"}}}, "[address_message reply]"},
		{"Button", Message{Type: TypeButton, Button: &Button{Text: "Track"}}, "Track"},
		{"Order", Message{Type: TypeOrder, Order: &Order{Items: make([]Item, 2), Totals: []money.Amount{{Currency: "INR", Minor: 360000}}}}, "order: 2 items, 3600.00 INR"},
		{"OrderTwoCurrencies", Message{Type: TypeOrder, Order: &Order{Items: make([]Item, 1), Totals: []money.Amount{{Currency: "INR", Minor: 100}, {Currency: "USD", Minor: 250}}}}, "order: 1 item, 1.00 INR + 2.50 USD"},
		{"OrderInvalid", Message{Type: TypeOrder, Order: &Order{Items: make([]Item, 1)}, Problems: []Problem{{Severity: SeverityError, Code: CodeInvalidQuantity, Path: "p"}}}, "order: 1 item (invalid)"},
		{"Reaction", Message{Type: TypeReaction, Reaction: &Reaction{Emoji: "👍"}}, "reaction: 👍"},
		{"ReactionRemoved", Message{Type: TypeReaction, Reaction: &Reaction{}}, "[reaction removed]"},
		{"System", Message{Type: TypeSystem, System: &System{Body: "changed number"}}, "changed number"},
		{"Unsupported", Message{Type: TypeUnsupported, Unsupported: &Unsupported{Type: "edit"}}, "[unsupported message: edit]"},
		{"OldUnknown", Message{Type: TypeUnknown}, "[unsupported message]"},
		{"UnknownType", Message{Type: "poll"}, "[poll]"},
		{"NoType", Message{}, "[message]"},
		{"ControlCharacters", Message{Type: TypeText, Text: &Text{Body: "a\u0000\u200bb\r\nc"}}, "a \u200bb c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.Summary()
			if got != tt.want {
				t.Errorf("Summary() = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > maxSummary || strings.ContainsAny(got, "\r\n") {
				t.Errorf("Summary() has %d runes or a line break", n)
			}
		})
	}
}
