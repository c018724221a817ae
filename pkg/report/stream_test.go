package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// hostile is text a capture can carry in an SNI, a certificate or a name: quotes,
// control bytes, HTML, JavaScript line separators and invalid UTF-8.
const hostile = "a\"b\\c\x00\x01\x1f\x7f\b\f\n\r\t<script>&amp;\u2028\u2029é日本\xff\xc3(\xed\xa0\x80"

// filledFlow sets every field of a Flow, through reflection so that a field added
// later is filled too, to s, true, n, an answer, a time, a list and a certificate.
func filledFlow(s string, n uint64) Flow {
	var f Flow
	v := reflect.ValueOf(&f).Elem()
	for i := range v.NumField() {
		fv := v.Field(i)
		if !fv.CanSet() {
			continue
		}
		switch fv.Interface().(type) {
		case string:
			fv.SetString(s + v.Type().Field(i).Name)
		case bool:
			fv.SetBool(true)
		case *bool: // a yes/no/unknown answer; nil (null) is the zero Flow's
			b := n%2 == 1
			fv.Set(reflect.ValueOf(&b))
		case uint64:
			fv.SetUint(n)
		case time.Time:
			fv.Set(reflect.ValueOf(time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)))
		case []string:
			fv.Set(reflect.ValueOf([]string{s, "h2", ""}))
		case *CertJSON:
			fv.Set(reflect.ValueOf(&CertJSON{Subject: "CN=" + s, Issuer: s, NotAfter: time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}))
		default:
			panic("filledFlow: no value for field " + v.Type().Field(i).Name)
		}
	}
	return f
}

// TestAppendFlowMatchesEncodingJSON: the flow encoder writes what encoding/json writes
// for the same flow, byte for byte, whatever is set or empty, compact and indented.
func TestAppendFlowMatchesEncodingJSON(t *testing.T) {
	full := filledFlow(hostile, 1<<63+5)
	tests := map[string]Flow{
		"every field set":  full,
		"zero":             {},
		"empty alpn":       {ALPN: []string{}, Class: "unknown", Reason: "no_payload"},
		"plain text":       filledFlow("api.internal", 7),
		"local time zones": {FirstSeen: time.Date(2026, 1, 1, 0, 0, 0, 1, time.FixedZone("y", -7*3600)), LastSeen: time.Unix(0, 0)},
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) { checkFlowEncoding(t, &f) })
	}
}

// checkFlowEncoding compares appendFlowJSON with json.Marshal, and its document layout
// with json.MarshalIndent at the depth of the document's flows.
func checkFlowEncoding(t testing.TB, f *Flow) {
	t.Helper()
	want, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendFlowJSON(nil, f, compactLayout); !bytes.Equal(got, want) {
		t.Errorf("compact:\n got %s\nwant %s", got, want)
	}
	want, _ = json.MarshalIndent(f, "    ", "  ")
	if got := appendFlowJSON(nil, f, documentFlowLayout); !bytes.Equal(got, want) {
		t.Errorf("indented:\n got %s\nwant %s", got, want)
	}
}

// auditWithFlows builds an audit of a few flows from different pairs, with names,
// a certificate and hostile text.
func auditWithFlows(t testing.TB) *Audit {
	t.Helper()
	b := NewBuilder(policy.Default(), nil)
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:6379", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppRedis}))
	b.Add(rec("10.0.0.1:40001", "10.0.0.3:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12, SNI: hostile,
		ALPN: []string{"h2", hostile}, ServerCert: &classify.CertInfo{Subject: "CN=" + hostile, Issuer: "CN=ca", NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}}))
	b.Add(rec("10.0.0.1:40002", "93.184.216.34:80", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppHTTP}))
	return b.Build([]string{"x.pcap"}, 30, map[string]uint64{"flows_evicted": 1}, []string{"x.pcap: offset 9: truncated"})
}

// TestStreamJSONDocument: the streamed document holds what encoding/json made of the
// whole audit, laid out as its indenting encoder lays it out, and Decode reads it.
func TestStreamJSONDocument(t *testing.T) {
	a := auditWithFlows(t)
	var out bytes.Buffer
	if err := Write(&out, a, "json"); err != nil {
		t.Fatal(err)
	}
	whole, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	json.Unmarshal(whole, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("streamed document differs from encoding/json's:\n got %s\nwant %s", out.Bytes(), whole)
	}
	var compact, indented bytes.Buffer
	json.Compact(&compact, out.Bytes())
	json.Indent(&indented, compact.Bytes(), "", "  ")
	indented.WriteByte('\n')
	if !bytes.Equal(indented.Bytes(), out.Bytes()) {
		t.Errorf("layout is not encoding/json's two-space indent:\n%s", out.String())
	}
	if !strings.HasPrefix(out.String(), "{\n  \"flows\": [\n    {\n      \"transport\"") {
		t.Errorf("flows do not come first:\n%.80s", out.String())
	}
	back, err := Decode(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Flows) != 3 || !strings.HasPrefix(back.Flows[1].SNI, "a\"b\\c\x00\x01\x1f\x7f\b\f\n\r\t<script>&amp;\u2028\u2029é日本\ufffd") || back.Summary.Limits["flows_evicted"] != 1 {
		t.Errorf("decoded %d flows, SNI %q, limits %v", len(back.Flows), back.Flows[1].SNI, back.Summary.Limits)
	}

	// No flow at all: still the whole shape, with an empty list.
	out.Reset()
	if err := Write(&out, NewBuilder(policy.Default(), nil).Build(nil, 0, nil, nil), "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "{\n  \"flows\": [],\n  \"summary\": {") || !strings.HasSuffix(out.String(), "\"violations\": []\n}\n") {
		t.Errorf("empty report:\n%s", out.String())
	}
	if _, err := Decode(&out); err != nil {
		t.Errorf("empty report does not decode: %v", err)
	}
}

// TestStreamNDJSONMatchesEncoder: each line is what json.Encoder wrote for the flow
// before flows were streamed, byte for byte.
func TestStreamNDJSONMatchesEncoder(t *testing.T) {
	a := auditWithFlows(t)
	var got, want bytes.Buffer
	if err := Write(&got, a, "ndjson"); err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(&want)
	for i := range a.Flows {
		enc.Encode(&a.Flows[i])
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("ndjson:\n got %s\nwant %s", got.Bytes(), want.Bytes())
	}
}

// TestBuilderStreamsInsteadOfKeeping: with StreamTo, a hundred thousand flows are
// written and counted but none is kept: the built audit lists none, and the heap does
// not grow with them (kept, they would hold more than 70 MB).
func TestBuilderStreamsInsteadOfKeeping(t *testing.T) {
	const flows = 100_000
	var out countingWriter
	s, err := NewStream(&out, "json")
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(policy.Default(), nil)
	b.StreamTo(s)
	b.FlowLimit = flows - 10
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range flows {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, 1}), uint16(i))
		b.Add(rec(client.String(), "10.0.0.2:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13, SNI: "api.internal"}))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	a := b.Build(nil, 0, nil, nil)
	if err := s.Close(a); err != nil {
		t.Fatal(err)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes over %d streamed flows", grew, flows)
	}
	if len(a.Flows) != 0 || a.Summary.Flows != flows || a.Summary.FlowsOmitted != 10 || a.Pairs[0].Flows != flows {
		t.Errorf("audit keeps %d flows; counts %d, omitted %d, pair %d", len(a.Flows), a.Summary.Flows, a.Summary.FlowsOmitted, a.Pairs[0].Flows)
	}
	if s.flows != flows-10 || out.n < int64(flows-10)*500 {
		t.Errorf("%d flows streamed, %d bytes written", s.flows, out.n)
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// failingWriter refuses every write, like a closed pipe.
type failingWriter struct{}

var errClosedPipe = errors.New("closed pipe")

func (failingWriter) Write([]byte) (int, error) { return 0, errClosedPipe }

// TestStreamReportsWriteError: a write that fails while flows stream (more than the
// buffer holds) is returned by Close, in every streaming format.
func TestStreamReportsWriteError(t *testing.T) {
	a := auditWithFlows(t)
	for _, format := range streamingFormats {
		t.Run(format, func(t *testing.T) {
			s, err := NewStream(failingWriter{}, format)
			if err != nil {
				t.Fatal(err)
			}
			for range 200 {
				s.Flow(&a.Flows[1])
			}
			if err := s.Close(a); !errors.Is(err, errClosedPipe) {
				t.Errorf("Close = %v, want %v", err, errClosedPipe)
			}
		})
	}
	if _, err := NewStream(failingWriter{}, "table"); err == nil {
		t.Error("NewStream accepted the table format, which lists no flows")
	}
}
