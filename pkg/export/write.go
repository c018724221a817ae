package export

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Exposition formats WriteMetrics writes.
const (
	FormatText        = "text"        // Prometheus text format 0.0.4
	FormatOpenMetrics = "openmetrics" // OpenMetrics 1.0, ending in "# EOF"
)

// WriteMetrics gathers g once and writes every family in the given format: what a
// scrape of /metrics would return, for one-shot runs such as `tlsaudit analyze
// --format openmetrics`.
func WriteMetrics(w io.Writer, g prometheus.Gatherer, format string) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	var f expfmt.Format
	switch format {
	case FormatText:
		f = expfmt.NewFormat(expfmt.TypeTextPlain)
	case FormatOpenMetrics:
		f = expfmt.NewFormat(expfmt.TypeOpenMetrics)
	default:
		return fmt.Errorf("unknown exposition format %q", format)
	}
	enc := expfmt.NewEncoder(w, f)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}
