package callback

import (
	"encoding/json"
	"testing"
)

// BenchmarkDecodeSeed decodes the provider's sample order, byte for byte.
func BenchmarkDecodeSeed(b *testing.B) {
	benchmarkDecode(b, "testdata/kaleyra_seed.json")
}

// BenchmarkDecodeBatch3 decodes a callback of three messages: a text, an
// order and a reaction.
func BenchmarkDecodeBatch3(b *testing.B) {
	benchmarkDecode(b, "testdata/kaleyra_batch3.json")
}

func benchmarkDecode(b *testing.B, name string) {
	body := mustRead(b, name)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineEncodingJSON unmarshals the seed into plain structs with
// encoding/json v1 (strings, json.Number prices, no checks, no paths): a
// reference measured in the same run, since timings on a shared machine
// drift.
func BenchmarkBaselineEncodingJSON(b *testing.B) {
	type item struct {
		ProductRetailerID string      `json:"product_retailer_id"`
		Quantity          json.Number `json:"quantity"`
		ItemPrice         json.Number `json:"item_price"`
		Currency          string      `json:"currency"`
	}
	type message struct {
		From, ID, Timestamp, Type string
		Order                     struct {
			CatalogID string `json:"catalog_id"`
			Text      string `json:"text"`
			Items     []item `json:"product_items"`
		} `json:"order"`
	}
	type body struct {
		MetaObject struct {
			Value struct {
				MessagingProduct string `json:"messaging_product"`
				Metadata         struct {
					DisplayPhoneNumber string `json:"display_phone_number"`
					PhoneNumberID      string `json:"phone_number_id"`
				} `json:"metadata"`
				Contacts []struct {
					Profile struct{ Name string } `json:"profile"`
					WaID    string                `json:"wa_id"`
				} `json:"contacts"`
				Messages []message `json:"messages"`
			} `json:"value"`
			Field string `json:"field"`
		} `json:"meta_object"`
		ExtraInfo map[string]string `json:"extra_info"`
	}
	raw := mustRead(b, "testdata/kaleyra_seed.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var v body
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
}
