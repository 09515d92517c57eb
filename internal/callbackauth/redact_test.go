package callbackauth_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/waorders/waorders/internal/callbackauth"
)

func TestRedactHeaders(t *testing.T) {
	t.Parallel()
	in := http.Header{
		"Authorization":       {"Bearer abc"},
		"Cookie":              {"a=1", "b=2"},
		"X-Callback-Secret":   {secretNew},
		"x-callback-secret":   {secretOld}, // set directly, not canonical
		"X-Hub-Signature-256": {"sha256=00ff"},
		"X-Kaleyra-Token":     {secretOld},
		"Content-Type":        {"application/json"},
		"User-Agent":          {"Kaleyra"},
	}
	orig := in.Clone()
	r := "[redacted]"
	want := http.Header{
		"Authorization":       {r},
		"Cookie":              {r, r},
		"X-Callback-Secret":   {r},
		"x-callback-secret":   {r},
		"X-Hub-Signature-256": {r},
		"X-Kaleyra-Token":     {r},
		"Content-Type":        {"application/json"},
		"User-Agent":          {"Kaleyra"},
	}
	if got := callbackauth.RedactHeaders(in, "x-kaleyra-token"); !reflect.DeepEqual(got, want) {
		t.Errorf("RedactHeaders = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Errorf("RedactHeaders changed its input to %v", in)
	}

	// Without the extra name the custom header is kept.
	if got := callbackauth.RedactHeaders(in)["X-Kaleyra-Token"]; len(got) != 1 || got[0] != secretOld {
		t.Errorf("X-Kaleyra-Token = %q without the extra name, want it unchanged", got)
	}
	// The method adds the configured secret header.
	a := mustNew(t, callbackauth.Config{SecretHeader: "X-Kaleyra-Token", Secrets: []string{secretNew}})
	if got := a.RedactHeaders(in)["X-Kaleyra-Token"]; len(got) != 1 || got[0] != r {
		t.Errorf("X-Kaleyra-Token = %q through the Authenticator, want redacted", got)
	}
	if got := callbackauth.RedactHeaders(nil); got != nil {
		t.Errorf("RedactHeaders(nil) = %v, want nil", got)
	}
}
