package agent

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// Engine is what both live engines offer the agent loop.
type Engine interface {
	capture.Attacher
	Next(p *flow.Packet, now func() int64) error
	Close() error
}

// OpenEngine starts the chosen engine: "ebpf", "afpacket" or "auto". With auto it
// tries eBPF and falls back to AF_PACKET, logging exactly why.
func OpenEngine(name string, cfg capture.EBPFConfig, skip capture.SkipConfig, log zerolog.Logger) (Engine, error) {
	switch name {
	case "ebpf", "auto":
		missing := capture.MissingForEBPF()
		if len(missing) == 0 {
			e, err := capture.LoadEBPF(cfg, log)
			if err == nil {
				log.Info().Str("engine", "ebpf").Msg("capture engine")
				return e, nil
			}
			if name == "ebpf" {
				return nil, err
			}
			log.Warn().Err(err).Msg("eBPF engine unavailable; falling back to AF_PACKET")
		} else {
			if name == "ebpf" {
				return nil, errors.New(capture.Explain("eBPF", missing))
			}
			log.Warn().Str("reason", capture.Explain("eBPF", missing)).Msg("eBPF engine unavailable; falling back to AF_PACKET")
		}
		fallthrough
	case "afpacket":
		if missing := capture.MissingForAFPacket(); len(missing) > 0 {
			return nil, errors.New(capture.Explain("AF_PACKET", missing))
		}
		a, err := capture.OpenAFPacket(skip, log)
		if err != nil {
			return nil, err
		}
		log.Info().Str("engine", "afpacket").Msg("capture engine")
		return a, nil
	}
	return nil, fmt.Errorf("--engine must be ebpf, afpacket or auto, not %q", name)
}

// skipCollector exports the AF_PACKET engine's skip list: flows whose packets its
// socket filter drops in the kernel, and whose counts are therefore low.
type skipCollector struct{ af *capture.AFPacket }

var (
	descSkippedFlows = prometheus.NewDesc("tlsaudit_afpacket_skipped_flows",
		"Decided flows whose packets the AF_PACKET socket filter drops now (all but a sample and TCP SYN/FIN/RST); their packets and bytes are undercounted while skipped.", nil, nil)
	descSkipAdds = prometheus.NewDesc("tlsaudit_afpacket_skip_list_additions_total",
		"Decided flows put on the AF_PACKET socket filter's skip list.", nil, nil)
	descFilterUpdates = prometheus.NewDesc("tlsaudit_afpacket_filter_updates_total",
		"Socket filters installed because the skip list changed.", nil, nil)
)

func (c skipCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSkippedFlows
	ch <- descSkipAdds
	ch <- descFilterUpdates
}

func (c skipCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.af.SkipStats()
	ch <- prometheus.MustNewConstMetric(descSkippedFlows, prometheus.GaugeValue, float64(s.Flows))
	ch <- prometheus.MustNewConstMetric(descSkipAdds, prometheus.CounterValue, float64(s.Skipped))
	ch <- prometheus.MustNewConstMetric(descFilterUpdates, prometheus.CounterValue, float64(s.Updates))
}
