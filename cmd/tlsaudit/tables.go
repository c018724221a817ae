package main

import (
	"sync"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// tables are analyze's flow tables: one, read on the calling goroutine, or several
// working in parallel on the flows capture.Shard gives each, keeping the bounds of
// cfg together (flow.Shared). Every flow's packets reach one table in file order, so its
// verdict is the one a single table reaches; what the tables hand on (finished and
// decided flows) goes through one lock, so the report's builder and the exporter see
// one caller at a time.
type tables struct {
	all []*flow.Table
	add []func(*flow.Packet)
	pkt flow.Packet
}

func newTables(cfg flow.Config, sink func(*flow.Record), workers int) *tables {
	t := &tables{}
	if workers <= 1 {
		t.all = []*flow.Table{flow.New(cfg, sink)}
		return t
	}
	var mu sync.Mutex
	locked := func(fn func(*flow.Record)) func(*flow.Record) {
		return func(r *flow.Record) {
			mu.Lock()
			defer mu.Unlock()
			fn(r)
		}
	}
	if cfg.OnDecide != nil {
		cfg.OnDecide = locked(cfg.OnDecide)
	}
	// The tables keep the bounds together: an uneven hash evicts nothing early.
	cfg.Shared = &flow.Shared{
		MaxFlows:         int64(or(cfg.MaxFlows, flow.DefaultConfig.MaxFlows)),
		MaxBufferedBytes: int64(or(cfg.MaxBufferedBytes, flow.DefaultConfig.MaxBufferedBytes)),
	}
	for range workers {
		tb := flow.New(cfg, locked(sink))
		t.all = append(t.all, tb)
		t.add = append(t.add, tb.Add)
	}
	return t
}

// or is v, or def when v is not set.
func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// read feeds one capture file to the tables.
func (t *tables) read(path string, dec *capture.Decoder, progress func(int64, uint64)) error {
	if len(t.all) == 1 {
		return capture.ReadFileProgress(path, dec, &t.pkt, t.all[0].Add, progress)
	}
	return capture.ReadFileParallel(path, dec, t.add, progress)
}

// flush finishes every flow of every table, the tables in parallel, and returns
// their counters added up.
func (t *tables) flush() flow.Stats {
	var wg sync.WaitGroup
	for _, tb := range t.all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tb.Flush()
		}()
	}
	wg.Wait()
	var s flow.Stats
	for _, tb := range t.all {
		s.Add(tb.Stats())
	}
	return s
}
