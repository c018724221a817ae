package conformance

import (
	"fmt"
	"os"
	"path/filepath"
)

// CorpusDir finds the reference corpus for a test running in a package two
// levels below the repository (internal/conformance, cmd/tlsaudit):
// $TLSAUDIT_PEER_CORPUS, else shared/peer-corpus beside the clone. The error
// says where it looked.
func CorpusDir() (string, error) {
	dir := os.Getenv("TLSAUDIT_PEER_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "peer-corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		return "", fmt.Errorf("reference corpus not found at %s (set TLSAUDIT_PEER_CORPUS to its directory): %w", dir, err)
	}
	return dir, nil
}
