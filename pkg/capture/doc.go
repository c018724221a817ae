// Package capture yields decoded TCP and UDP packets to the flow table from capture
// sources: pcap and pcapng files today (pure Go, through gopacket's pcapgo), live
// sources later, all behind the same Next(*flow.Packet) shape.
//
// A source and its Decoder belong to one goroutine. Packet payloads are borrowed: they
// are valid until the next call to Next. Damaged files end with a *FileError that names
// the file and the byte offset of the record that failed; everything before it was
// delivered.
package capture
