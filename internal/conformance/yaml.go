package conformance

import (
	"fmt"
	"strconv"
	"strings"
)

// yamlNode is a node of the YAML subset that suricata-verify test.yaml files and
// insta snapshots use: block mappings, block sequences and plain or quoted scalars.
// Flow collections, anchors and multi-line scalars are read as plain strings.
type yamlNode struct {
	Scalar string
	Keys   []string // mapping keys in order
	Map    map[string]*yamlNode
	List   []*yamlNode
	kind   byte // 's' scalar, 'm' mapping, 'l' sequence
}

// get returns the mapping value for key, or nil.
func (n *yamlNode) get(key string) *yamlNode {
	if n == nil || n.kind != 'm' {
		return nil
	}
	return n.Map[key]
}

// str returns the scalar value, or "".
func (n *yamlNode) str() string {
	if n == nil || n.kind != 's' {
		return ""
	}
	return n.Scalar
}

type yamlLine struct {
	indent int
	text   string
	num    int
}

// parseYAML parses the subset described at yamlNode.
func parseYAML(src string) (*yamlNode, error) {
	var lines []yamlLine
	for i, raw := range strings.Split(src, "\n") {
		raw = strings.TrimRight(raw, "\r")
		text := stripYAMLComment(raw)
		trimmed := strings.TrimLeft(text, " ")
		if strings.TrimSpace(trimmed) == "" || trimmed == "---" || strings.HasPrefix(trimmed, "%") {
			continue
		}
		lines = append(lines, yamlLine{indent: len(text) - len(trimmed), text: strings.TrimRight(trimmed, " \t"), num: i + 1})
	}
	p := &yamlParser{lines: lines}
	if len(lines) == 0 {
		return &yamlNode{kind: 'm', Map: map[string]*yamlNode{}}, nil
	}
	n, err := p.node(lines[0].indent)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.lines) {
		return nil, fmt.Errorf("yaml line %d: unexpected indentation", p.lines[p.i].num)
	}
	return n, nil
}

type yamlParser struct {
	lines []yamlLine
	i     int
}

func isSeqItem(s string) bool { return s == "-" || strings.HasPrefix(s, "- ") }

// node parses the block starting at the current line, which has the given indent.
func (p *yamlParser) node(indent int) (*yamlNode, error) {
	switch p.lines[p.i].text {
	case "[]":
		p.i++
		return &yamlNode{kind: 'l'}, nil
	case "{}":
		p.i++
		return &yamlNode{kind: 'm', Map: map[string]*yamlNode{}}, nil
	}
	if isSeqItem(p.lines[p.i].text) {
		return p.seq(indent)
	}
	return p.mapping(indent)
}

func (p *yamlParser) seq(indent int) (*yamlNode, error) {
	n := &yamlNode{kind: 'l'}
	for p.i < len(p.lines) && p.lines[p.i].indent == indent && isSeqItem(p.lines[p.i].text) {
		l := p.lines[p.i]
		rest := strings.TrimLeft(strings.TrimPrefix(l.text, "-"), " ")
		if rest == "" {
			p.i++
			if p.i >= len(p.lines) || p.lines[p.i].indent <= indent {
				n.List = append(n.List, &yamlNode{kind: 's'})
				continue
			}
			child, err := p.node(p.lines[p.i].indent)
			if err != nil {
				return nil, err
			}
			n.List = append(n.List, child)
			continue
		}
		// "- key: value" opens a mapping whose keys sit at the column of "key".
		col := indent + (len(l.text) - len(rest))
		if _, _, isMap := splitYAMLKey(rest); isMap || isSeqItem(rest) {
			p.lines[p.i] = yamlLine{indent: col, text: rest, num: l.num}
			child, err := p.node(col)
			if err != nil {
				return nil, err
			}
			n.List = append(n.List, child)
			continue
		}
		n.List = append(n.List, &yamlNode{kind: 's', Scalar: unquoteYAML(rest)})
		p.i++
	}
	return n, nil
}

func (p *yamlParser) mapping(indent int) (*yamlNode, error) {
	n := &yamlNode{kind: 'm', Map: map[string]*yamlNode{}}
	for p.i < len(p.lines) && p.lines[p.i].indent == indent && !isSeqItem(p.lines[p.i].text) {
		l := p.lines[p.i]
		key, val, ok := splitYAMLKey(l.text)
		if !ok {
			return nil, fmt.Errorf("yaml line %d: want key: value, got %q", l.num, l.text)
		}
		p.i++
		var child *yamlNode
		switch {
		case val != "":
			// A plain scalar may go on over more-indented lines.
			for p.i < len(p.lines) && p.lines[p.i].indent > indent {
				val += " " + p.lines[p.i].text
				p.i++
			}
			child = &yamlNode{kind: 's', Scalar: unquoteYAML(val)}
		case p.i < len(p.lines) && p.lines[p.i].indent > indent:
			c, err := p.node(p.lines[p.i].indent)
			if err != nil {
				return nil, err
			}
			child = c
		case p.i < len(p.lines) && p.lines[p.i].indent == indent && isSeqItem(p.lines[p.i].text):
			c, err := p.seq(indent)
			if err != nil {
				return nil, err
			}
			child = c
		default:
			child = &yamlNode{kind: 's'}
		}
		if _, dup := n.Map[key]; !dup {
			n.Keys = append(n.Keys, key)
		}
		n.Map[key] = child
	}
	if p.i < len(p.lines) && p.lines[p.i].indent > indent {
		return nil, fmt.Errorf("yaml line %d: unexpected indentation", p.lines[p.i].num)
	}
	return n, nil
}

// splitYAMLKey splits "key: value" or "key:"; keys may contain dots and brackets.
func splitYAMLKey(s string) (key, val string, ok bool) {
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, `'`) {
		q := s[0]
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return "", "", false
		}
		key, rest := s[1:1+end], s[2+end:]
		if rest == ":" || strings.HasPrefix(rest, ": ") {
			return key, strings.TrimSpace(strings.TrimPrefix(rest, ":")), true
		}
		return "", "", false
	}
	if strings.HasSuffix(s, ":") && !strings.Contains(s, ": ") {
		return s[:len(s)-1], "", true
	}
	i := strings.Index(s, ": ")
	if i <= 0 {
		return "", "", false
	}
	return s[:i], strings.TrimSpace(s[i+2:]), true
}

// stripYAMLComment removes a " #" comment outside quotes.
func stripYAMLComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			// A quote only opens a quoted scalar at the start of a value.
			if i == 0 || s[i-1] == ' ' || s[i-1] == '-' {
				q = c
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// unquoteYAML removes YAML quotes from a scalar.
func unquoteYAML(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}
