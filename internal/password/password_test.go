package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h := Hash("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q; want a PHC argon2id string", h)
	}
	if h == Hash("correct horse battery staple") {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if !Verify(h, "correct horse battery staple") {
		t.Fatal("Verify of the right password = false")
	}
	for _, bad := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		if Verify(h, bad) {
			t.Errorf("Verify(%q) = true", bad)
		}
	}
	for _, hash := range []string{"", "$argon2id$", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$aGFzaA", strings.Replace(h, "v=19", "v=16", 1)} {
		if Verify(hash, "correct horse battery staple") {
			t.Errorf("Verify with the malformed hash %q = true", hash)
		}
	}
	if VerifyNone("x") {
		t.Fatal("VerifyNone = true")
	}
}

func TestCheckAndGenerate(t *testing.T) {
	t.Parallel()
	if Check("short") == nil || Check(strings.Repeat("x", 2000)) == nil {
		t.Fatal("Check accepts a too short or too long password")
	}
	g := Generate()
	if err := Check(g); err != nil || g == Generate() {
		t.Fatalf("Generate = %q (%v)", g, err)
	}
}
