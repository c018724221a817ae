package report

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// streamingFormats are the formats that list flows, and so are written by a Stream.
var streamingFormats = []string{"json", "ndjson", "csv"}

// Streaming reports whether format lists every flow and is written by a Stream.
func Streaming(format string) bool { return slices.Contains(streamingFormats, format) }

// Stream writes a report in a format that lists flows (json, ndjson, csv) while the
// capture is read: each flow is written when it is handed over and then forgotten, and
// what aggregates every flow (summary, pairs, violations) is written by Close. So the
// memory a report needs grows with its pairs, never with its flows.
//
// The json document lists its members in the order flows, summary, pairs, violations,
// laid out as encoding/json's Encoder with a two-space indent would lay them out; flows
// appear in the order they were handed over. A Stream belongs to one goroutine.
type Stream struct {
	w      *bufio.Writer
	format string
	flows  int
	buf    []byte // one flow; reused
	csv    *csv.Writer
	row    []string
	err    error // the first encoding error of the aggregates
}

// streamBuffer is how much output a Stream gathers before writing it.
const streamBuffer = 64 << 10

// NewStream starts a report of format on w, writing its opening (the json document's
// start, the csv header) at once. Write errors are kept and returned by Close.
func NewStream(w io.Writer, format string) (*Stream, error) {
	if !Streaming(format) {
		return nil, fmt.Errorf("format %q does not list flows (want one of %v)", format, streamingFormats)
	}
	s := &Stream{w: bufio.NewWriterSize(w, streamBuffer), format: format}
	switch format {
	case "json":
		s.w.WriteString(`{` + "\n" + `  "flows": [`)
	case "csv":
		s.csv = csv.NewWriter(s.w)
		s.csv.Write(CSVColumns)
		s.row = make([]string, len(csvColumns))
	}
	return s, nil
}

// Flow writes one flow. f is only read during the call.
func (s *Stream) Flow(f *Flow) {
	s.flows++
	switch s.format {
	case "json":
		if s.flows > 1 {
			s.w.WriteByte(',')
		}
		s.w.WriteString("\n    ")
		s.buf = appendFlowJSON(s.buf[:0], f, documentFlowLayout)
		s.w.Write(s.buf)
	case "ndjson":
		s.buf = append(appendFlowJSON(s.buf[:0], f, compactLayout), '\n')
		s.w.Write(s.buf)
	case "csv":
		// Names and SNIs come from the capture: every cell goes through CSVSafe, so
		// that a spreadsheet does not run a formula an attacker put in an SNI.
		for j, c := range csvColumns {
			s.row[j] = CSVSafe(c.value(f))
		}
		s.csv.Write(s.row)
	}
}

// Close writes what follows the flows — for json the summary, pairs and violations of
// a — and flushes. It returns the first write or encoding error of the whole report.
func (s *Stream) Close(a *Audit) error {
	switch s.format {
	case "json":
		if s.flows > 0 {
			s.w.WriteString("\n  ")
		}
		s.w.WriteString("],\n" + `  "summary": `)
		s.writeIndented(&a.Summary, "  ")
		s.w.WriteString(",\n" + `  "pairs": `)
		writeJSONArray(s, a.Pairs)
		s.w.WriteString(",\n" + `  "violations": `)
		writeJSONArray(s, a.Violations)
		s.w.WriteString("\n}\n")
	case "csv":
		s.csv.Flush()
		if err := s.csv.Error(); err != nil {
			return err
		}
	}
	err := s.w.Flush()
	return cmp.Or(s.err, err)
}

// writeIndented writes v as encoding/json indents it at the depth prefix stands for.
// Only the aggregates go through here: their number is bounded by the pairs.
func (s *Stream) writeIndented(v any, prefix string) {
	b, err := json.MarshalIndent(v, prefix, "  ")
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("encode %T: %w", v, err)
	}
	s.w.Write(b)
}

// writeJSONArray writes list as a member of the json document, one element at a time.
func writeJSONArray[T any](s *Stream, list []T) {
	switch {
	case list == nil:
		s.w.WriteString("null")
		return
	case len(list) == 0:
		s.w.WriteString("[]")
		return
	}
	s.w.WriteString("[\n    ")
	for i := range list {
		if i > 0 {
			s.w.WriteString(",\n    ")
		}
		s.writeIndented(&list[i], "    ")
	}
	s.w.WriteString("\n  ]")
}
