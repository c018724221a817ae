// Package netnstest runs test code inside a named network namespace (ip netns add):
// sockets, netlink handles and attachments made there keep the namespace after the
// goroutine's thread goes back to its own.
package netnstest

import (
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// Do runs f on this goroutine's thread switched into the network namespace name,
// then switches the thread back.
func Do(t testing.TB, name string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		t.Fatal(err)
	}
	defer netns.Set(orig)
	f()
}
