package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addTextSeeds seeds a fuzz target with the SNIs, names and addresses of the recorded
// captures' expected verdicts and names file: the text flows really carry.
func addTextSeeds(f *testing.F) {
	f.Add(hostile)
	for _, name := range []string{"expected.tsv", "demo-names.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pcaps", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r == '\t' || r == ':' }) {
				f.Add(field)
			}
		}
	}
}

// FuzzAppendJSONString: any string, valid UTF-8 or not, is written as encoding/json
// writes it.
func FuzzAppendJSONString(f *testing.F) {
	addTextSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzAppendFlowJSON: a flow whose every text field carries the input is written as
// encoding/json writes it, compact and indented, and the document stays valid JSON.
func FuzzAppendFlowJSON(f *testing.F) {
	addTextSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		fl := filledFlow(s, uint64(len(s)))
		checkFlowEncoding(t, &fl)
		var out bytes.Buffer
		if err := Write(&out, &Audit{Flows: []Flow{fl, {}}}, "json"); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("document is not JSON:\n%s", out.Bytes())
		}
	})
}
