//go:build noagent

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// agentBinary is the full build, with the node agent, that a noagent build hands
// `tlsaudit run` to.
const agentBinary = "tlsaudit-agent"

// runAgent, in a build without the node agent, replaces this process with
// tlsaudit-agent (beside this executable, else on PATH) running the same command.
// The agent's packages (the agent itself, client-go's informers and the API's types)
// are left out of this build because initialising them alone took about as much
// memory as a whole offline analysis: analyze, diff, probe and report need none of them.
func runAgent(args []string, stderr io.Writer) int {
	path, err := findAgent()
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit run: this tlsaudit is built without the node agent, and %s is not beside it or on PATH: %v\n", agentBinary, err)
		return exitError
	}
	argv := append([]string{path, "run"}, args...)
	err = syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(stderr, "tlsaudit run: exec %s: %v\n", path, err)
	return exitError
}

func findAgent() (string, error) {
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			beside := filepath.Join(filepath.Dir(self), agentBinary)
			if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return beside, nil
			}
		}
	}
	return exec.LookPath(agentBinary)
}
