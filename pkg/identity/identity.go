package identity

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Identity is what stands behind an address.
type Identity struct {
	Namespace string
	Workload  string
	Service   string // optional; several are joined with ","
	Kind      string // the workload's kind (KindDeployment, …); "" from the static file
	Pod       string // the pod, when the cluster index named the end
	Node      string // the node the pod runs on, or the node itself
}

// Resolver names an end of a flow as it was at a time. *Map and *Cluster are
// Resolvers; Layered puts one on top of another.
type Resolver interface {
	Resolve(ap netip.AddrPort, at time.Time) (Identity, bool)
}

// Layered asks each resolver in turn and returns the first name found: the static
// file on top of the cluster index, so that a names file can still correct or add
// to what the cluster says. Nil resolvers are skipped.
type Layered []Resolver

// Resolve implements Resolver.
func (l Layered) Resolve(ap netip.AddrPort, at time.Time) (Identity, bool) {
	for _, r := range l {
		if r == nil {
			continue
		}
		if id, ok := r.Resolve(ap, at); ok {
			return id, true
		}
	}
	return Identity{}, false
}

// Resolve implements Resolver: a static name holds at every time and port.
func (m *Map) Resolve(ap netip.AddrPort, _ time.Time) (Identity, bool) { return m.Lookup(ap.Addr()) }

// Name is "namespace/workload", or the workload alone when it has no namespace.
func (i Identity) Name() string {
	if i.Namespace == "" {
		return i.Workload
	}
	return i.Namespace + "/" + i.Workload
}

// Map looks addresses up: an exact address first, then the longest prefix that
// contains it.
type Map struct {
	hosts    map[netip.Addr]Identity
	prefixes []entry // longest first
}

type entry struct {
	prefix netip.Prefix
	id     Identity
}

// Lookup returns the identity of addr, if the map knows it. IPv4-mapped IPv6
// addresses are looked up as IPv4.
func (m *Map) Lookup(addr netip.Addr) (Identity, bool) {
	if m == nil {
		return Identity{}, false
	}
	addr = addr.Unmap()
	if id, ok := m.hosts[addr]; ok {
		return id, true
	}
	for _, e := range m.prefixes {
		if e.prefix.Contains(addr) {
			return e.id, true
		}
	}
	return Identity{}, false
}

// Name returns "namespace/workload" for an address written as text, or "" when the
// address is unknown or not an address. It makes a Map a report.Namer.
func (m *Map) Name(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	if id, ok := m.Lookup(a); ok {
		return id.Name()
	}
	return ""
}

// Len is the number of entries.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.hosts) + len(m.prefixes)
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// rawEntry is one list item as written.
type rawEntry struct {
	CIDR      string `yaml:"cidr"`
	IP        string `yaml:"ip"`
	Namespace string `yaml:"namespace"`
	Workload  string `yaml:"workload"`
	Service   string `yaml:"service"`
}

// Load reads a mapping file: a YAML list of entries, each with either cidr or ip,
// and namespace, workload and optionally service:
//
//   - ip: 10.42.0.17
//     namespace: shop
//     workload: checkout
//     service: checkout
//   - cidr: 10.42.1.0/24
//     namespace: shop
//     workload: cart
//
// Errors name the file, line and field.
func Load(path string) (*Map, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read names: %w", err)
	}
	return Parse(data, path)
}

// Parse reads a mapping held in memory; name is used in errors.
func Parse(data []byte, name string) (*Map, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var raw []rawEntry
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && err != io.EOF {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%s: %s", name, unknownField.ReplaceAllString(strings.Join(te.Errors, "; "), "unknown field $1"))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var items []*yaml.Node
	if len(root.Content) > 0 && root.Content[0].Kind == yaml.SequenceNode {
		items = root.Content[0].Content
	}
	m := &Map{hosts: map[netip.Addr]Identity{}}
	var errs []error
	for i, r := range raw {
		line := 0
		if i < len(items) {
			line = items[i].Line
		}
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s:%d: [%d].%s: %s", name, line, i, field, fmt.Sprintf(format, args...)))
		}
		id := Identity{Namespace: r.Namespace, Workload: r.Workload, Service: r.Service}
		if id.Workload == "" {
			bad("workload", "required")
		}
		if id.Namespace == "" {
			bad("namespace", "required")
		}
		switch {
		case r.IP != "" && r.CIDR != "":
			bad("ip", "give ip or cidr, not both")
		case r.IP != "":
			a, err := netip.ParseAddr(r.IP)
			if err != nil {
				bad("ip", "%q is not an IP address", r.IP)
				continue
			}
			a = a.Unmap()
			if old, dup := m.hosts[a]; dup && old != id {
				bad("ip", "%s is already %s", a, old.Name())
			}
			m.hosts[a] = id
		case r.CIDR != "":
			p, err := netip.ParsePrefix(r.CIDR)
			if err != nil {
				bad("cidr", "%q is not a CIDR", r.CIDR)
				continue
			}
			m.prefixes = append(m.prefixes, entry{p.Masked(), id})
		default:
			bad("ip", "give ip or cidr")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(m.prefixes, func(a, b entry) int { return cmp.Compare(b.prefix.Bits(), a.prefix.Bits()) })
	return m, nil
}
