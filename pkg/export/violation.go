package export

import (
	"net/netip"
	"strconv"
	"time"
)

// Violation is one flow that breaks the policy, with what a person needs to find it.
type Violation struct {
	Kind           string // policy.KindPlaintext or policy.KindLegacyTLS
	Src, Dst       End
	DstPort        uint16
	Transport      string // "tcp" or "udp"
	Client, Server netip.AddrPort
	SNI            string
	TLSVersion     string
	AppProtocol    string
	FirstSeen      time.Time // of the flow
	LastSeen       time.Time
}

// Pair is the service pair the violation belongs to: what an alert is about.
func (v *Violation) Pair() Pair {
	return Pair{Kind: v.Kind, Src: v.Src, Dst: v.Dst, DstPort: strconv.Itoa(int(v.DstPort))}
}

// Sample is the flow as "client ip:port -> server ip:port".
func (v *Violation) Sample() string { return v.Client.String() + " -> " + v.Server.String() }

// Pair identifies a violating service pair: the labels of its alert.
type Pair struct {
	Kind     string
	Src, Dst End
	DstPort  string
}

// ViolationSink hears of violating flows: Open when a flow's verdict makes it a
// violation, Close when that flow ends. Calls come from the goroutine that owns the
// flow table and must not block.
type ViolationSink interface {
	Open(v *Violation)
	Close(v *Violation)
}
