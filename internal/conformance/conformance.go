package conformance

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tlsaudit/tlsaudit/pkg/flow"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// Count is the outcome tally of one source and field.
type Count struct {
	Agree     int `json:"agree"`
	Disagree  int `json:"disagree"`
	NotStated int `json:"not_stated"`
	// Explained counts the disagreements that a documented behaviour of the
	// reference, applied to tlsaudit's verdict, reproduces exactly (referenceRule).
	Explained int `json:"explained"`
}

// Percent is Agree over the stated values, in percent; -1 when nothing was stated.
func (c Count) Percent() float64 {
	if c.Agree+c.Disagree == 0 {
		return -1
	}
	return 100 * float64(c.Agree) / float64(c.Agree+c.Disagree)
}

// PercentExplained is Agree plus Explained over the stated values, in percent; -1
// when nothing was stated.
func (c Count) PercentExplained() float64 {
	if c.Agree+c.Disagree == 0 {
		return -1
	}
	return 100 * float64(c.Agree+c.Explained) / float64(c.Agree+c.Disagree)
}

// Disagreement is one field of one connection where a reference and tlsaudit differ.
type Disagreement struct {
	Capture  string
	Conn     string // the connection as tlsaudit saw it, or as the reference names it
	Field    Field
	Source   string
	Ref      string
	Ours     string
	Category string
}

// Conflict is one field of one connection where two references disagree with each
// other.
type Conflict struct {
	Capture string
	Conn    string
	Field   Field
	Values  map[string]string // source → value
}

// Result is the outcome of a whole conformance run.
type Result struct {
	Captures      []*CaptureRun
	Records       int
	Counts        map[string]map[Field]*Count // source → field → count
	Disagreements []Disagreement
	Conflicts     []Conflict
	// Files counts the reference files read per source, and Skipped the ones (or
	// parts) not used, by why.
	Files      map[string]int
	Skipped    map[string]int
	Unassigned int // reference rows of shared files that fit no capture
	Errors     []string
}

// Run reads the corpus at dir, runs tlsaudit over every capture in MANIFEST.tsv and
// compares the verdicts with every reference. tmp holds decompressed captures.
func Run(dir, tmp string) (*Result, error) {
	mf, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(mf)
	mf.Close()
	if err != nil {
		return nil, err
	}
	res := &Result{
		Counts:  map[string]map[Field]*Count{},
		Files:   map[string]int{},
		Skipped: map[string]int{},
	}

	// tlsaudit over every capture, in parallel.
	runs := make(map[string]*CaptureRun, len(m.Captures))
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				r := RunCapture(filepath.Join(dir, c), c, tmp)
				mu.Lock()
				runs[c] = r
				mu.Unlock()
			}
		}()
	}
	for _, c := range m.Captures {
		work <- c
	}
	close(work)
	wg.Wait()
	for _, c := range m.Captures {
		res.Captures = append(res.Captures, runs[c])
	}

	// Every reference.
	var recs []Record
	for _, c := range m.Captures {
		rs, err := tsharkRecords(dir, c)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
		}
		res.Files["tshark"]++
		recs = append(recs, rs...)
	}
	for _, file := range m.TruthFiles() {
		rs, err := truthRecords(dir, file, m, runs, res)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		recs = append(recs, rs...)
	}
	sortRecords(recs)
	res.Records = len(recs)
	compare(recs, runs, res)
	return res, nil
}

// tsharkRecords reads the tshark reference of capture c, the decode-as variant when
// there is one.
func tsharkRecords(dir, c string) ([]Record, error) {
	name := c + ".tshark.decode-as.tsv"
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		name = c + ".tshark.tsv"
		if data, err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("tshark reference of %s: %w", c, err)
		}
	}
	rs, err := ParseTshark(bytes.NewReader(data), name)
	for i := range rs {
		rs[i].Capture = c
	}
	return rs, err
}

// sourceOf names the reference source of a truth file.
func sourceOf(m *Manifest, file string) string {
	switch m.TruthSource[file] {
	case "suricata-verify":
		return "suricata"
	case "ja4":
		switch {
		case strings.Contains(file, "/snapshots/"):
			return "ja4-rust"
		case strings.HasPrefix(file, "ja4/python/"):
			return "ja4-python"
		case strings.HasPrefix(file, "ja4/wireshark/"):
			return "ja4-wireshark"
		case strings.HasPrefix(file, "ja4/zeek/"):
			return "ja4-zeek"
		}
		return "ja4"
	}
	return m.TruthSource[file]
}

// isZeekLog tells Zeek TSV logs and .cut files from the other btest outputs.
func isZeekLog(file string) bool {
	b := path.Base(file)
	return strings.HasSuffix(b, ".log") || strings.HasSuffix(b, ".cut") || strings.Contains(b, ".log.")
}

// truthRecords parses one reference file and attributes its records to captures.
func truthRecords(dir, file string, m *Manifest, runs map[string]*CaptureRun, res *Result) ([]Record, error) {
	src := sourceOf(m, file)
	caps := m.Truth[file]
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	var recs []Record
	assign := func(rs []Record, capture string) {
		for i := range rs {
			rs[i].Capture = capture
		}
		recs = append(recs, rs...)
	}
	switch src {
	case "zeek", "ja3", "ja4-zeek":
		if !isZeekLog(file) {
			res.Skipped[src+": test-specific text output ("+zeekOutputKind(file)+")"]++
			return nil, nil
		}
		blocks, err := ParseZeekLog(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(blocks) > 0 && zeekKind(&blocks[0], file) == "" {
			res.Skipped[src+": log without compared fields ("+zeekLogName(&blocks[0], file)+")"]++
			return nil, nil
		}
		res.Files[src]++
		order := m.TraceOrder[file]
		for i := range blocks {
			rs := ZeekRecords(&blocks[i], src, file)
			switch {
			case len(caps) == 1:
				assign(rs, caps[0])
			case blocks[i].File != "":
				if c := captureByBase(caps, blocks[i].File); c != "" {
					assign(rs, c)
				}
			case len(order) == len(blocks):
				if c := captureByBase(caps, order[i]); c != "" {
					assign(rs, c)
				}
			default:
				for _, r := range rs {
					if c := attribute(r, caps, runs); c != "" {
						assign([]Record{r}, c)
					} else {
						res.Unassigned++
					}
				}
			}
		}
	case "suricata":
		res.Files[src]++
		rs, err := ParseSuricataTest(string(data), file, res.Skipped)
		if err != nil {
			return nil, err
		}
		for _, c := range caps {
			assign(append([]Record(nil), rs...), c)
		}
	case "arkime":
		res.Files[src]++
		rs, err := ParseArkimeTest(data, file)
		if err != nil {
			return nil, err
		}
		assign(rs, caps[0])
	case "ndpi":
		res.Files[src]++
		rs, err := ParseNDPI(bytes.NewReader(data), file)
		if err != nil {
			return nil, err
		}
		assign(rs, caps[0])
	case "ja4-rust":
		res.Files[src]++
		rs, err := ParseJA4Snapshot(string(data), file)
		if err != nil {
			return nil, err
		}
		assign(rs, caps[0])
	case "ja4-python":
		res.Files[src]++
		rs, err := ParseJA4Python(data, file)
		if err != nil {
			return nil, err
		}
		assign(rs, caps[0])
	case "ja4-wireshark":
		res.Skipped["ja4-wireshark: frame-numbered JA4+ fields, no client JA4 (ja4s, ja4h, ja4t, ja4x, …)"]++
	default:
		res.Skipped[src+": unknown reference kind"]++
	}
	return recs, nil
}

func zeekOutputKind(file string) string {
	b := path.Base(file)
	if i := strings.LastIndexByte(b, '.'); i >= 0 {
		return b[i:]
	}
	return b
}

func zeekLogName(b *ZeekBlock, file string) string {
	if b.Path != "" {
		return b.Path + ".log"
	}
	return path.Base(file)
}

// attribute finds which of caps holds the connection r names, for rows of a Zeek
// file shared by several captures whose runs cannot be told apart by header blocks.
func attribute(r Record, caps []string, runs map[string]*CaptureRun) string {
	if !r.Conn.Full() {
		return ""
	}
	a := netip.AddrPortFrom(r.Conn.A, r.Conn.PortA)
	b := netip.AddrPortFrom(r.Conn.B, r.Conn.PortB)
	for _, c := range caps {
		run := runs[c]
		if run == nil {
			continue
		}
		for _, t := range []string{"tcp", "udp"} {
			if r.Conn.Transport != "" && r.Conn.Transport != t {
				continue
			}
			if _, ok := run.Tuples[connKey(t, a, b)]; ok {
				return c
			}
		}
	}
	return ""
}

// ours is tlsaudit's value of every field of one flow, canonical.
func ours(r *flow.Record) map[Field]string {
	v := &r.Verdict
	out := map[Field]string{
		FieldClass:       v.Class.String(),
		FieldVersion:     VersionName(uint16(v.Version)),
		FieldSNI:         canonicalHost(v.SNI),
		FieldALPN:        strings.Join(v.ALPN, ","),
		FieldALPNServer:  v.ALPNServer,
		FieldJA3:         strings.ToLower(v.JA3),
		FieldJA3S:        strings.ToLower(v.JA3S),
		FieldJA4:         v.JA4,
		FieldQUICVersion: classify.QUICVersionName(v.QUICVersion),
	}
	if v.Class.String() == "tls" {
		out[FieldStartTLS] = strconv.FormatBool(v.StartTLS)
	}
	return out
}

// flowConn writes a flow's connection for the report.
func flowConn(r *flow.Record) string {
	ep := func(ap netip.AddrPort) string {
		a := ap.Addr().Unmap()
		if a.Is6() {
			return "[" + a.String() + "]:" + strconv.Itoa(int(ap.Port()))
		}
		return a.String() + ":" + strconv.Itoa(int(ap.Port()))
	}
	return r.Transport() + " " + ep(r.Client) + " → " + ep(r.Server)
}

// unit is everything one source states about one connection of one capture.
type unit struct {
	source, capture string
	flow            int // index into the capture's flows, or -1
	conn            Conn
	floating        bool // no full tuple and no flow that agrees: "some connection"
	cands           []int
	values          map[Field]Value
	hints           Hints
}

// compare matches every record to tlsaudit's flows and tallies the outcomes.
func compare(recs []Record, runs map[string]*CaptureRun, res *Result) {
	ourVals := map[*CaptureRun][]map[Field]string{}
	for _, run := range runs {
		vs := make([]map[Field]string, len(run.Flows))
		for i := range run.Flows {
			vs[i] = ours(&run.Flows[i])
		}
		ourVals[run] = vs
	}
	units, keys, flowHints := matchUnits(recs, runs, ourVals)
	tally(units, keys, flowHints, runs, ourVals, res)
}

// matchUnits matches every record to the flow of its capture that fits its
// connection and agrees with it most, and merges the records of one source about one
// connection into a unit. keys lists the units in a stable order; flowHints gathers
// per flow ("capture\x00index") the hints of every source.
func matchUnits(recs []Record, runs map[string]*CaptureRun, ourVals map[*CaptureRun][]map[Field]string) (map[string]*unit, []string, map[string]*Hints) {
	units := map[string]*unit{}
	var keys []string
	flowHints := map[string]*Hints{}
	for _, r := range recs {
		run := runs[r.Capture]
		if run == nil {
			continue
		}
		vals := ourVals[run]
		var cands []int
		for i := range run.Flows {
			f := &run.Flows[i]
			if r.Conn.matchesEndpoints(f.Transport(), f.Client, f.Server) {
				cands = append(cands, i)
			}
		}
		best, bestScore := -1, -1
		for _, i := range cands {
			score := 0
			for f, v := range r.Values {
				if v.Matches(f, vals[i][f]) {
					score++
				}
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		u := &unit{source: r.Source, capture: r.Capture, flow: best, conn: r.Conn, cands: cands}
		key := r.Source + "\x00" + r.Capture + "\x00"
		switch {
		case best >= 0 && (r.Conn.Full() || bestScore > 0 || len(cands) == 1):
			key += "flow" + strconv.Itoa(best)
		case best >= 0:
			u.flow, u.floating = -1, true
			key += "any" + r.Conn.String()
		case r.Conn.Full():
			// No flow: one unit per 4-tuple, whatever transport each file names.
			key += "conn" + tupleKey(netip.AddrPortFrom(r.Conn.A, r.Conn.PortA), netip.AddrPortFrom(r.Conn.B, r.Conn.PortB))
		default:
			key += "conn" + r.Conn.String()
		}
		if old, ok := units[key]; ok {
			u = old
			if u.conn.Transport == "" {
				u.conn.Transport = r.Conn.Transport
			}
		} else {
			u.values = map[Field]Value{}
			units[key] = u
			keys = append(keys, key)
		}
		for f, v := range r.Values {
			uv := u.values[f]
			for _, s := range v.Any {
				uv.add(s)
			}
			u.values[f] = uv
		}
		u.hints.merge(r.Hints)
		if u.flow >= 0 {
			hk := r.Capture + "\x00" + strconv.Itoa(u.flow)
			if flowHints[hk] == nil {
				flowHints[hk] = &Hints{}
			}
			flowHints[hk].merge(r.Hints)
		}
	}
	sort.Strings(keys)
	return units, keys, flowHints
}

// tally counts every unit's fields as agree, disagree or not stated, lists the
// disagreements with their gap, and the references that contradict each other.
func tally(units map[string]*unit, keys []string, flowHints map[string]*Hints, runs map[string]*CaptureRun, ourVals map[*CaptureRun][]map[Field]string, res *Result) {
	// Byte-identical captures (the same file copied by several projects) are one
	// capture when references are compared with each other.
	same := map[string]string{}
	byHash := map[string][]string{}
	for _, run := range runs {
		if run.SHA256 != "" {
			byHash[run.SHA256] = append(byHash[run.SHA256], run.Path)
		}
	}
	for _, paths := range byHash {
		sort.Strings(paths)
		for _, p := range paths {
			same[p] = strings.Join(paths, " = ")
		}
	}
	group := func(c string) string {
		if g, ok := same[c]; ok {
			return g
		}
		return c
	}

	// Tally, and list disagreements.
	stated := map[connID]map[Field]map[string]Value{}
	connLabel := map[connID]string{}
	for _, k := range keys {
		u := units[k]
		run := runs[u.capture]
		counts := res.Counts[u.source]
		if counts == nil {
			counts = map[Field]*Count{}
			for _, f := range Fields {
				counts[f] = &Count{}
			}
			res.Counts[u.source] = counts
		}
		var fr *flow.Record
		var vals map[Field]string
		hints := u.hints
		label := u.conn.String()
		if u.flow >= 0 {
			fr = &run.Flows[u.flow]
			vals = ourVals[run][u.flow]
			label = flowConn(fr)
			if h := flowHints[u.capture+"\x00"+strconv.Itoa(u.flow)]; h != nil {
				hints.merge(*h)
			}
		}
		if !u.floating && (u.flow >= 0 || u.conn.Full()) {
			id := connID{group(u.capture), label}
			if u.flow < 0 {
				id.conn = "missing " + tupleKey(netip.AddrPortFrom(u.conn.A, u.conn.PortA), netip.AddrPortFrom(u.conn.B, u.conn.PortB))
			}
			connLabel[id] = label
			if stated[id] == nil {
				stated[id] = map[Field]map[string]Value{}
			}
			for f, v := range u.values {
				if stated[id][f] == nil {
					stated[id][f] = map[string]Value{}
				}
				sv := stated[id][f][u.source]
				for _, s := range v.Any {
					sv.add(s)
				}
				stated[id][f][u.source] = sv
			}
		}
		for _, f := range Fields {
			v, ok := u.values[f]
			if !ok {
				counts[f].NotStated++
				continue
			}
			if vals != nil && v.Matches(f, vals[f]) {
				counts[f].Agree++
				continue
			}
			counts[f].Disagree++
			d := Disagreement{Capture: u.capture, Conn: label, Field: f, Source: u.source, Ref: v.String()}
			catFlow, catVals := fr, vals
			switch {
			case vals != nil:
				d.Ours = vals[f]
			case u.floating:
				d.Ours = candidateValues(ourVals[run], u.cands, f)
				d.Conn = fmt.Sprintf("%s (%d candidates)", label, len(u.cands))
				// Explain by the first candidate that has a value, else the first.
				rep := u.cands[0]
				for _, i := range u.cands {
					if ourVals[run][i][f] != "" {
						rep = i
						break
					}
				}
				catFlow, catVals = &run.Flows[rep], ourVals[run][rep]
			default:
				d.Ours = "(no flow)"
			}
			d.Category = categorize(f, v, catFlow, catVals, hints, run, u)
			if vals != nil {
				for _, r := range v.Any {
					if rule := referenceRule(u.source, f, r, d.Ours, fr); rule != "" {
						d.Category = "reference rule: " + rule
						counts[f].Explained++
						break
					}
				}
			}
			res.Disagreements = append(res.Disagreements, d)
		}
	}
	sortDisagreements(res.Disagreements)
	res.Conflicts = referenceConflicts(stated, connLabel)
}

// connID names one connection for comparing references with each other: the capture
// (or its group of byte-identical copies) and the connection.
type connID struct{ capture, conn string }

// referenceConflicts lists, per connection and field, the sources whose values
// cannot all be right.
func referenceConflicts(stated map[connID]map[Field]map[string]Value, connLabel map[connID]string) []Conflict {
	var out []Conflict
	ids := make([]connID, 0, len(stated))
	for id := range stated {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if ids[i].capture != ids[j].capture {
			return ids[i].capture < ids[j].capture
		}
		return ids[i].conn < ids[j].conn
	})
	for _, id := range ids {
		for _, f := range Fields {
			bySrc := stated[id][f]
			if len(bySrc) < 2 {
				continue
			}
			srcs := make([]string, 0, len(bySrc))
			for s := range bySrc {
				srcs = append(srcs, s)
			}
			sort.Strings(srcs)
			conflict := false
			for i := range srcs {
				for j := i + 1; j < len(srcs); j++ {
					if valuesConflict(f, bySrc[srcs[i]], bySrc[srcs[j]]) {
						conflict = true
					}
				}
			}
			if !conflict {
				continue
			}
			c := Conflict{Capture: id.capture, Conn: connLabel[id], Field: f, Values: map[string]string{}}
			for _, s := range srcs {
				c.Values[s] = bySrc[s].String()
			}
			out = append(out, c)
		}
	}
	return out
}

// candidateValues summarises tlsaudit's values of f over the candidate flows.
func candidateValues(vals []map[Field]string, cands []int, f Field) string {
	var seen []string
	empty := 0
	for _, i := range cands {
		v := vals[i][f]
		if v == "" {
			empty++
			continue
		}
		if !contains(seen, v) {
			seen = append(seen, v)
		}
	}
	sort.Strings(seen)
	if len(seen) > 3 {
		seen = append(seen[:3], fmt.Sprintf("+%d more", len(seen)-3))
	}
	if empty > 0 {
		seen = append(seen, fmt.Sprintf("%d×none", empty))
	}
	return "none of: " + strings.Join(seen, " | ")
}

func sortDisagreements(ds []Disagreement) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := &ds[i], &ds[j]
		switch {
		case a.Capture != b.Capture:
			return a.Capture < b.Capture
		case a.Conn != b.Conn:
			return a.Conn < b.Conn
		case a.Field != b.Field:
			return fieldIndex(a.Field) < fieldIndex(b.Field)
		}
		return a.Source < b.Source
	})
}

func fieldIndex(f Field) int {
	for i, x := range Fields {
		if x == f {
			return i
		}
	}
	return len(Fields)
}
