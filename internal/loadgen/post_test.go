package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/waorders/waorders/callback"
)

func TestPost(t *testing.T) {
	t.Parallel()
	var gotPath, gotSecret, gotSig, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotSecret, gotSig, gotBody = r.URL.Path, r.Header.Get("X-Callback-Secret"), r.Header.Get(callback.SignatureHeader), string(b)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	status, answer, err := Post(context.Background(), Config{URL: srv.URL, Auth: Auth{Secret: "s3cret"}}, []byte(`{"x":1}`))
	if err != nil || status != 200 || string(answer) != `{"ok":true}` {
		t.Fatalf("Post = %d %q %v", status, answer, err)
	}
	if gotPath != KaleyraPath || gotSecret != "s3cret" || gotBody != `{"x":1}` || gotSig != "" {
		t.Errorf("sent %s secret %q signature %q body %q", gotPath, gotSecret, gotSig, gotBody)
	}

	if _, _, err := Post(context.Background(), Config{URL: srv.URL, Meta: true, AppSecret: "app"}, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if gotPath != MetaPath || gotSig != callback.Sign([]byte(`{}`), "app") {
		t.Errorf("Meta: sent to %s with signature %q", gotPath, gotSig)
	}

	if _, _, err := Post(context.Background(), Config{URL: "ftp://x"}, nil); err == nil {
		t.Error("Post accepted an invalid URL")
	}
	srv.Close()
	if _, _, err := Post(context.Background(), Config{URL: srv.URL}, []byte(`{}`)); err == nil {
		t.Error("Post to a closed server succeeded")
	}
}
