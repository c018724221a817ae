package report

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Counts is how many flows had each name (a class, a TLS version): a short list in
// name order, written in JSON as an object, as a map would be. A pair sees one or two
// names, and two maps per pair cost a few hundred bytes each, which over thousands of
// pairs was a tenth of an analysis's memory.
type Counts []NameCount

// NameCount is one entry of Counts.
type NameCount struct {
	Name string
	N    int
}

func (c Counts) search(name string) (int, bool) {
	return slices.BinarySearchFunc(c, name, func(e NameCount, name string) int { return strings.Compare(e.Name, name) })
}

// Add counts n more for name.
func (c *Counts) Add(name string, n int) {
	i, found := c.search(name)
	if found {
		(*c)[i].N += n
		return
	}
	*c = slices.Insert(*c, i, NameCount{Name: name, N: n})
}

// Get is name's count, 0 when it has none.
func (c Counts) Get(name string) int {
	if i, found := c.search(name); found {
		return c[i].N
	}
	return 0
}

// Names lists the names in order.
func (c Counts) Names() []string {
	names := make([]string, len(c))
	for i, e := range c {
		names[i] = e.Name
	}
	return names
}

// Map is the counts as a map.
func (c Counts) Map() map[string]int {
	m := make(map[string]int, len(c))
	for _, e := range c {
		m[e.Name] = e.N
	}
	return m
}

// MarshalJSON writes an object with the names in order, as encoding/json writes a map.
func (c Counts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(e.Name)
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.N))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of counts (a report written before, for diff).
func (c *Counts) UnmarshalJSON(data []byte) error {
	var m map[string]int
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*c = (*c)[:0]
	for _, name := range slices.Sorted(maps.Keys(m)) {
		*c = append(*c, NameCount{Name: name, N: m[name]})
	}
	return nil
}
