#!/usr/bin/env bash
# Offline throughput against the peers, in one run on one file: tlsaudit analyze (table
# and json) beside ndpiReader (nDPI), tshark extracting the same handshake fields,
# tcpdump -r (read and write back, no dissection) and cat (the file's raw read speed).
# Rounds are paired: each round runs every command once, in the same order, so machine
# noise falls on all of them alike; the medians and their ratios go to BENCHMARKS.md.
#
# Usage: scripts/bench-compare.sh [-r ROUNDS] [-f FLOWS] [-s SEGMENTS] [-o BENCHMARKS.md]
#   defaults: 5 rounds; 3,300 flows of 30 full-size data segments each way (about 220k
#   packets, 300 MB). For the multi-GB corpus: -f 3300 -s 300.
# Needs: go, /usr/bin/time (package time), ndpiReader (libndpi-bin), tshark, tcpdump.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 flows=3300 segments=30 out=BENCHMARKS.md
while getopts "r:f:s:o:" opt; do
  case $opt in
    r) rounds=$OPTARG ;;
    f) flows=$OPTARG ;;
    s) segments=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
for tool in /usr/bin/time ndpiReader tshark tcpdump; do
  command -v "$tool" >/dev/null || { echo "bench-compare: $tool not installed (apt-get install time libndpi-bin tshark tcpdump)" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -trimpath -tags noagent -o "$work/tlsaudit" ./cmd/tlsaudit
go build -trimpath -o "$work/pcapgen" ./test/pcapgen
corpus=${TLSAUDIT_BENCH_CORPUS:-$work/corpus.pcap}
packets=$("$work/pcapgen" -o "$corpus" -flows "$flows" -segments "$segments")
bytes=$(stat -c %s "$corpus")
echo "corpus: $packets packets, $bytes bytes, $flows flows" >&2

names=(tlsaudit-table-1w tlsaudit-json-1w tlsaudit-table-2w tlsaudit-json-2w ndpiReader tshark tcpdump cat)
run() {
  case $1 in
    tlsaudit-table-1w) "$work/tlsaudit" analyze --workers 1 --format table "$corpus" ;;
    tlsaudit-json-1w) "$work/tlsaudit" analyze --workers 1 --format json "$corpus" ;;
    tlsaudit-table-2w) "$work/tlsaudit" analyze --workers 2 --format table "$corpus" ;;
    tlsaudit-json-2w) "$work/tlsaudit" analyze --workers 2 --format json "$corpus" ;;
    ndpiReader) ndpiReader -i "$corpus" -q -v 0 ;;
    tshark) tshark -n -r "$corpus" -Y 'tls.handshake.type==1 || tls.handshake.type==2' -T fields \
      -e tcp.stream -e tls.handshake.extensions.supported_version -e tls.handshake.extensions_server_name ;;
    tcpdump) tcpdump -r "$corpus" -w /dev/null 2>/dev/null ;;
    cat) cat "$corpus" ;;
  esac
}
# One warm-up round puts the file in the page cache for everyone.
for n in "${names[@]}"; do run "$n" >/dev/null 2>&1 || true; done
for r in $(seq "$rounds"); do
  for n in "${names[@]}"; do
    # Wall time from bash's microsecond clock (time's %e has only 10 ms); %M is the
    # peak resident set in KiB. tlsaudit exits 1 on violations only with --fail-on,
    # so any non-zero exit is a failure.
    start=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$work/t" bash -c "$(declare -f run); work=$work corpus=$corpus run $n" >/dev/null 2>"$work/err" ||
      { echo "bench-compare: $n failed:" >&2; cat "$work/err" >&2; exit 1; }
    end=$EPOCHREALTIME
    echo "$n $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f", b-a}') $(cat "$work/t")" >>"$work/times"
  done
  echo "round $r done" >&2
done

# Medians per command, then rates and ratios.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A sec rss
for n in "${names[@]}"; do
  sec[$n]=$(awk -v n="$n" '$1==n {print $2}' "$work/times" | median)
  rss[$n]=$(awk -v n="$n" '$1==n {print $3}' "$work/times" | median)
done
rate() { awk -v a="$1" -v s="$2" 'BEGIN {printf "%.0f", (s > 0) ? a/s : 0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a/b : 0}'; }

{
  echo "# Offline throughput: tlsaudit against its peers"
  echo
  echo "Written by \`make bench-compare\` (scripts/bench-compare.sh) on $(date -u +%Y-%m-%d). Do not edit by hand: run it again."
  echo
  echo "## Method"
  echo
  echo "- Corpus: \`test/pcapgen -flows $flows -segments $segments\`: $packets packets, $((bytes / 1000000)) MB;"
  echo "  internal TCP connections opened by real TLS 1.3 (two-segment post-quantum ClientHello),"
  echo "  TLS 1.2, plain HTTP and Redis exchanges, then $segments full-size data segments each way."
  echo "- $rounds paired rounds after one warm-up round (file in the page cache); median of each."
  echo "  Wall time from bash's microsecond clock around each command (a shell start included"
  echo "  for every one alike), peak RSS from \`/usr/bin/time -f %M\`; packets/s and MB/s are"
  echo "  the corpus over the median time."
  echo "- Commands: \`tlsaudit analyze --workers 1|2 --format table|json FILE\` (the command line"
  echo "  built with -tags noagent, as make build makes bin/tlsaudit; 1w, 2w: one flow table, or two"
  echo "  on their own goroutines; either way the file is read ahead on a goroutine of its own);"
  echo "  \`ndpiReader -i FILE -q -v 0\`;"
  echo "  \`tshark -n -r FILE -Y 'tls.handshake.type==1 || tls.handshake.type==2' -T fields\` with"
  echo "  the stream, supported_versions and SNI fields; \`tcpdump -r FILE -w /dev/null\`; \`cat FILE\`."
  echo
  echo "## Machine"
  echo
  echo "- $(nproc) CPUs: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "- Linux $(uname -r); $(go version | cut -d' ' -f3); nDPI $(dpkg-query -W -f='${Version}' libndpi-bin 2>/dev/null || echo '?'); $(tshark --version | head -1); $(tcpdump --version 2>&1 | head -1)"
  echo "- Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes every figure slower, the ratios less so)"
  echo
  echo "## Figures"
  echo
  echo "| command | median s | packets/s | MB/s | peak RSS MiB |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for n in "${names[@]}"; do
    echo "| $n | ${sec[$n]} | $(rate "$packets" "${sec[$n]}") | $(rate "$((bytes / 1000000))" "${sec[$n]}") | $((${rss[$n]} / 1024)) |"
  done
  echo
  echo "## Ratios"
  echo
  echo "| ratio | value | goal |"
  echo "| --- | ---: | ---: |"
  echo "| one worker (table) packets/s ÷ ndpiReader's | $(ratio "${sec[ndpiReader]}" "${sec[tlsaudit-table-1w]}") | ≥ 4 |"
  echo "| one worker (json) packets/s ÷ ndpiReader's | $(ratio "${sec[ndpiReader]}" "${sec[tlsaudit-json-1w]}") | ≥ 4 |"
  echo "| two workers (table) packets/s ÷ one worker's | $(ratio "${sec[tlsaudit-table-1w]}" "${sec[tlsaudit-table-2w]}") | ≥ 1.7 |"
  echo "| two workers (json) packets/s ÷ one worker's | $(ratio "${sec[tlsaudit-json-1w]}" "${sec[tlsaudit-json-2w]}") | ≥ 1.7 |"
  echo "| two workers (table) packets/s ÷ ndpiReader's | $(ratio "${sec[ndpiReader]}" "${sec[tlsaudit-table-2w]}") | |"
  echo "| one worker (table) packets/s ÷ tshark's | $(ratio "${sec[tshark]}" "${sec[tlsaudit-table-1w]}") | |"
  echo "| one worker (table) MB/s ÷ cat's | $(ratio "${sec[cat]}" "${sec[tlsaudit-table-1w]}") | ≥ 0.5 |"
  echo "| one worker (table) MB/s ÷ tcpdump -r's | $(ratio "${sec[tcpdump]}" "${sec[tlsaudit-table-1w]}") | |"
  echo "| one worker (table) peak RSS ÷ ndpiReader's | $(ratio "${rss[tlsaudit-table-1w]}" "${rss[ndpiReader]}") | ≤ 1 |"
  echo "| two workers (table) peak RSS ÷ ndpiReader's | $(ratio "${rss[tlsaudit-table-2w]}" "${rss[ndpiReader]}") | |"
} >"$out"
cat "$out"
