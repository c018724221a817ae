package conformance

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	update          = flag.Bool("update", false, "rewrite docs/conformance.md and testdata/baseline.json from this run")
	allowRegression = flag.Bool("allow-regression", false, "with -update, let baseline counts go down")
)

const (
	docPath      = "../../docs/conformance.md"
	baselinePath = "testdata/baseline.json"
)

// corpusDir finds the reference corpus: $TLSAUDIT_PEER_CORPUS, else shared/ beside
// the clone (the test runs in the package directory).
func corpusDir(t *testing.T) string {
	dir, err := CorpusDir()
	if err != nil {
		t.Skip(err)
	}
	return dir
}

// TestConformance runs tlsaudit over the whole reference corpus and holds the agree
// counts to the committed baseline. With -update it rewrites docs/conformance.md
// and the baseline instead.
func TestConformance(t *testing.T) {
	dir := corpusDir(t)
	start := time.Now()
	res, err := Run(dir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d captures, %d reference statements, %d disagreements, %d reference conflicts in %v",
		len(res.Captures), res.Records, len(res.Disagreements), len(res.Conflicts), time.Since(start).Round(time.Millisecond))
	for _, s := range Sources {
		c := res.Counts[s.Name]
		if c == nil {
			continue
		}
		var parts []string
		for _, f := range Fields {
			if x := c[f]; x.Agree+x.Disagree > 0 {
				parts = append(parts, string(f)+" "+strconv.Itoa(x.Agree)+"/"+strconv.Itoa(x.Agree+x.Disagree))
			}
		}
		t.Logf("%-11s %s", s.Name, strings.Join(parts, ", "))
	}
	for _, e := range res.Errors {
		t.Errorf("reference parse error: %s", e)
	}

	cur := BaselineOf(res)
	old := Baseline{}
	if data, err := os.ReadFile(baselinePath); err == nil {
		if old, err = ParseBaseline(data); err != nil {
			t.Fatal(err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) || !*update {
		t.Fatalf("read baseline: %v", err)
	}
	regressions, improvements := old.Compare(cur)

	oldDoc, err := os.ReadFile(docPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	doc := Markdown(res, HandWritten(oldDoc))

	if *update {
		if len(regressions) > 0 && !*allowRegression {
			t.Fatalf("-update would lower the baseline (add -allow-regression if that is intended):\n  %s",
				strings.Join(regressions, "\n  "))
		}
		if err := os.WriteFile(baselinePath, MarshalBaseline(cur), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s and %s", docPath, baselinePath)
		return
	}
	for _, s := range improvements {
		t.Logf("improved: %s (run with -args -update to raise the baseline)", s)
	}
	if !bytes.Equal(doc, oldDoc) {
		t.Logf("%s is stale (not an error); regenerate it with -args -update", docPath)
	}
	if len(regressions) > 0 {
		t.Errorf("agreement with the references dropped below the baseline (%s):\n  %s",
			baselinePath, strings.Join(regressions, "\n  "))
	}
}
