package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/waorders/waorders/callback"
)

// exampleSeed is the seed examples are generated from, so that
// `waorders send --example order` prints the same body every time.
const exampleSeed = 20260101

// ExampleNames returns every name Example accepts: each kind ("order"), each
// kind in Meta's envelope ("meta-order"), and each defect ("truncated").
func ExampleNames() []string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	for _, k := range Kinds() {
		names = append(names, "meta-"+string(k))
	}
	for _, d := range Defects() {
		names = append(names, string(d))
	}
	return names
}

// Example returns one pretty-printed example body: a kind name ("order",
// "status", "button_reply"), the same prefixed with "meta-" for Meta's
// envelope ("meta-order"), or a defect name ("zero-quantity"). Examples
// never carry hostile text and are the same on every call. A truncated
// example is cut from the pretty body, so it is not JSON.
func Example(name string) ([]byte, error) {
	env := callback.EnvelopeKaleyra
	base := name
	if rest, ok := strings.CutPrefix(name, "meta-"); ok {
		env, base = callback.EnvelopeMeta, rest
	}
	g := New(exampleSeed, Options{Envelope: env, MaxItems: 3, Customers: 50})
	g.tame = true
	var cb Generated
	switch {
	case slices.Contains(Kinds(), Kind(base)):
		cb = g.build(Kind(base), env, "")
	case env == callback.EnvelopeKaleyra && slices.Contains(Defects(), Defect(base)):
		if Defect(base) == DefectTruncated {
			cb = g.build(KindOrder, env, "")
			pretty, err := indent(cb.Body)
			if err != nil {
				return nil, err
			}
			return pretty[:len(pretty)*2/3], nil
		}
		cb = g.malformed(Defect(base))
	default:
		return nil, fmt.Errorf("unknown example %q (known: %s)", name, strings.Join(ExampleNames(), ", "))
	}
	if !json.Valid(cb.Body) {
		return append(cb.Body, '\n'), nil // a form-encoded wrong envelope
	}
	return indent(cb.Body)
}

func indent(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		return nil, fmt.Errorf("indent example: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
