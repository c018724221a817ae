package report

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Layout of the service map, computed here rather than in the browser: a force layout
// of 500 nodes and 2,000 edges takes the browser seconds and moves on every open,
// while this is instant and the same every time. Each namespace is a block of its
// workloads on a square grid; the blocks are packed in rows (largest first) to about
// the aspect of a screen. Unnamed addresses form their own block.

// Layout spacing in model units: a cell holds a node and its label.
const (
	layoutCellW = 110
	layoutCellH = 70
	layoutGap   = 90 // between namespace blocks
)

// addressGroup is the block of ends that have no name, only an address.
const addressGroup = "(addresses)"

// layoutNode is a node of the map: a workload or an address (with Group, its
// namespace block, and a position), or a namespace block (Group empty).
type layoutNode struct {
	ID    string  `json:"id"`
	Label string  `json:"label"`
	Group string  `json:"group,omitempty"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
}

// graph assigns node ids to pair ends and places them.
type graph struct {
	ids   map[string]string // end name -> node id
	nodes []layoutNode
}

func newGraph() *graph { return &graph{ids: map[string]string{}} }

// node returns the id of the node for end, adding it on first sight.
func (g *graph) node(end string) string {
	if id, ok := g.ids[end]; ok {
		return id
	}
	id := "n" + strconv.Itoa(len(g.nodes))
	g.ids[end] = id
	group, label := splitEnd(end)
	g.nodes = append(g.nodes, layoutNode{ID: id, Label: label, Group: group})
	return id
}

// splitEnd puts "namespace/workload" in its namespace's block and an address (or a
// name without a namespace) in the address block.
func splitEnd(end string) (group, label string) {
	if ns, wl, ok := strings.Cut(end, "/"); ok && ns != "" {
		if _, err := netip.ParseAddr(end); err != nil {
			return ns, wl
		}
	}
	return addressGroup, end
}

// layout places every node and returns the namespace blocks (as parent nodes, ids
// "g0", "g1", …) and the nodes.
func (g *graph) layout() (groups, nodes []layoutNode) {
	members := map[string][]int{}
	for i, n := range g.nodes {
		members[n.Group] = append(members[n.Group], i)
	}
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	// Largest blocks first pack best; the address block goes last.
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(boolInt(a == addressGroup), boolInt(b == addressGroup)),
			cmp.Compare(len(members[b]), len(members[a])), cmp.Compare(a, b))
	})
	total := 0.0
	for _, name := range names {
		w, h := blockSize(len(members[name]))
		total += (w + layoutGap) * (h + layoutGap)
	}
	rowWidth := math.Max(math.Sqrt(total*16/9), layoutCellW*4)
	x, y, rowH := 0.0, 0.0, 0.0
	for gi, name := range names {
		idx := members[name]
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(g.nodes[a].Label, g.nodes[b].Label) })
		w, h := blockSize(len(idx))
		if x > 0 && x+w > rowWidth {
			x, y, rowH = 0, y+rowH+layoutGap, 0
		}
		cols := int(w / layoutCellW)
		parent := "g" + strconv.Itoa(gi)
		for k, i := range idx {
			n := &g.nodes[i]
			n.Group = parent
			n.X = x + float64(k%cols)*layoutCellW + layoutCellW/2
			n.Y = y + float64(k/cols)*layoutCellH + layoutCellH/2
		}
		groups = append(groups, layoutNode{ID: parent, Label: name, X: x + w/2, Y: y + h/2})
		x += w + layoutGap
		rowH = math.Max(rowH, h)
	}
	return groups, g.nodes
}

// blockSize is the width and height of a block of n nodes on a square grid.
func blockSize(n int) (w, h float64) {
	cols := max(1, int(math.Ceil(math.Sqrt(float64(n)))))
	rows := (n + cols - 1) / cols
	return float64(cols) * layoutCellW, float64(rows) * layoutCellH
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
