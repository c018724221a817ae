package capture

// The eBPF program in bpf/capture.c, compiled by bpf2go with Debian's clang-14. The
// generated tlsaudit_bpfel.go and tlsaudit_bpfel.o are committed, so building never
// needs clang; `make generate` rebuilds them.
//go:generate go tool bpf2go -cc clang-14 -strip llvm-strip-14 -target bpfel -type event -type flow_key -type flow_val -type stat_values -type flow_cache tlsaudit ../../bpf/capture.c -- -I/usr/include/x86_64-linux-gnu -O2 -g -Wall -Werror
