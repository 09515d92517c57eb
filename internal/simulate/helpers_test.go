package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// eachEnvelope runs test as a subtest "<envelope>/batch<n>" for every
// envelope and every batch size, with opts's Envelope and
// MessagesPerCallback set to them.
func eachEnvelope(t *testing.T, batches []int, opts Options, test func(t *testing.T, opts Options)) {
	t.Helper()
	for _, env := range envelopes {
		for _, batch := range batches {
			t.Run(fmt.Sprintf("%s/batch%d", env, batch), func(t *testing.T) {
				opts := opts
				opts.Envelope, opts.MessagesPerCallback = env, batch
				test(t, opts)
			})
		}
	}
}

// The test's own reading of a body, independent of package callback: just
// enough structure to check what the generator claims about it.

type tItem struct {
	SKU       string      `json:"product_retailer_id"`
	Quantity  json.Number `json:"quantity"`
	ItemPrice json.Number `json:"item_price"`
	Currency  string      `json:"currency"`
}

type tMessage struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Order     *struct {
		CatalogID string  `json:"catalog_id"`
		Items     []tItem `json:"product_items"`
	} `json:"order"`
	Interactive *struct {
		Type string `json:"type"`
	} `json:"interactive"`
}

type tStatus struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
}

type tContact struct {
	WaID    string `json:"wa_id"`
	Profile *struct {
		Name string `json:"name"`
	} `json:"profile"`
}

type tValue struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []tContact `json:"contacts"`
	Messages []tMessage `json:"messages"`
	Statuses []tStatus  `json:"statuses"`
}

type tChange struct {
	Value tValue `json:"value"`
	Field string `json:"field"`
}

type tBody struct {
	MetaObject *tChange       `json:"meta_object"`
	ExtraInfo  map[string]any `json:"extra_info"`
	Status     string         `json:"status"`
	MessageID  string         `json:"message_id"`
	Object     string         `json:"object"`
	Entry      []struct {
		ID      string    `json:"id"`
		Changes []tChange `json:"changes"`
	} `json:"entry"`
}

// values returns the webhook values of either envelope.
func (b *tBody) values() []tValue {
	if b.MetaObject != nil {
		return []tValue{b.MetaObject.Value}
	}
	var out []tValue
	for _, e := range b.Entry {
		for _, c := range e.Changes {
			out = append(out, c.Value)
		}
	}
	return out
}

func (b *tBody) messages() []tMessage {
	var out []tMessage
	for _, v := range b.values() {
		out = append(out, v.Messages...)
	}
	return out
}

func (b *tBody) statuses() []tStatus {
	var out []tStatus
	for _, v := range b.values() {
		out = append(out, v.Statuses...)
	}
	return out
}

func mustParse(t testing.TB, body []byte) *tBody {
	t.Helper()
	var b tBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("parse body: %v\n%s", err, body)
	}
	return &b
}

// generate returns n callbacks from a fresh generator.
func generate(seed uint64, opts Options, n int) []Generated {
	g := New(seed, opts)
	out := make([]Generated, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}
