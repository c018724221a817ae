#!/usr/bin/env bash
# record-testdata.sh - record the packet captures in testdata/pcaps.
#
# Run as root on Debian (12): `make testdata` or `sudo scripts/record-testdata.sh`.
#
# Builds a small private network out of Linux network namespaces (ta-sw holds
# a bridge, every other ta-* namespace is one "host" attached to it through a
# veth pair), runs real servers inside those namespaces (openssl s_server,
# nginx, PostgreSQL, redis-server, sshd, dnsmasq, an OpenVPN server and
# test/tlspeer) and real clients against them (openssl s_client, curl, psql,
# redis-cli, ssh, dig, an OpenVPN client, test/tlspeer; Dovecot, vsftpd,
# slapd and MariaDB with curl, ldapsearch and mariadb for STARTTLS), and records each
# scenario with tcpdump on the bridge. Then
# scripts/testdata/expected.py reads every capture back with tshark and
# writes testdata/pcaps/expected.tsv and testdata/pcaps/README.md from what
# tshark sees (so client ports etc. always match the recorded files).
#
# Addresses: 10.77.0.0/24 and fd00:77::/64 (and the OpenVPN tunnel's
# 10.78.0.0/24) exist only inside the ta-* namespaces; no traffic leaves them. Everything
# started here (namespaces, processes, temp dir) is removed on exit, and a
# leftover from an interrupted run is removed at the start, so the script can
# simply be run again.
#
# Debian packages it installs with apt-get when a tool is missing:
#   iproute2 ethtool tcpdump tshark (+ wireshark-common for editcap/capinfos)
#   openssl nginx-light postgresql postgresql-client redis-server redis-tools
#   openssh-server openssh-client curl bind9-dnsutils dnsmasq-base tcpreplay
#   openvpn iputils-ping python3-minimal, the packages of
#   scripts/testdata/protocols.sh, and for scripts/testdata/starttls.sh
#   dovecot-core dovecot-imapd dovecot-pop3d vsftpd slapd ldap-utils
#   mariadb-server mariadb-client (and it unpacks pure-ftpd without
#   installing it: the package conflicts with vsftpd)
# Go (the project's toolchain, go.mod version) must already be installed; it
# builds test/tlspeer.
#
# Environment:
#   OUT=dir      write captures, expected.tsv and README.md there
#                (default: testdata/pcaps of this repository)
#   ONLY="rec_a rec_b"  record only these scenarios and merge their rows into
#                the existing expected.tsv and README.md (e.g. the protocol
#                scenarios of scripts/testdata/protocols.sh)
#   PFX=name-    namespace prefix (default ta-; NS_PREFIX is the same)
#   KEEP_WORK=1  keep the temp dir (certs, key logs, server logs); it is
#                also kept when the script fails
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$REPO/testdata/pcaps}
HELPERS=$REPO/scripts/testdata
# namespace prefix; another one lets two recordings run side by side
PFX=${PFX:-${NS_PREFIX:-ta-}}
START_TS=$(date +%s)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (network namespaces, tcpdump)"

# ---------------------------------------------------------------- packages --
# command -> Debian package that provides it
declare -A PKG_OF=(
	[ip]=iproute2 [ethtool]=ethtool [tcpdump]=tcpdump [tshark]=tshark
	[editcap]=wireshark-common [capinfos]=wireshark-common
	[openssl]=openssl [nginx]=nginx-light [psql]=postgresql-client
	[redis-server]=redis-server [redis-cli]=redis-tools
	[/usr/sbin/sshd]=openssh-server [ssh]=openssh-client [ssh-keygen]=openssh-client
	[curl]=curl [dig]=bind9-dnsutils [dnsmasq]=dnsmasq-base
	[python3]=python3-minimal [tcprewrite]=tcpreplay [runuser]=util-linux [ss]=iproute2
	[openvpn]=openvpn [ping]=iputils-ping
)
install_packages() {
	local missing=() c
	for c in "${!PROTO_PKG_OF[@]}"; do PKG_OF[$c]=${PROTO_PKG_OF[$c]}; done
	for c in "${!STARTTLS_PKG_OF[@]}"; do PKG_OF[$c]=${STARTTLS_PKG_OF[$c]}; done
	for c in "${!PKG_OF[@]}"; do
		# a path stands for a file the package installs (a library, a Python module)
		[[ $c == /* && -e $c ]] && continue
		command -v "$c" >/dev/null 2>&1 || missing+=("${PKG_OF[$c]}")
	done
	# the PostgreSQL server binaries (initdb, pg_ctl) live outside PATH
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
	if ((${#missing[@]})); then
		mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
		log "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	command -v go >/dev/null 2>&1 || die "go is required (to build test/tlspeer)"
}

# ------------------------------------------------------------------ layout --
HOSTS=(client web batch admin server api db cache legacy dns)
declare -A IP4=(
	[client]=10.77.0.10 [web]=10.77.0.11 [batch]=10.77.0.12 [admin]=10.77.0.13
	[server]=10.77.0.20 [api]=10.77.0.21 [db]=10.77.0.30 [cache]=10.77.0.40
	[legacy]=10.77.0.50 [dns]=10.77.0.53
)
declare -A IP6=([client]=fd00:77::10 [server]=fd00:77::20 [api]=fd00:77::21)
VLAN_ID=100

nsx() { local ns=$1; shift; ip netns exec "$PFX$ns" "$@"; }

# ------------------------------------------------------------------ cleanup --
WORK=
BG_PIDS=()
CAP_PID=
PG_DATA=

kill_ns_procs() {
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
	[[ -n ${pids// /} ]] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
		[[ -n ${pids// /} ]] || return 0
		sleep 0.2
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
}

teardown_net() {
	local h
	for h in "${HOSTS[@]}" sw; do
		if ip netns list | grep -qw "^$PFX$h"; then
			kill_ns_procs "$PFX$h"
			ip netns del "$PFX$h" 2>/dev/null || true
		fi
	done
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [[ -n $CAP_PID ]]; then kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; fi
	if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
	fi
	local p
	for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	teardown_net
	if [[ -n $WORK && -d $WORK ]]; then
		# keep it for a look after a failure, not after an interruption
		if [[ ${KEEP_WORK:-} == 1 ]] || ((rc != 0 && rc < 128)); then
			log "work dir kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}

# ----------------------------------------------------------------- network --
setup_net() {
	local h mac
	ip netns add "${PFX}sw"
	nsx sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "${PFX}sw" link add br0 type bridge stp_state 0
	ip -n "${PFX}sw" link set br0 up
	for h in "${HOSTS[@]}"; do
		ip netns add "$PFX$h"
		if [[ -z ${IP6[$h]:-} ]]; then
			nsx "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		else
			nsx "$h" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0
		fi
		mac=$(printf '02:77:00:00:00:%02x' "${IP4[$h]##*.}")
		ip -n "${PFX}sw" link add "v-$h" type veth peer name eth0 netns "$PFX$h"
		ip -n "${PFX}sw" link set "v-$h" master br0 up
		ip -n "$PFX$h" link set lo up
		ip -n "$PFX$h" link set eth0 address "$mac" up
		ip -n "$PFX$h" addr add "${IP4[$h]}/24" dev eth0
		if [[ -n ${IP6[$h]:-} ]]; then
			ip -n "$PFX$h" addr add "${IP6[$h]}/64" dev eth0 nodad
		fi
	done
}

# offloads on|off: TSO/GSO/GRO and TX checksum offload on every veth end.
# "off" makes the kernel hand tcpdump wire-sized segments with correct
# checksums; "on" is the veth default (TSO/GSO on, GRO off, TX checksum on),
# so captures show segments larger than the MTU and unfilled checksums, as a
# capture on a sending host with offloads does.
OFFLOADS=
offloads() {
	local mode=$1 h dev
	if [[ $mode == off ]]; then
		set -- tx off tso off gso off gro off
	else
		set -- tx on tso on gso on gro off
	fi
	for h in "${HOSTS[@]}"; do
		ip netns exec "${PFX}sw" ethtool -K "v-$h" "$@" >/dev/null 2>&1 || true
		for dev in $(ip -n "$PFX$h" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
			ip netns exec "$PFX$h" ethtool -K "$dev" "$@" >/dev/null 2>&1 || true
		done
	done
	OFFLOADS=$mode
}

wait_port() { # ns proto(tcp|udp) port [pid of the server] [seconds, default 10]
	local ns=$1 proto=$2 port=$3 pid=${4:-} flag=-Hltn
	[[ $proto == udp ]] && flag=-Hlun
	for _ in $(seq $((${5:-10} * 20))); do
		if nsx "$ns" ss "$flag" "sport = :$port" | grep -q .; then return 0; fi
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			die "server for $proto/$port in $PFX$ns exited: $(tail -3 "$WORK/log/"*"-$CAP_NAME.log" 2>/dev/null)"
		fi
		sleep 0.05
	done
	die "nothing listens on $proto/$port in $PFX$ns"
}

wait_pid() { # pid [seconds]: wait for a background job, kill it after the timeout
	local pid=$1 t=${2:-10} i
	for ((i = 0; i < t * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.05
	done
	log "pid $pid still running after ${t}s, stopping it"
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

bg() { # name ns cmd...: start a long-running process in a namespace
	local name=$1 ns=$2; shift 2
	# a simple command (no function) so that $! is the process itself:
	# ip netns exec execs the program in place
	ip netns exec "$PFX$ns" "$@" >"$WORK/log/$name.log" 2>&1 &
	BG_PIDS+=($!)
	LAST_BG=$!
}

# --------------------------------------------------------------- capturing --
CAP_FILE=
CAP_NAME=
cap_start() { # name ns iface filter [tcpdump args...]
	local name=$1 ns=$2 ifc=$3 filter=$4; shift 4
	CAP_NAME=$name
	CAP_FILE=$RAW/$name
	log "recording $name"
	ip netns exec "$PFX$ns" tcpdump -i "$ifc" -s 0 -U --immediate-mode -n -Z root "$@" \
		-w "$CAP_FILE" "$filter" >"$WORK/log/tcpdump-$name.log" 2>&1 &
	CAP_PID=$!
	for _ in $(seq 100); do
		grep -q 'listening on' "$WORK/log/tcpdump-$name.log" && break
		kill -0 "$CAP_PID" 2>/dev/null || die "tcpdump failed: $(cat "$WORK/log/tcpdump-$name.log")"
		sleep 0.05
	done
	sleep 0.2
}
cap_stop() {
	sleep 0.5
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || die "tcpdump for $CAP_NAME exited with $?"
	CAP_PID=
	local n
	n=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$WORK/log/tcpdump-$CAP_NAME.log")
	log "  $CAP_NAME: ${n:-?} packets, $(stat -c %s "$CAP_FILE") bytes (offloads $OFFLOADS)"
	[[ ${n:-0} -gt 0 ]] || die "$CAP_NAME: nothing captured"
}
# pair filter: both hosts, so ARP/ND between them may show up but nothing else
pair() { echo "host $1 and host $2"; }
BRCAP=(sw br0)

# manifest row for expected.py:
#   file  expect  checks  flows  offloads  software  description  keylog
# expect: "proto/port:class=..,ver=..,app=..,starttls=.." entries keyed by the
#         server port; every flow of the capture must match one (expected.py
#         derives the verdicts from the packets and fails on a mismatch).
manifest() {
	local file=$1 expect=$2 checks=$3 flows=$4 software=$5 desc=$6 keylog=${7:-}
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$expect" "$checks" "$flows" \
		"$OFFLOADS" "$software" "$desc" "$keylog" >>"$WORK/manifest.tsv"
}

# ------------------------------------------------------------------- certs --
make_pki() {
	local d=$PKI
	mkdir -p "$d"
	chmod 700 "$d"
	local sans="DNS:localhost" n h
	for n in api legacy payments db mail files pq hrr mtls tls10 tls11 tls12 tls13 port80 ipv6 vlan cooked web nats; do
		sans+=",DNS:$n.internal"
	done
	for h in "${HOSTS[@]}"; do sans+=",IP:${IP4[$h]}"; done
	for h in "${!IP6[@]}"; do sans+=",IP:${IP6[$h]}"; done
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3 -keyout "$d/ca.key" -out "$d/ca.pem" \
		-subj "/O=tlsaudit testdata/CN=tlsaudit throwaway CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	cat >"$d/server.ext" <<-EOF
		basicConstraints=CA:FALSE
		keyUsage=critical,digitalSignature,keyEncipherment
		extendedKeyUsage=serverAuth
		subjectAltName=$sans
	EOF
	cat >"$d/client.ext" <<-EOF
		basicConstraints=CA:FALSE
		keyUsage=critical,digitalSignature
		extendedKeyUsage=clientAuth
		subjectAltName=DNS:batch.internal
	EOF
	local who
	for who in server client; do
		local cn=api.internal
		[[ $who == client ]] && cn=batch.internal
		openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$d/$who.key" -out "$d/$who.csr" \
			-subj "/O=tlsaudit testdata/CN=$cn" 2>/dev/null
		openssl x509 -req -sha256 -days 3 -in "$d/$who.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
			-CAcreateserial -extfile "$d/$who.ext" -out "$d/$who.pem" 2>/dev/null
	done
	openssl verify -CAfile "$d/ca.pem" "$d/server.pem" "$d/client.pem" >/dev/null
}

# ----------------------------------------------------------------- servers --
start_nginx() { # name ns conf-template
	local name=$1 ns=$2 tmpl=$3 dir=$WORK/nginx-$1
	mkdir -p "$dir/tmp"
	sed -e "s|@DIR@|$dir|g" -e "s|@PKI@|$PKI|g" -e "s|@WWW@|$WORK/www|g" \
		-e "s|@API4@|${IP4[api]}|g" -e "s|@API6@|${IP6[api]}|g" "$tmpl" >"$dir/nginx.conf"
	nsx "$ns" nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
	bg "nginx-$name" "$ns" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
}

make_www() {
	local w=$WORK/www i
	mkdir -p "$w/api" "$w/static"
	{
		echo '<!doctype html><html><head><title>tlsaudit test service</title></head><body>'
		for i in $(seq 1 40); do echo "<p>row $i: the quick brown fox jumps over the lazy dog</p>"; done
		echo '</body></html>'
	} >"$w/index.html"
	{
		printf '{"orders":['
		for i in $(seq 1 60); do printf '{"id":%d,"sku":"SKU-%04d","qty":%d},' "$i" "$((i * 37 % 1000))" "$((i % 7 + 1))"; done
		printf '{"id":0}]}\n'
	} >"$w/api/orders.json"
	head -c 6000 /dev/zero | tr '\0' 'x' | fold -w 79 >"$w/static/app.js"
	echo ok >"$w/healthz"
}

PGBIN=
start_postgres() {
	PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
	local d=$WORK/pg
	mkdir -p "$d"
	cp "$PKI/server.pem" "$PKI/server.key" "$d/"
	chown -R postgres: "$d"
	chmod 700 "$d"
	chmod 600 "$d/server.key"
	PG_DATA=$d/data
	runuser -u postgres -- "$PGBIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --locale=C \
		--no-sync >"$WORK/log/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$WORK/log/initdb.log")"
	cat >"$PG_DATA/pg_hba.conf" <<-EOF
		local all all trust
		host all all 10.77.0.0/24 trust
	EOF
	nsx db runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$d/postgres.log" -w -t 30 \
		-o "-c listen_addresses=${IP4[db]} -c port=5432 -c unix_socket_directories=$d -c ssl=on -c ssl_cert_file=$d/server.pem -c ssl_key_file=$d/server.key -c fsync=off -c log_connections=on" \
		start >/dev/null
	runuser -u postgres -- psql -X -q -h "$d" -U postgres -d postgres \
		-c "CREATE TABLE orders(id int primary key, sku text, qty int); INSERT INTO orders SELECT i, 'SKU-'||i, i%7+1 FROM generate_series(1,50) i;"
}

start_servers() {
	log "starting servers"
	make_www
	# nginx on api: plain HTTP on 80, HTTPS (TLS 1.2-1.3, h2) on 443, TLS 1.2-only on 8443; IPv4 and IPv6
	start_nginx api api "$HELPERS/nginx-api.conf"
	# nginx on server: plain HTTP on 443 and 8080 (port that does not match the protocol)
	start_nginx plain server "$HELPERS/nginx-plain.conf"
	start_postgres
	mkdir -p "$WORK/redis"
	bg redis cache redis-server --bind "${IP4[cache]}" --port 6379 --save '' --appendonly no \
		--protected-mode no --daemonize no --dir "$WORK/redis" --rename-command COMMAND ""
	mkdir -p "$WORK/ssh" /run/sshd
	chmod 755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C 'ta-api host key' -f "$WORK/ssh/host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C 'admin@ta-admin' -f "$WORK/ssh/id_ed25519"
	cp "$WORK/ssh/id_ed25519.pub" "$WORK/ssh/authorized_keys"
	sed -e "s|@DIR@|$WORK/ssh|g" -e "s|@ADDR@|${IP4[api]}|g" "$HELPERS/sshd_config" >"$WORK/ssh/sshd_config"
	bg sshd api /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
	bg dnsmasq dns dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
		--listen-address="${IP4[dns]}" --bind-interfaces --port=53 --pid-file="$WORK/dnsmasq.pid" \
		--log-facility=- --host-record=api.internal,"${IP4[api]}" --host-record=db.internal,"${IP4[db]}" \
		--host-record=cache.internal,"${IP4[cache]}" --host-record=legacy.internal,"${IP4[legacy]}" \
		"--txt-record=_config.internal,owner=platform team,env=test"
	wait_port api tcp 443
	wait_port api tcp 80
	wait_port api tcp 8443
	wait_port api tcp 8447
	wait_port server tcp 443
	wait_port db tcp 5432
	wait_port cache tcp 6379
	wait_port api tcp 22
	wait_port dns udp 53
}

# ---------------------------------------------------------------- clients --
# openssl s_server (-rev: answers every line reversed) for one connection.
s_server() { # ns port args...
	local ns=$1 port=$2; shift 2
	bg "s_server-$CAP_NAME" "$ns" openssl s_server -accept "$port" -naccept 1 -rev \
		-cert "$PKI/server.pem" -key "$PKI/server.key" "$@"
	SRV_PID=$LAST_BG
	wait_port "$ns" tcp "${port##*:}" "$SRV_PID"
}
# openssl s_client sending one line; stdin stays open long enough for the answer
s_client() { # ns line args...
	local ns=$1 line=$2; shift 2
	{ printf '%s\n' "$line"; sleep 0.7; } |
		nsx "$ns" openssl s_client -nocommands -CAfile "$PKI/ca.pem" -verify_return_error \
			-keylogfile "$KEYS/$CAP_NAME.keys" "$@" >>"$WORK/log/s_client-$CAP_NAME.log" 2>&1 ||
		die "s_client failed for $CAP_NAME: $(tail -5 "$WORK/log/s_client-$CAP_NAME.log")"
}
tlspeer() { nsx "$1" "$WORK/bin/tlspeer" "${@:2}"; }
curl_() { # ns args...
	local ns=$1; shift
	nsx "$ns" env SSLKEYLOGFILE="$KEYS/$CAP_NAME.keys" curl -sS --max-time 10 --cacert "$PKI/ca.pem" -o /dev/null \
		-w '%{http_code} %{http_version} %{url_effective}\n' "$@" >>"$WORK/log/curl-$CAP_NAME.log" 2>&1 ||
		die "curl failed for $CAP_NAME: $(tail -3 "$WORK/log/curl-$CAP_NAME.log")"
}
psql_() { # ns conninfo sql
	nsx "$1" psql -X -A -t "$2" -c "$3" >>"$WORK/log/psql-$CAP_NAME.log" 2>&1 ||
		die "psql failed for $CAP_NAME: $(tail -3 "$WORK/log/psql-$CAP_NAME.log")"
}
redis_() { # ns commands (one per line, sent on one connection)
	printf '%s\n' "$2" | nsx "$1" redis-cli -h "${IP4[cache]}" -p 6379 >>"$WORK/log/redis-$CAP_NAME.log" 2>&1 ||
		die "redis-cli failed for $CAP_NAME"
}
ssh_() { # ns user command
	nsx "$1" ssh -F /dev/null -i "$WORK/ssh/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 "$2@${IP4[api]}" "$3" \
		>>"$WORK/log/ssh-$CAP_NAME.log" 2>&1
}
dig_() { # ns args...
	local ns=$1; shift
	nsx "$ns" dig +tries=1 +time=3 @"${IP4[dns]}" "$@" >>"$WORK/log/dig-$CAP_NAME.log" 2>&1 ||
		die "dig failed for $CAP_NAME"
}

C=${IP4[client]} S=${IP4[server]} API=${IP4[api]}
SECLEVEL0=(-cipher 'DEFAULT@SECLEVEL=0')

# the clear-text protocol scenarios (syslog, SNMP, NTP, MQTT, NATS, ...)
# shellcheck source=testdata/protocols.sh
source "$HELPERS/protocols.sh"
# the STARTTLS scenarios (IMAP, POP3, FTP, LDAP, MySQL)
# shellcheck source=testdata/starttls.sh
source "$HELPERS/starttls.sh"

# -------------------------------------------------------------- scenarios --
rec_openssl_versions() {
	local v flag extra sw
	sw="OpenSSL $V_OPENSSL s_server -rev / s_client"
	for v in 10 11 12 13; do
		case $v in
		10) flag=-tls1 extra=("${SECLEVEL0[@]}") ;;
		11) flag=-tls1_1 extra=("${SECLEVEL0[@]}") ;;
		12) flag=-tls1_2 extra=() ;;
		13) flag=-tls1_3 extra=() ;;
		esac
		cap_start "tls$v-openssl.pcap" "${BRCAP[@]}" "$(pair "$C" "$S")"
		s_server server 4433 "$flag" "${extra[@]}" -alpn http/1.1
		s_client client "hello over TLS ${v:0:1}.${v:1:1}" -connect "$S:4433" -servername "tls$v.internal" \
			-alpn h2,http/1.1 "$flag" "${extra[@]}"
		wait_pid "$SRV_PID"
		cap_stop
		local ver="TLS${v:0:1}.${v:1:1}"
		manifest "tls$v-openssl.pcap" "tcp/4433:class=tls,ver=$ver" "" 1 "$sw" \
			"openssl s_client $flag → s_server $flag${extra:+ (-cipher DEFAULT@SECLEVEL=0 on both sides)}; SNI tls$v.internal; client offers ALPN h2,http/1.1, server only http/1.1; one line of application data answered reversed" \
			"$KEYS/tls$v-openssl.pcap.keys"
	done
}

rec_mtls() {
	cap_start tls12-mtls-openssl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	s_server server 4433 -tls1_2 -Verify 1 -CAfile "$PKI/ca.pem" -verify_return_error -alpn http/1.1
	s_client client "hello with a client certificate" -connect "$S:4433" -servername mtls.internal -tls1_2 \
		-alpn http/1.1 -cert "$PKI/client.pem" -key "$PKI/client.key"
	wait_pid "$SRV_PID"
	cap_stop
	manifest tls12-mtls-openssl.pcap "tcp/4433:class=tls,ver=TLS1.2" "client_cert" 1 \
		"OpenSSL $V_OPENSSL s_server -Verify / s_client -cert" \
		"mutual TLS 1.2: the server requests a certificate (CertificateRequest) and the client sends one (CN=batch.internal), both visible in clear in TLS 1.2; SNI mtls.internal, ALPN http/1.1" \
		"$KEYS/tls12-mtls-openssl.pcap.keys"
}

# Client certificates, one server port per setup (port:cert:requested as the
# client_auth check spells it): 4441 the server does not ask and the client
# holds a certificate (sends none), 4442 the server asks (-verify) and the
# client has none (empty Certificate), 4443 the server asks and the client
# sends one, 4444 the server requires one (-Verify) and the client sends it.
CLIENT_AUTH_SETUPS="4441:no:no,4442:no:yes,4443:yes:yes,4444:yes:yes"
rec_client_auth_openssl() { # file version-flag [s_server args...]
	local file=$1 flag=$2 port expect="" ver=TLS1.3 verify cert
	shift 2
	[[ $flag == -tls1_2 ]] && ver=TLS1.2
	local ca=(-CAfile "$PKI/ca.pem") mine=(-cert "$PKI/client.pem" -key "$PKI/client.key")
	cap_start "$file" "${BRCAP[@]}" "$(pair "$C" "$S")"
	local pids=()
	for port in 4441 4442 4443 4444; do
		case $port in
		4441) verify=() ;;
		4442 | 4443) verify=(-verify 1 "${ca[@]}") ;;
		4444) verify=(-Verify 1 "${ca[@]}" -verify_return_error) ;;
		esac
		s_server server "$S:$port" "$flag" "$@" "${verify[@]}"
		pids+=("$SRV_PID")
		expect+=" tcp/$port:class=tls,ver=$ver"
	done
	for port in 4441 4442 4443 4444; do
		cert=("${mine[@]}")
		[[ $port == 4442 ]] && cert=()
		s_client client "client auth setup $port" -connect "$S:$port" -servername mtls.internal "$flag" "${cert[@]}"
	done
	local pid
	for pid in "${pids[@]}"; do wait_pid "$pid"; done
	cap_stop
	manifest "$file" "${expect# }" "client_auth=$CLIENT_AUTH_SETUPS" 4 "OpenSSL $V_OPENSSL s_server -verify/-Verify / s_client -cert" \
		"client certificates at $ver${*:+ ($*)}: port 4441 no request (the client holds a certificate and sends none), 4442 -verify and a client without one (empty Certificate), 4443 -verify with one, 4444 -Verify with one; SNI mtls.internal" \
		"$KEYS/$file.keys"
}

rec_client_auth() {
	rec_client_auth_openssl tls13-clientauth-aes128gcm-openssl.pcap -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
	rec_client_auth_openssl tls13-clientauth-aes256gcm-openssl.pcap -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
	rec_client_auth_openssl tls13-clientauth-chacha20-openssl.pcap -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
	rec_client_auth_openssl tls12-clientauth-openssl.pcap -tls1_2

	cap_start tls13-mtls-go.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	bg "tlspeer-$CAP_NAME" server "$WORK/bin/tlspeer" -listen "$S:4441" -n 1 -v -client-auth -ca "$PKI/ca.pem" \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$KEYS/$CAP_NAME.keys"
	SRV_PID=$LAST_BG
	wait_port server tcp 4441 "$SRV_PID"
	tlspeer client -connect "$S:4441" -sni mtls.internal -ca "$PKI/ca.pem" -cert "$PKI/client.pem" -key "$PKI/client.key" \
		-send "with a client certificate" -v >>"$WORK/log/tlspeer-client-$CAP_NAME.log" 2>&1 || die "tlspeer client failed"
	wait_pid "$SRV_PID"
	cap_stop
	manifest tls13-mtls-go.pcap "tcp/4441:class=tls,ver=TLS1.3" "client_auth=4441:yes:yes" 1 \
		"test/tlspeer (Go $V_GO crypto/tls) client and server" \
		"mutual TLS 1.3 between Go crypto/tls peers: the server requires and verifies a client certificate (RequireAndVerifyClientCert), the client sends one (CN=batch.internal); CertificateRequest and Certificate are encrypted; SNI mtls.internal" \
		"$KEYS/tls13-mtls-go.pcap.keys"
}

rec_nginx() {
	cap_start https-nginx-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$API")"
	curl_ client --resolve "api.internal:443:$API" https://api.internal/index.html
	cap_stop
	manifest https-nginx-curl.pcap "tcp/443:class=tls,ver=TLS1.3" "" 1 "curl $V_CURL → nginx $V_NGINX" \
		"HTTPS GET /index.html, TLS 1.3, curl offers ALPN h2,http/1.1 and nginx picks h2 (inside EncryptedExtensions, so not visible on the wire); SNI api.internal" \
		"$KEYS/https-nginx-curl.pcap.keys"

	cap_start https-tls12-nginx-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$API")"
	curl_ client --tlsv1.2 --tls-max 1.2 --http1.1 --resolve "api.internal:443:$API" https://api.internal/api/orders.json
	cap_stop
	manifest https-tls12-nginx-curl.pcap "tcp/443:class=tls,ver=TLS1.2" "" 1 "curl $V_CURL → nginx $V_NGINX" \
		"HTTPS GET /api/orders.json with curl --tls-max 1.2 --http1.1: TLS 1.2, the ServerHello carries the selected ALPN http/1.1 in clear; SNI api.internal" \
		"$KEYS/https-tls12-nginx-curl.pcap.keys"

	# client certificates: 8444/8445 ssl_verify_client optional, 8446/8447 on
	cap_start tls13-clientauth-nginx-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$API")"
	local mine=(--cert "$PKI/client.pem" --key "$PKI/client.key") port
	for port in 8444 8445 8446 8447; do
		case $port in
		8445 | 8446) curl_ client "${mine[@]}" --resolve "mtls.internal:$port:$API" "https://mtls.internal:$port/healthz" ;;
		*) curl_ client --resolve "mtls.internal:$port:$API" "https://mtls.internal:$port/healthz" ;;
		esac
	done
	cap_stop
	manifest tls13-clientauth-nginx-curl.pcap \
		"tcp/8444:class=tls,ver=TLS1.3 tcp/8445:class=tls,ver=TLS1.3 tcp/8446:class=tls,ver=TLS1.3 tcp/8447:class=tls,ver=TLS1.3" \
		"client_auth=8444:no:yes,8445:yes:yes,8446:yes:yes,8447:no:yes" 4 "curl $V_CURL → nginx $V_NGINX" \
		"client certificates at TLS 1.3: ssl_verify_client optional on 8444 (curl without a certificate) and 8445 (with one), ssl_verify_client on for 8446 (with one) and 8447 (without: the handshake completes and nginx answers 400); SNI mtls.internal" \
		"$KEYS/tls13-clientauth-nginx-curl.pcap.keys"

	cap_start http-nginx-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$API")"
	curl_ client "http://$API/index.html"
	curl_ client -X POST -H 'Content-Type: application/json' --data '{"user":"alice","password":"hunter2"}' "http://$API/login"
	cap_stop
	manifest http-nginx-curl.pcap "tcp/80:class=plaintext,app=http" "" 2 "curl $V_CURL → nginx $V_NGINX" \
		"plain HTTP on port 80: GET /index.html, then a POST /login with a JSON body carrying a password (what the tool is meant to find)"

	cap_start tls13-ipv6-nginx-curl.pcap "${BRCAP[@]}" "$(pair "${IP6[client]}" "${IP6[api]}")"
	curl_ client --resolve "ipv6.internal:443:[${IP6[api]}]" https://ipv6.internal/healthz
	cap_stop
	manifest tls13-ipv6-nginx-curl.pcap "tcp/443:class=tls,ver=TLS1.3" "ipv6" 1 "curl $V_CURL → nginx $V_NGINX" \
		"HTTPS over IPv6 (ULA fd00:77::/64): TLS 1.3, SNI ipv6.internal, h2 negotiated inside EncryptedExtensions" \
		"$KEYS/tls13-ipv6-nginx-curl.pcap.keys"

	cap_start http-on-443-nginx.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	curl_ client "http://$S:443/index.html"
	cap_stop
	manifest http-on-443-nginx.pcap "tcp/443:class=plaintext,app=http" "" 1 "curl $V_CURL → nginx $V_NGINX (listen 443 without ssl)" \
		"plain HTTP on port 443 (curl http://10.77.0.20:443/): the port says HTTPS, the bytes say plaintext"

	cap_start tls-on-80-openssl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	s_server server 80 -alpn http/1.1
	s_client client "hello on port 80" -connect "$S:80" -servername port80.internal -alpn http/1.1
	wait_pid "$SRV_PID"
	cap_stop
	manifest tls-on-80-openssl.pcap "tcp/80:class=tls,ver=TLS1.3" "" 1 "OpenSSL $V_OPENSSL s_server -accept 80 / s_client" \
		"TLS 1.3 on port 80: the port says HTTP, the bytes say TLS; SNI port80.internal" \
		"$KEYS/tls-on-80-openssl.pcap.keys"
}

rec_postgres() {
	local db=${IP4[db]}
	cap_start pg-plain-psql.pcap "${BRCAP[@]}" "$(pair "$C" "$db")"
	psql_ client "host=$db port=5432 user=postgres dbname=postgres sslmode=disable gssencmode=disable application_name=report" \
		"SELECT id, sku, qty FROM orders ORDER BY id LIMIT 5"
	cap_stop
	manifest pg-plain-psql.pcap "tcp/5432:class=plaintext,app=postgresql" "" 1 "psql/libpq $V_PG → PostgreSQL $V_PG" \
		"psql with sslmode=disable: startup message, trust auth, a SELECT and its rows, all in clear"

	cap_start pg-ssl-psql.pcap "${BRCAP[@]}" "$(pair "$C" "$db")"
	psql_ client "host=db.internal hostaddr=$db port=5432 user=postgres dbname=postgres sslmode=require gssencmode=disable application_name=report" \
		"SELECT count(*) FROM orders"
	cap_stop
	manifest pg-ssl-psql.pcap "tcp/5432:class=tls,ver=TLS1.3,app=postgresql,starttls=true" "" 1 "psql/libpq $V_PG → PostgreSQL $V_PG (ssl=on)" \
		"psql with sslmode=require: an 8-byte SSLRequest, the server's 'S', then a TLS 1.3 handshake (SNI db.internal, no ALPN: libpq 15 sends none) and the query inside TLS. The server's default ssl_ecdh_curve=prime256v1 rejects the client's X25519 key share, so the handshake includes a HelloRetryRequest"
}

rec_redis() {
	cap_start redis-plain.pcap "${BRCAP[@]}" "$(pair "$C" "${IP4[cache]}")"
	redis_ client $'SET session:42 "user=alice;role=admin"\nGET session:42\nINCR hits'
	cap_stop
	manifest redis-plain.pcap "tcp/6379:class=plaintext,app=redis" "" 1 "redis-cli → redis-server $V_REDIS" \
		"redis-cli SET/GET/INCR on one connection (RESP in clear)"
}

rec_ssh() {
	cap_start ssh-openssh.pcap "${BRCAP[@]}" "$(pair "$C" "$API")"
	# shellcheck disable=SC2016 # expanded by the remote shell
	ssh_ client root 'echo connected to $(hostname)' || die "ssh login failed: $(tail -3 "$WORK/log/ssh-$CAP_NAME.log")"
	if ssh_ client nobody true; then die "ssh login as nobody should fail"; fi
	cap_stop
	manifest ssh-openssh.pcap "tcp/22:class=ssh,app=ssh" "" 2 "$V_SSH ssh → sshd" \
		"two SSH connections: a key-authenticated login running one command, then a login as a user whose key is not accepted (fails after the key exchange); banners and KEXINIT in clear, rest encrypted"
}

rec_dns() {
	cap_start dns-udp-dig.pcap "${BRCAP[@]}" "$(pair "$C" "${IP4[dns]}")"
	dig_ client api.internal A
	cap_stop
	manifest dns-udp-dig.pcap "udp/53:class=plaintext,app=dns" "" 1 "dig $V_DIG → dnsmasq $V_DNSMASQ" \
		"one DNS query over UDP (A api.internal) and its answer"

	cap_start dns-tcp-dig.pcap "${BRCAP[@]}" "$(pair "$C" "${IP4[dns]}")"
	dig_ client +tcp _config.internal TXT
	cap_stop
	manifest dns-tcp-dig.pcap "tcp/53:class=plaintext,app=dns" "" 1 "dig $V_DIG → dnsmasq $V_DNSMASQ" \
		"one DNS query over TCP (dig +tcp, TXT _config.internal)"
}

rec_smtp() {
	cap_start smtp-starttls.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	bg "tlspeer-$CAP_NAME" server "$WORK/bin/tlspeer" -listen "$S:25" -starttls smtp -n 1 -v \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$KEYS/$CAP_NAME.keys"
	SRV_PID=$LAST_BG
	wait_port server tcp 25 "$SRV_PID"
	s_client client "QUIT" -starttls smtp -connect "$S:25" -servername mail.internal
	wait_pid "$SRV_PID"
	cap_stop
	manifest smtp-starttls.pcap "tcp/25:class=tls,ver=TLS1.3,app=smtp,starttls=true" "" 1 \
		"OpenSSL $V_OPENSSL s_client -starttls smtp → test/tlspeer -starttls smtp (Go $V_GO)" \
		"SMTP on port 25: 220 banner, EHLO, 250-STARTTLS, STARTTLS, 220, then a TLS 1.3 handshake (SNI mail.internal) and QUIT inside TLS" \
		"$KEYS/smtp-starttls.pcap.keys"
}

rec_go() {
	local sw="test/tlspeer (Go $V_GO crypto/tls) client and server"
	cap_start go-pq-two-segments.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	bg "tlspeer-$CAP_NAME" server "$WORK/bin/tlspeer" -listen "$S:8443" -n 1 -v -alpn h2,http/1.1 \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$KEYS/$CAP_NAME.keys"
	SRV_PID=$LAST_BG
	wait_port server tcp 8443 "$SRV_PID"
	tlspeer client -connect "$S:8443" -sni pq.internal -alpn h2,http/1.1 -ca "$PKI/ca.pem" -send "GET /status" -v \
		>>"$WORK/log/tlspeer-client-$CAP_NAME.log" 2>&1 || die "tlspeer client failed"
	wait_pid "$SRV_PID"
	cap_stop
	manifest go-pq-two-segments.pcap "tcp/8443:class=tls,ver=TLS1.3" "clienthello_segments=2" 1 "$sw" \
		"default Go ClientHello with X25519MLKEM768 and X25519 key shares (~1.5 KB): at MTU 1500 with offloads off it spans two TCP segments (tshark reassembles it from 2); SNI pq.internal, ALPN h2 chosen inside EncryptedExtensions" \
		"$KEYS/go-pq-two-segments.pcap.keys"

	cap_start go-hrr.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	bg "tlspeer-$CAP_NAME" server "$WORK/bin/tlspeer" -listen "$S:8443" -n 1 -v -curves P256 \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$KEYS/$CAP_NAME.keys"
	SRV_PID=$LAST_BG
	wait_port server tcp 8443 "$SRV_PID"
	tlspeer client -connect "$S:8443" -sni hrr.internal -ca "$PKI/ca.pem" -send "retry" -v \
		>>"$WORK/log/tlspeer-client-$CAP_NAME.log" 2>&1 || die "tlspeer client failed"
	grep -q 'hrr=true' "$WORK/log/tlspeer-client-$CAP_NAME.log" || die "no HelloRetryRequest in $CAP_NAME"
	wait_pid "$SRV_PID"
	cap_stop
	manifest go-hrr.pcap "tcp/8443:class=tls,ver=TLS1.3" "hrr clienthello_count=2" 1 "$sw" \
		"TLS 1.3 HelloRetryRequest: the server only accepts P-256, the client's first ClientHello has X25519MLKEM768/X25519 key shares, so the server answers with an HRR and the client sends a second ClientHello with a P-256 share; SNI hrr.internal, no ALPN" \
		"$KEYS/go-hrr.pcap.keys"
}

rec_go_offloads_on() {
	cap_start go-pq-offloads-on.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	bg "tlspeer-$CAP_NAME" server "$WORK/bin/tlspeer" -listen "$S:8443" -n 1 -v -alpn h2,http/1.1 \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$KEYS/$CAP_NAME.keys"
	SRV_PID=$LAST_BG
	wait_port server tcp 8443 "$SRV_PID"
	tlspeer client -connect "$S:8443" -sni pq.internal -alpn h2,http/1.1 -ca "$PKI/ca.pem" -send "GET /status" -v \
		>>"$WORK/log/tlspeer-client-$CAP_NAME.log" 2>&1 || die "tlspeer client failed"
	wait_pid "$SRV_PID"
	cap_stop
	manifest go-pq-offloads-on.pcap "tcp/8443:class=tls,ver=TLS1.3" "clienthello_segments=1 oversize" 1 \
		"test/tlspeer (Go $V_GO crypto/tls) client and server" \
		"same exchange as go-pq-two-segments.pcap but with TSO/GSO on: the ~1.5 KB ClientHello is one IP packet larger than the 1500-byte MTU (as seen on a sending host), and TCP checksums are left to the (virtual) NIC" \
		"$KEYS/go-pq-offloads-on.pcap.keys"
}

rec_vlan() {
	# The kernel this was written on has no 802.1Q support (no vlan devices,
	# no tc vlan action, no bridge VLAN filtering), so the frames are recorded
	# untagged and tcprewrite inserts the 802.1Q header afterwards; the
	# conversation itself is real.
	local raw=vlan-untagged.pcap name=vlan100-mixed.pcap
	cap_start "$raw" "${BRCAP[@]}" "$(pair "$C" "$S")"
	CAP_NAME=$name
	curl_ client "http://$S:8080/healthz"
	s_server server 4433 -alpn http/1.1
	s_client client "hello over vlan $VLAN_ID" -connect "$S:4433" -servername vlan.internal -alpn http/1.1
	wait_pid "$SRV_PID"
	CAP_NAME=$raw
	cap_stop
	tcprewrite --enet-vlan=add --enet-vlan-tag="$VLAN_ID" --enet-vlan-pri=0 --enet-vlan-cfi=0 \
		--infile="$RAW/$raw" --outfile="$RAW/$name"
	rm -f "$RAW/$raw"
	manifest "$name" "tcp/8080:class=plaintext,app=http tcp/4433:class=tls,ver=TLS1.3" "vlan=$VLAN_ID" 2 \
		"curl $V_CURL → nginx $V_NGINX; OpenSSL $V_OPENSSL s_client → s_server; tcprewrite $V_TCPREWRITE --enet-vlan=add" \
		"802.1Q VLAN $VLAN_ID tagged frames: plain HTTP GET on port 8080, then TLS 1.3 (SNI vlan.internal). Recorded untagged, then every frame tagged with tcprewrite (the recording kernel has no 802.1Q support)" \
		"$KEYS/$name.keys"
}

rec_cooked() {
	# tcpdump -i any inside the client namespace: Linux cooked capture v2 (SLL2)
	cap_start sll2-redis-plain.pcap client any "$(pair "$C" "${IP4[cache]}")"
	redis_ client $'AUTH default not-a-real-password\nPING\nGET session:42'
	cap_stop
	manifest sll2-redis-plain.pcap "tcp/6379:class=plaintext,app=redis" "linktype=LINUX_SLL2" 1 \
		"redis-cli → redis-server $V_REDIS; tcpdump -i any" \
		"Linux cooked capture v2 (tcpdump -i any in the client namespace): redis-cli AUTH (fails: no password set), PING, GET in clear"

	# -y LINUX_SLL: Linux cooked capture v1, taken in the server namespace
	cap_start sll-tls12-openssl.pcap server any "$(pair "$C" "$S")" -y LINUX_SLL
	s_server server 4433 -tls1_2 -alpn http/1.1
	s_client client "hello cooked" -connect "$S:4433" -servername cooked.internal -alpn h2,http/1.1 -tls1_2
	wait_pid "$SRV_PID"
	cap_stop
	manifest sll-tls12-openssl.pcap "tcp/4433:class=tls,ver=TLS1.2" "linktype=LINUX_SLL" 1 \
		"OpenSSL $V_OPENSSL s_server / s_client; tcpdump -i any -y LINUX_SLL" \
		"Linux cooked capture v1 (tcpdump -i any -y LINUX_SLL in the server namespace): TLS 1.2, SNI cooked.internal, ALPN http/1.1" \
		"$KEYS/sll-tls12-openssl.pcap.keys"
}

rec_demo() {
	local name=demo-mix.pcapng raw=demo-mix.pcap
	local web=${IP4[web]} batch=${IP4[batch]} legacy=${IP4[legacy]}
	CAP_NAME=$name
	bg "s_server-legacy" legacy openssl s_server -accept 8443 -naccept 2 -rev -tls1 \
		"${SECLEVEL0[@]}" -cert "$PKI/server.pem" -key "$PKI/server.key"
	local legacy_pid=$LAST_BG
	wait_port legacy tcp 8443 "$legacy_pid"
	cap_start "$raw" "${BRCAP[@]}" "net 10.77.0.0/24 and (ip or arp)"
	CAP_NAME=$name
	(   # web: resolves api, then talks HTTPS (TLS 1.3, h2) to it
		for i in 1 2 3; do
			[[ $i == 1 ]] && dig_ web api.internal A
			curl_ web --resolve "api.internal:443:$API" https://api.internal/ https://api.internal/api/orders.json
			sleep 0.4
		done
		curl_ web --tlsv1.2 --tls-max 1.2 --http1.1 --resolve "payments.internal:8443:$API" https://payments.internal:8443/healthz
	) &
	local p1=$!
	(   # api: its backends (database with SSL, cache in clear, a legacy TLS 1.0 service)
		dig_ api db.internal A
		psql_ api "host=db.internal hostaddr=${IP4[db]} user=postgres dbname=postgres sslmode=require gssencmode=disable application_name=api" \
			"SELECT id, qty FROM orders WHERE id < 4"
		redis_ api $'GET session:42\nSETEX session:43 300 "user=bob;role=viewer"'
		sleep 0.3
		s_client api "legacy balance 17" -connect "$legacy:8443" -servername legacy.internal -tls1 "${SECLEVEL0[@]}"
		redis_ api $'INCR hits\nGET hits'
		psql_ api "host=db.internal hostaddr=${IP4[db]} user=postgres dbname=postgres sslmode=require gssencmode=disable application_name=api" \
			"UPDATE orders SET qty = qty + 1 WHERE id = 2"
		s_client api "legacy balance 18" -connect "$legacy:8443" -servername legacy.internal -tls1 "${SECLEVEL0[@]}"
		redis_ api $'DEL session:43'
	) &
	local p2=$!
	(   # batch: plain HTTP to api, and a TLS 1.2 job endpoint
		for i in 1 2 3; do
			curl_ batch -X POST -H 'Content-Type: application/json' --data "{\"job\":$i,\"token\":\"s3cr3t-$i\"}" "http://$API/ingest"
			sleep 0.5
		done
		curl_ batch --http1.1 --resolve "payments.internal:8443:$API" https://payments.internal:8443/api/orders.json
	) &
	local p3=$!
	(   # admin: one SSH session to api
		sleep 0.5
		ssh_ admin root 'uptime; ls /' || die "ssh from admin failed"
	) &
	local p4=$!
	local p
	for p in "$p1" "$p2" "$p3" "$p4"; do
		wait "$p" || die "a demo client failed"
	done
	wait_pid "$legacy_pid"
	CAP_NAME=$raw
	cap_stop
	editcap -F pcapng --capture-comment "tlsaudit demo: web, api, db, cache, legacy, batch, admin and dns namespaces on one bridge (scripts/record-testdata.sh)" \
		"$RAW/$raw" "$RAW/$name"
	rm -f "$RAW/$raw"
	manifest "$name" "tcp/443:class=tls,ver=TLS1.3 tcp/8443@${IP4[api]}:class=tls,ver=TLS1.2 tcp/8443@$legacy:class=tls,ver=TLS1.0 tcp/5432:class=tls,ver=TLS1.3,app=postgresql,starttls=true tcp/6379:class=plaintext,app=redis tcp/80:class=plaintext,app=http tcp/22:class=ssh,app=ssh udp/53:class=plaintext,app=dns" \
		"pcapng" 18 \
		"curl $V_CURL, nginx $V_NGINX, psql + PostgreSQL $V_PG, redis $V_REDIS, OpenSSL $V_OPENSSL, $V_SSH, dig $V_DIG + dnsmasq $V_DNSMASQ; editcap -F pcapng" \
		"demo mix, one tcpdump on br0 with filter 'net 10.77.0.0/24 and (ip or arp)', converted to pcapng (with a capture comment): web→api HTTPS (TLS 1.3, h2, 3 connections) and web→api:8443 TLS 1.2; web/api→dns DNS; api→db PostgreSQL with SSL (2, each with a HelloRetryRequest); api→cache Redis in clear (3); api→legacy TLS 1.0 (2); batch→api plain HTTP POSTs with tokens (3) and HTTPS TLS 1.2 (1); admin→api SSH (1)" \
		"$KEYS/demo-mix.pcapng.keys"
}

# OpenVPN in TLS mode, as deployed: `openvpn --server` (multi-client mode) in
# the server namespace, `openvpn --client` in the client namespace, each with
# its own tun device (tunnel 10.78.0.0/24, server 10.78.0.1). The capture on
# br0 sees only the outer UDP/TCP packets: the control channel (two hard
# resets, then the TLS handshake in P_CONTROL_V1 packets, acknowledged with
# P_ACK_V1) and the data channel (P_DATA_V2). Each session runs until the
# client logs "Initialization Sequence Completed" and one ping has crossed
# the tunnel, then both ends are stopped.
OVPN_NET=10.78.0.0 OVPN_SRV=10.78.0.1
ovpn_session() { # proto(udp|tcp) port [--both args...] [--server args...] [--client args...]
	local proto=$1 port=$2 side=both sp=udp cp=udp a
	shift 2
	local both=() srv=() cli=()
	for a in "$@"; do
		case $a in
		--both | --server | --client) side=${a#--} ;;
		*) case $side in both) both+=("$a") ;; server) srv+=("$a") ;; client) cli+=("$a") ;; esac ;;
		esac
	done
	[[ $proto == tcp ]] && sp=tcp-server cp=tcp-client
	bg "openvpn-server-$CAP_NAME" server openvpn --server "$OVPN_NET" 255.255.255.0 --topology subnet \
		--dev tun --proto "$sp" --local "$S" --port "$port" --ca "$PKI/ca.pem" --cert "$PKI/server.pem" \
		--key "$PKI/server.key" --dh none --remote-cert-tls client --verb 3 "${both[@]}" "${srv[@]}"
	local spid=$LAST_BG
	wait_port server "$proto" "$port" "$spid"
	bg "openvpn-client-$CAP_NAME" client openvpn --client --dev tun --proto "$cp" --remote "$S" "$port" \
		--nobind --ca "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client.key" \
		--remote-cert-tls server --verify-x509-name api.internal name --verb 3 "${both[@]}" "${cli[@]}"
	local cpid=$LAST_BG log=$WORK/log/openvpn-client-$CAP_NAME.log
	local i
	for ((i = 0; i < 400; i++)); do
		grep -q 'Initialization Sequence Completed' "$log" && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.05
	done
	grep -q 'Initialization Sequence Completed' "$log" ||
		die "openvpn tunnel for $CAP_NAME did not come up: $(tail -5 "$log"; tail -5 "$WORK/log/openvpn-server-$CAP_NAME.log")"
	nsx client ping -c 1 -W 5 "$OVPN_SRV" >>"$WORK/log/ping-$CAP_NAME.log" 2>&1 ||
		die "no ping across the tunnel for $CAP_NAME: $(tail -3 "$WORK/log/ping-$CAP_NAME.log")"
	OVPN_CONTROL=$(sed -n 's/.*Control Channel: \(TLSv[0-9.]*\),.*/\1/p' "$log" | head -1)
	kill -TERM "$cpid"
	wait_pid "$cpid" 5
	kill -TERM "$spid"
	wait_pid "$spid" 5
}

rec_openvpn() {
	local sw="OpenVPN $V_OPENVPN (OpenSSL $V_OPENSSL) --server / --client"
	local ta=$PKI/ovpn-ta.key
	openvpn --genkey secret "$ta"

	cap_start openvpn-udp.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	ovpn_session udp 1194
	[[ $OVPN_CONTROL == TLSv1.3 ]] || die "$CAP_NAME: control channel $OVPN_CONTROL, want TLSv1.3"
	cap_stop
	manifest openvpn-udp.pcap "udp/1194:class=tls,ver=TLS1.3,app=openvpn" "tunnel_data" 1 "$sw" \
		"OpenVPN over UDP on its default port 1194, TLS mode with default settings (no --tls-auth): hard resets, then a TLS 1.3 handshake (no SNI; client certificate CN=batch.internal) carried in P_CONTROL_V1 packets, the pushed options, and one ping across the tunnel (P_DATA_V2)"

	cap_start openvpn-udp-tls-auth.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	ovpn_session udp 4443 --both --auth SHA256 --server --tls-auth "$ta" 0 --client --tls-auth "$ta" 1
	[[ $OVPN_CONTROL == TLSv1.3 ]] || die "$CAP_NAME: control channel $OVPN_CONTROL, want TLSv1.3"
	cap_stop
	manifest openvpn-udp-tls-auth.pcap "udp/4443:class=tls,ver=TLS1.3,app=openvpn,hmac=32" "tunnel_data" 1 "$sw" \
		"OpenVPN over UDP on port 4443 (not 1194) with --tls-auth and --auth SHA256: every control packet carries a 32-byte HMAC and a replay ID (packet ID and time) in front of its acknowledgements and the TLS 1.3 handshake; one ping across the tunnel"

	cap_start openvpn-tcp-tls12.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	ovpn_session tcp 4443 --both --auth SHA512 --tls-version-max 1.2 --server --tls-auth "$ta" 0 \
		--client --tls-auth "$ta" 1
	[[ $OVPN_CONTROL == TLSv1.2 ]] || die "$CAP_NAME: control channel $OVPN_CONTROL, want TLSv1.2"
	cap_stop
	manifest openvpn-tcp-tls12.pcap "tcp/4443:class=tls,ver=TLS1.2,app=openvpn,hmac=64" "tunnel_data" 1 "$sw" \
		"OpenVPN over TCP (proto tcp-server / tcp-client) on port 4443 with --tls-auth, --auth SHA512 (64-byte HMAC) and --tls-version-max 1.2: every packet has a 2-byte length in front; a TLS 1.2 handshake (ServerHello, Certificate in clear); one ping across the tunnel"

	cap_start openvpn-udp-tls-crypt.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	ovpn_session udp 1194 --both --tls-crypt "$ta"
	[[ $OVPN_CONTROL == TLSv1.3 ]] || die "$CAP_NAME: control channel $OVPN_CONTROL, want TLSv1.3"
	cap_stop
	manifest openvpn-udp-tls-crypt.pcap "udp/1194:class=unknown,tunnel=openvpn,tlscrypt=true" "tunnel_data" 1 "$sw" \
		"OpenVPN over UDP on 1194 with --tls-crypt: opcodes, session IDs and packet IDs are in clear, but the control channel (the TLS 1.3 handshake inside) is encrypted with the pre-shared key, so nothing says TLS or names a version: the flow must stay unknown; one ping across the tunnel"
}

versions() {
	V_OPENSSL=$(openssl version | awk '{print $2}')
	V_NGINX=$(nginx -v 2>&1 | sed 's|.*nginx/||')
	V_CURL=$(curl --version | awk 'NR==1{print $2}')
	V_PG=$("$PGBIN/postgres" --version | awk '{print $3}')
	V_REDIS=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')
	V_SSH=$(ssh -V 2>&1 | sed 's/,.*//')
	V_DIG=$(dig -v 2>&1 | awk '{print $2}')
	V_DNSMASQ=$(dnsmasq --version | awk 'NR==1{print $3}')
	V_GO=$(go env GOVERSION | sed 's/^go//')
	V_TCPREWRITE=$(tcprewrite --version 2>&1 | awk 'NR==1{print $3}')
	V_OPENVPN=$(openvpn --version | awk 'NR==1{print $2}')
	V_TCPDUMP=$(tcpdump --version 2>&1 | awk 'NR==1{print $3}')
	V_LIBPCAP=$(tcpdump --version 2>&1 | awk '/libpcap/{print $3}')
	V_TSHARK=$(tshark --version 2>/dev/null | awk 'NR==1{print $3}')
	V_KERNEL=$(uname -r)
	V_DEBIAN=$(cat /etc/debian_version 2>/dev/null || echo unknown)
}

# ------------------------------------------------------------------- main --
main() {
	install_packages
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	teardown_net # leftovers from an interrupted run
	WORK=$(mktemp -d /tmp/tlsaudit-record.XXXXXX)
	chmod 755 "$WORK"
	mkdir -p "$WORK/log" "$WORK/bin" "$WORK/raw" "$WORK/keys"
	PKI=$WORK/pki RAW=$WORK/raw KEYS=$WORK/keys
	: >"$WORK/manifest.tsv"

	log "building test/tlspeer"
	(cd "$REPO" && CGO_ENABLED=0 go build -o "$WORK/bin/tlspeer" ./test/tlspeer)
	make_pki
	setup_net
	offloads off
	if [[ -n ${ONLY:-} ]]; then
		only_scenarios
		return
	fi
	start_servers
	versions
	proto_versions
	starttls_versions
	build_natspeer

	rec_openssl_versions
	rec_mtls
	rec_client_auth
	rec_nginx
	rec_postgres
	rec_redis
	rec_ssh
	rec_dns
	rec_smtp
	rec_go
	rec_vlan
	rec_cooked
	rec_demo
	rec_openvpn
	offloads on
	rec_go_offloads_on
	offloads off
	local f
	for f in "${PROTO_SCENARIOS[@]}" "${STARTTLS_SCENARIOS[@]}"; do "$f"; done

	log "checking captures with tshark and writing expected.tsv + README.md"
	mkdir -p "$OUT"
	local elapsed=$(($(date +%s) - START_TS))
	cat >"$WORK/versions.tsv" <<-EOF
		openssl	$V_OPENSSL
		nginx	$V_NGINX
		curl	$V_CURL
		postgresql	$V_PG
		redis	$V_REDIS
		openssh	$V_SSH
		dig	$V_DIG
		dnsmasq	$V_DNSMASQ
		openvpn	$V_OPENVPN
		go	$V_GO
		tcpdump	$V_TCPDUMP
		libpcap	$V_LIBPCAP
		tshark	$V_TSHARK
		kernel	$V_KERNEL
		debian	$V_DEBIAN
		seconds	$elapsed
	EOF
	local h
	for h in "${HOSTS[@]}"; do
		printf '%s\t%s\t%s\n' "$h" "${IP4[$h]}" "${IP6[$h]:-}"
	done >"$WORK/hosts.tsv"
	check_and_copy
}

# check_and_copy reads every capture of the manifest back with tshark, writes
# expected.tsv and README.md (merged into the existing ones with --merge), and
# copies the captures to $OUT.
check_and_copy() {
	python3 "$HELPERS/expected.py" --manifest "$WORK/manifest.tsv" --versions "$WORK/versions.tsv" \
		--hosts "$WORK/hosts.tsv" --pcaps "$RAW" --out "$WORK/out" "$@"
	# everything checked: replace the recorded files
	local f
	while IFS=$'\t' read -r f _; do
		cp "$RAW/$f" "$OUT/$f"
	done <"$WORK/manifest.tsv"
	cp "$WORK/out/expected.tsv" "$WORK/out/client-auth.tsv" "$WORK/out/README.md" "$OUT/"
	log "done in $(($(date +%s) - START_TS))s: $(wc -l <"$WORK/manifest.tsv") captures, $(du -sh "$OUT" | cut -f1) in $OUT"
}

# only_scenarios records just the scenarios named in $ONLY (e.g.
# ONLY="rec_syslog rec_nats") and merges their rows into the existing
# expected.tsv and README.md of $OUT, leaving every other capture as it is.
only_scenarios() {
	V_GO=$(go env GOVERSION | sed 's/^go//')
	proto_versions
	starttls_versions
	local f
	for f in $ONLY; do
		declare -F "$f" >/dev/null || die "ONLY: no scenario $f"
		[[ $f == rec_nats ]] && build_natspeer
	done
	for f in $ONLY; do "$f"; done
	: >"$WORK/versions.tsv" >"$WORK/hosts.tsv"
	check_and_copy --merge "$OUT"
}

main "$@"
