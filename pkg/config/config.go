// Package config loads what the agent and analyze judge traffic by: the policy file,
// the static names file and the command-line flags that override them.
package config

import (
	"crypto/sha256"
	"net/netip"
	"os"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// Source says where the policy and names come from, and which
// command-line flags override the config file (on every reload too).
type Source struct {
	Path, Names string           // the config file and the static names file; "": none
	Internal    []netip.Prefix   // --internal-cidr, when given
	MinVersion  classify.Version // --min-tls, when given
}

// Config is what a load produces; the agent swaps it whole.
type Config struct {
	Policy *policy.Policy
	Names  *identity.Map // nil without --names
}

// Load reads the config and names files (the default policy without a config file)
// and applies the flag overrides.
func (c Source) Load() (*Config, error) {
	pol := policy.Default()
	if c.Path != "" {
		var err error
		if pol, err = policy.Load(c.Path); err != nil {
			return nil, err
		}
	}
	if len(c.Internal) > 0 {
		pol.Internal = c.Internal
	}
	if c.MinVersion != 0 {
		pol.MinVersion = c.MinVersion
	}
	lc := &Config{Policy: pol}
	if c.Names != "" {
		names, err := identity.Load(c.Names)
		if err != nil {
			return nil, err
		}
		lc.Names = names
	}
	return lc, nil
}

// Fingerprint is a hash of the config and names files' contents: what a file watch
// compares. Contents, not modification times, because a ConfigMap volume swaps a
// symlink and the file's own time need not move.
func (c Source) Fingerprint() ([sha256.Size]byte, error) {
	h := sha256.New()
	for _, p := range []string{c.Path, c.Names} {
		if p == "" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		h.Write([]byte(p))
		h.Write([]byte{0})
		h.Write(data)
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}
