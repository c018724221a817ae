package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// isTerminal reports whether w is a terminal (a person watching, not a pipe or a CI log).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progress draws, on a terminal only, how far analyze is through its input: bytes
// read of the total, bytes/s, packets/s and the time left. A nil *progress draws
// nothing, so callers need not check.
type progress struct {
	bar     *progressbar.ProgressBar
	start   time.Time
	done    int64  // bytes of the files finished
	packets uint64 // packets of the files finished
	// curBytes and curPackets are how far the file being read is.
	curBytes   int64
	curPackets uint64
	files      int
	file       int // 1-based index of the file being read
}

// newProgress returns a progress bar over files on stderr, or nil when stderr is not
// a terminal.
func newProgress(stderr io.Writer, files []string) *progress {
	if !isTerminal(stderr) {
		return nil
	}
	return newProgressTo(stderr, files)
}

// newProgressTo returns a progress bar over files drawn to w, terminal or not.
func newProgressTo(stderr io.Writer, files []string) *progress {
	var total int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			total += st.Size()
		}
	}
	return &progress{
		start: time.Now(), files: len(files),
		bar: progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			// The last state stays, with the time taken; what follows starts below it.
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
		),
	}
}

// next starts the next file and returns what capture.ReadFileProgress should call.
func (p *progress) next(path string) func(fileBytes int64, packets uint64) {
	if p == nil {
		return nil
	}
	p.done, p.packets = p.done+p.curBytes, p.packets+p.curPackets
	p.curBytes, p.curPackets = 0, 0
	p.file++
	name := filepath.Base(path)
	return func(fileBytes int64, packets uint64) {
		p.curBytes, p.curPackets = fileBytes, packets
		rate := float64(p.packets+packets) / max(time.Since(p.start).Seconds(), 1e-6)
		p.bar.Set64(p.done + fileBytes) // throttled
		p.bar.Describe(fmt.Sprintf("%s (%d/%d) %.0f pkt/s", name, p.file, p.files, rate))
	}
}

// finish fills the bar and ends its line.
func (p *progress) finish() {
	if p != nil {
		p.bar.Finish()
	}
}
