package simulate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestExample(t *testing.T) {
	for _, name := range ExampleNames() {
		t.Run(name, func(t *testing.T) {
			a, err := Example(name)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := Example(name)
			if !bytes.Equal(a, b) {
				t.Fatal("two calls gave different examples")
			}
			switch {
			case name == string(DefectTruncated):
				if json.Valid(a) {
					t.Fatal("truncated example is valid JSON")
				}
			case name == string(DefectWrongEnvelope):
			default:
				if !json.Valid(a) || !bytes.Contains(a, []byte("\n  ")) {
					t.Fatalf("example is not pretty JSON:\n%s", a)
				}
			}
			for _, h := range hostileNames {
				if bytes.Contains(a, appendJSONString(nil, h)) {
					t.Fatalf("example carries hostile name %q", h)
				}
			}
			if strings.HasPrefix(name, "meta-") && !bytes.Contains(a, []byte(`"whatsapp_business_account"`)) {
				t.Fatalf("meta example is not in Meta's envelope:\n%s", a)
			}
		})
	}
	if _, err := Example("poll"); err == nil {
		t.Error("Example(poll) = nil error, want unknown example")
	}
}

func TestExampleOrderMatchesContract(t *testing.T) {
	body, err := Example("order")
	if err != nil {
		t.Fatal(err)
	}
	b := mustParse(t, body)
	msgs := b.messages()
	if len(msgs) != 1 || msgs[0].Type != "order" || msgs[0].Order == nil || len(msgs[0].Order.Items) == 0 {
		t.Fatalf("order example has no order:\n%s", body)
	}
	if b.ExtraInfo["waba_id"] == "" || b.MetaObject.Value.MessagingProduct != "whatsapp" {
		t.Fatalf("order example misses Kaleyra fields:\n%s", body)
	}
}
