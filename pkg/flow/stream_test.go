package flow

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

type seg struct {
	off  int
	data string
}

func TestStreamInsert(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		segs  []seg
		want  string
		full  bool
	}{
		{"in order", 100, []seg{{0, "hello "}, {6, "world"}}, "hello world", false},
		{"reordered", 100, []seg{{6, "world"}, {0, "hello "}}, "hello world", false},
		{"retransmission", 100, []seg{{0, "hello "}, {0, "hello "}, {6, "world"}}, "hello world", false},
		{"overlap keeps first copy", 100, []seg{{0, "abcd"}, {2, "XXef"}}, "abcdef", false},
		{"pending first copy wins", 100, []seg{{4, "efgh"}, {2, "XXYYij"}, {0, "ab"}}, "abXXefgh", false},
		{"three holes filled", 100, []seg{{9, "j"}, {6, "gh"}, {3, "de"}, {0, "abc"}, {5, "f"}, {8, "i"}}, "abcdefghij", false},
		{"gap stops prefix", 100, []seg{{0, "abc"}, {5, "fgh"}}, "abc", false},
		{"limit cuts", 5, []seg{{0, "abc"}, {3, "defgh"}}, "abcde", true},
		{"beyond limit", 5, []seg{{0, "ab"}, {7, "zz"}}, "ab", true},
		{"before start", 100, []seg{{-3, "xyzab"}, {2, "c"}}, "abc", false},
		{"entirely before start", 100, []seg{{-3, "xyz"}, {0, "a"}}, "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &bufPool{budget: 1 << 20}
			var s stream
			for _, sg := range tt.segs {
				s.insert(sg.off, []byte(sg.data), tt.limit, pool)
			}
			if got := string(s.contiguous()); got != tt.want {
				t.Errorf("prefix = %q, want %q", got, tt.want)
			}
			if s.full != tt.full {
				t.Errorf("full = %v, want %v", s.full, tt.full)
			}
		})
	}
}

// TestStreamShuffled delivers a stream cut into random segments, shuffled and partly
// duplicated, and expects the exact prefix back whatever the order.
func TestStreamShuffled(t *testing.T) {
	src := make([]byte, 6000)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for trial := range 200 {
		r := rand.New(rand.NewPCG(uint64(trial), 1))
		var segs []seg
		for off := 0; off < len(src); {
			n := 1 + r.IntN(1500)
			end := min(off+n, len(src))
			segs = append(segs, seg{off, string(src[off:end])})
			off = end
		}
		// Duplicate some segments with a different cut, then shuffle, but keep the
		// number of simultaneous holes within what the stream remembers by delivering
		// in windows.
		for i := 0; i < len(segs)/3; i++ {
			s := segs[r.IntN(len(segs))]
			segs = append(segs, s)
		}
		r.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
		pool := &bufPool{budget: 1 << 20}
		var s stream
		// Deliver until complete: a stream forgets spans past maxHoles, as a real
		// receiver would need retransmissions; loop the list like retransmissions do.
		for round := 0; round < 10 && len(s.contiguous()) < len(src); round++ {
			for _, sg := range segs {
				s.insert(sg.off, []byte(sg.data), 1<<14, pool)
			}
		}
		if !bytes.Equal(s.contiguous(), src) {
			t.Fatalf("trial %d: got %d bytes, want %d (first diff at %d)", trial, len(s.contiguous()), len(src), firstDiff(s.contiguous(), src))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestPoolBudget(t *testing.T) {
	pool := &bufPool{budget: 4096}
	var a, b stream
	if _, overflow := a.insert(0, make([]byte, 3000), 1<<14, pool); overflow {
		t.Fatal("first 3000 bytes refused under a 4096 budget")
	}
	if _, overflow := b.insert(0, make([]byte, 100), 1<<14, pool); !overflow {
		t.Fatal("budget exceeded without refusal")
	}
	if pool.refused != 1 {
		t.Fatalf("refused = %d, want 1", pool.refused)
	}
	pool.release(a.buf)
	a.reset()
	if pool.inUse != 0 {
		t.Fatalf("inUse = %d after release, want 0", pool.inUse)
	}
	if _, overflow := b.insert(0, make([]byte, 100), 1<<14, pool); overflow {
		t.Fatal("refused after the budget was freed")
	}
}

func BenchmarkStreamInsertInOrder(b *testing.B) {
	pool := &bufPool{budget: 1 << 30}
	seg := make([]byte, 1448)
	b.ReportAllocs()
	for b.Loop() {
		var s stream
		for off := 0; off < 16<<10; off += len(seg) {
			s.insert(off, seg, 16<<10, pool)
		}
		pool.release(s.buf)
	}
}
