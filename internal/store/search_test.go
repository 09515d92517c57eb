package store

import "testing"

func TestSearchText(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"", "", "\n"},
		{"Asha", "Two Rotis", "asha\ntwo rotis"},
		{"ÉLODIE", "ÇA VA", "élodie\nça va"},
		{"nul\x00here", "a\x00", "nul\uFFFDhere\na\uFFFD"},
		{"bad\xffutf8", "ok", "bad\uFFFDutf8\nok"},
		{"50%_OFF", "x", "50%_off\nx"},
	}
	for _, tt := range tests {
		if got := SearchText(tt.name, tt.text); got != tt.want {
			t.Errorf("SearchText(%q, %q) = %q, want %q", tt.name, tt.text, got, tt.want)
		}
	}
}

func TestSearchQueryFoldsLikeSearchText(t *testing.T) {
	for _, q := range []string{"ASHA", "nul\x00h", "bad\xffu", "Ça"} {
		text := SearchText("x "+q+" y", "")
		if got := SearchQuery(q); !contains(text, got) {
			t.Errorf("SearchQuery(%q) = %q, not found in %q", q, got, text)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
