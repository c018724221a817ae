package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FieldError is one problem in a config file: where it is and what is wrong.
type FieldError struct {
	File  string // config file name
	Line  int    // 1-based; 0 when the file as a whole is wrong
	Field string // path of the field, e.g. "exemptions[2].reason"; "" when unknown
	Err   error
}

// Error formats the problem as "file:line: field: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// Sentinel errors a FieldError wraps, for tests and callers that branch on them.
var (
	ErrUnknownField = errors.New("unknown field")
	ErrRequired     = errors.New("required")
)

// rawConfig is the file as written. Every leaf is a yaml.Node so that decoding never
// fails on a value: validate reads each one, knowing its field and line. Decoding with
// KnownFields(true) still rejects unknown fields at every level.
type rawConfig struct {
	InternalCIDRs     yaml.Node      `yaml:"internal_cidrs"`
	PodCIDRs          yaml.Node      `yaml:"pod_cidrs"`
	ServiceCIDRs      yaml.Node      `yaml:"service_cidrs"`
	MinTLSVersion     yaml.Node      `yaml:"min_tls_version"`
	Exemptions        []rawExemption `yaml:"exemptions"`
	AlertClasses      yaml.Node      `yaml:"alert_classes"`
	AlertLabels       yaml.Node      `yaml:"alert_labels"`
	SeriesCap         yaml.Node      `yaml:"series_cap"`
	AlertResolveAfter yaml.Node      `yaml:"alert_resolve_after"`
	RequireTLS13      []rawScope     `yaml:"require_tls13"`
	RequireMTLS       []rawScope     `yaml:"require_mtls"`
}

type rawExemption struct {
	Reason   yaml.Node `yaml:"reason"`
	Expires  yaml.Node `yaml:"expires"`
	Kinds    yaml.Node `yaml:"kinds"`
	rawScope `yaml:",inline"`
}

// rawScope is the part of an exemption or requirement that selects flows.
type rawScope struct {
	Namespace       yaml.Node `yaml:"namespace"`
	ClientNamespace yaml.Node `yaml:"client_namespace"`
	ServerNamespace yaml.Node `yaml:"server_namespace"`
	ClientCIDR      yaml.Node `yaml:"client_cidr"`
	ServerCIDR      yaml.Node `yaml:"server_cidr"`
	ServerPort      yaml.Node `yaml:"server_port"`
}

// Load reads and validates a config file. Fields it leaves out take Default's values.
// The error lists every problem found, each a *FieldError naming field and line.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path)
}

// Parse validates a config held in memory; name is used in errors.
func Parse(data []byte, name string) (*Policy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlErrors(err, name, nil)
	}
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && err != io.EOF {
		return nil, yamlErrors(err, name, &root)
	}
	v := validator{file: name, root: &root}
	p := v.config(&raw)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	p.Source = name
	return p, nil
}

var (
	yamlLine    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlNoField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlErrors turns yaml.v3's errors into FieldErrors, naming the field at the line.
func yamlErrors(err error, file string, root *yaml.Node) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs []error
	for _, m := range msgs {
		fe := &FieldError{File: file, Err: errors.New(strings.TrimPrefix(m, "yaml: "))}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			fe.Line, _ = strconv.Atoi(sm[1])
			fe.Err = errors.New(sm[2])
			if nf := yamlNoField.FindStringSubmatch(sm[2]); nf != nil {
				fe.Err = ErrUnknownField
				fe.Field = fieldAt(root, fe.Line, nf[1])
			} else {
				fe.Field = fieldAt(root, fe.Line, "")
			}
		}
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

// fieldAt finds the path of the mapping key on line (named key, when given).
func fieldAt(root *yaml.Node, line int, key string) string {
	if root == nil {
		return key
	}
	var found string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if found != "" {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line && (key == "" || k.Value == key) {
					found = p
					return
				}
				walk(v, p)
			}
		}
	}
	walk(root, "")
	if found == "" {
		return key
	}
	return found
}

// validator collects every problem instead of stopping at the first.
type validator struct {
	file string
	root *yaml.Node
	errs []error
}

func (v *validator) fail(n *yaml.Node, field string, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	v.errs = append(v.errs, &FieldError{File: v.file, Line: line, Field: field, Err: fmt.Errorf(format, args...)})
}

// set reports whether a field was given a value (not left out, not null).
func set(n *yaml.Node) bool {
	return n.Kind != 0 && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func (v *validator) scalar(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		v.fail(n, field, "want a single value")
		return "", false
	}
	return n.Value, true
}

func (v *validator) strings(n *yaml.Node, field string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		v.fail(n, field, "want a list")
		return nil, false
	}
	out := []string{}
	ok := true
	for i, c := range n.Content {
		s, good := v.scalar(c, fmt.Sprintf("%s[%d]", field, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

func (v *validator) prefixes(n *yaml.Node, field string) []netip.Prefix {
	list, _ := v.strings(n, field)
	var out []netip.Prefix
	for i, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			v.fail(n.Content[i], fmt.Sprintf("%s[%d]", field, i), "%v", err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// parsePrefix reads a CIDR, or an address meaning that one host.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or IP address", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %v", s, err)
	}
	return p.Masked(), nil
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// reservedLabels are set by tlsaudit on every alert; alert_labels cannot override them.
var reservedLabels = []string{"alertname", "kind", "src_namespace", "src_workload", "dst_namespace", "dst_workload", "dst_service", "dst_port"}

func (v *validator) config(raw *rawConfig) *Policy {
	p := Default()
	if set(&raw.InternalCIDRs) {
		p.Internal = v.prefixes(&raw.InternalCIDRs, "internal_cidrs")
	} else {
		p.Internal = slices.Clone(DefaultInternal)
	}
	if set(&raw.PodCIDRs) {
		p.PodCIDRs = v.prefixes(&raw.PodCIDRs, "pod_cidrs")
	}
	if set(&raw.ServiceCIDRs) {
		p.ServiceCIDRs = v.prefixes(&raw.ServiceCIDRs, "service_cidrs")
	}
	p.Internal = append(append(p.Internal, p.PodCIDRs...), p.ServiceCIDRs...)
	if n := &raw.MinTLSVersion; set(n) {
		if s, ok := v.scalar(n, "min_tls_version"); ok {
			ver, err := ParseVersion(s)
			if err != nil {
				v.fail(n, "min_tls_version", "%v", err)
			}
			p.MinVersion = ver
		}
	}
	if n := &raw.AlertClasses; set(n) {
		kinds, _ := v.strings(n, "alert_classes")
		for i, k := range kinds {
			if !slices.Contains(Kinds, k) {
				v.fail(n.Content[i], fmt.Sprintf("alert_classes[%d]", i), "unknown violation kind %q (want %s)", k, strings.Join(Kinds, " or "))
			}
		}
		p.AlertKinds = kinds
	}
	if n := &raw.AlertLabels; set(n) {
		p.AlertLabels = v.labels(n)
	}
	if n := &raw.SeriesCap; set(n) {
		if s, ok := v.scalar(n, "series_cap"); ok {
			c, err := strconv.Atoi(s)
			if err != nil || c < 1 {
				v.fail(n, "series_cap", "want a whole number of series, at least 1, not %q", s)
			}
			p.SeriesCap = c
		}
	}
	if n := &raw.AlertResolveAfter; set(n) {
		if s, ok := v.scalar(n, "alert_resolve_after"); ok {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				v.fail(n, "alert_resolve_after", "want a positive duration such as 10m or 90s, not %q", s)
			}
			p.AlertResolveAfter = d
		}
	}
	for i := range raw.Exemptions {
		field := fmt.Sprintf("exemptions[%d]", i)
		x := v.exemption(&raw.Exemptions[i], field, v.lineOf("exemptions", i))
		p.Exemptions = append(p.Exemptions, x)
	}
	for i := range raw.RequireTLS13 {
		p.RequireTLS13 = append(p.RequireTLS13, v.scope(&raw.RequireTLS13[i], fmt.Sprintf("require_tls13[%d]", i)))
	}
	for i := range raw.RequireMTLS {
		p.RequireMTLS = append(p.RequireMTLS, v.scope(&raw.RequireMTLS[i], fmt.Sprintf("require_mtls[%d]", i)))
	}
	return p
}

func (v *validator) labels(n *yaml.Node) map[string]string {
	if n.Kind != yaml.MappingNode {
		v.fail(n, "alert_labels", "want a map of label names to values")
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		field := "alert_labels." + k.Value
		switch {
		case !labelName.MatchString(k.Value):
			v.fail(k, field, "%q is not a valid label name", k.Value)
		case slices.Contains(reservedLabels, k.Value):
			v.fail(k, field, "label %q is set by tlsaudit itself", k.Value)
		}
		s, ok := v.scalar(val, field)
		if ok && s == "" {
			v.fail(val, field, "empty label value")
		}
		m[k.Value] = s
	}
	return m
}

// lineOf returns the line of the i-th item of a top-level list field.
func (v *validator) lineOf(field string, i int) int {
	doc := v.root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return 0
	}
	for j := 0; j+1 < len(doc.Content); j += 2 {
		if doc.Content[j].Value == field {
			if list := doc.Content[j+1]; list.Kind == yaml.SequenceNode && i < len(list.Content) {
				return list.Content[i].Line
			}
		}
	}
	return 0
}

// field reads an optional non-empty string field of a list item named field.
func (v *validator) field(n *yaml.Node, field, name string) string {
	if !set(n) {
		return ""
	}
	s, ok := v.scalar(n, field+"."+name)
	if ok && s == "" {
		v.fail(n, field+"."+name, "empty value")
	}
	return s
}

func (v *validator) exemption(r *rawExemption, field string, line int) Exemption {
	x := Exemption{Line: line, Scope: v.scope(&r.rawScope, field)}
	str := func(n *yaml.Node, name string) string { return v.field(n, field, name) }
	x.Reason = strings.TrimSpace(str(&r.Reason, "reason"))
	if x.Reason == "" && !set(&r.Reason) {
		v.errs = append(v.errs, &FieldError{File: v.file, Line: line, Field: field + ".reason", Err: fmt.Errorf("%w: every exemption says why", ErrRequired)})
	}
	if n := &r.Kinds; set(n) {
		kinds, _ := v.strings(n, field+".kinds")
		for i, k := range kinds {
			if !slices.Contains(Kinds, k) {
				v.fail(n.Content[i], fmt.Sprintf("%s.kinds[%d]", field, i), "unknown violation kind %q (want %s)", k, strings.Join(Kinds, " or "))
			}
		}
		x.Kinds = kinds
	}
	if s := str(&r.Expires, "expires"); s != "" {
		t, err := parseExpiry(s)
		if err != nil {
			v.fail(&r.Expires, field+".expires", "%v", err)
		}
		x.Expires = t
	}
	if !set(&r.Namespace) && !set(&r.ClientNamespace) && !set(&r.ServerNamespace) &&
		!set(&r.ClientCIDR) && !set(&r.ServerCIDR) && !set(&r.ServerPort) {
		v.errs = append(v.errs, &FieldError{File: v.file, Line: line, Field: field,
			Err: errors.New("matches everything: set namespace, client_namespace, server_namespace, client_cidr, server_cidr or server_port")})
	}
	return x
}

// scope reads the flow selector of an exemption or requirement.
func (v *validator) scope(r *rawScope, field string) Scope {
	var x Scope
	str := func(n *yaml.Node, name string) string { return v.field(n, field, name) }
	x.Namespace = str(&r.Namespace, "namespace")
	x.ClientNamespace = str(&r.ClientNamespace, "client_namespace")
	x.ServerNamespace = str(&r.ServerNamespace, "server_namespace")
	for _, c := range []struct {
		n    *yaml.Node
		name string
		dst  *netip.Prefix
	}{{&r.ClientCIDR, "client_cidr", &x.ClientCIDR}, {&r.ServerCIDR, "server_cidr", &x.ServerCIDR}} {
		if s := str(c.n, c.name); s != "" {
			pfx, err := parsePrefix(s)
			if err != nil {
				v.fail(c.n, field+"."+c.name, "%v", err)
			}
			*c.dst = pfx
		}
	}
	if s := str(&r.ServerPort, "server_port"); s != "" {
		port, err := strconv.ParseUint(s, 10, 16)
		if err != nil || port == 0 {
			v.fail(&r.ServerPort, field+".server_port", "want a port from 1 to 65535, not %q", s)
		}
		x.ServerPort = uint16(port)
	}
	return x
}

// parseExpiry reads a date (the exemption holds through that day, UTC) or an RFC 3339
// time.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02) or an RFC 3339 time", s)
}
