# shellcheck shell=bash
# protocols.sh - the clear-text protocol scenarios of scripts/record-testdata.sh:
# datacenter UDP protocols (syslog, SNMP, NTP, TFTP, RADIUS, SIP, NetFlow/IPFIX,
# memcached) and message buses (MQTT, NATS with and without TLS). Sourced by
# record-testdata.sh, whose helpers (bg, cap_start, cap_stop, manifest, nsx,
# wait_port, wait_pid) and variables (WORK, PKI, IP4, C) it uses. Every server
# and client is a real program from Debian 12, except NATS: nats-server and the
# nats.go client from the Go module proxy, built as scripts/testdata/natspeer.

# Commands these scenarios need -> Debian package.
declare -A PROTO_PKG_OF=(
	[logger]=bsdutils [socat]=socat [snmpd]=snmpd [snmpget]=snmp [chronyd]=chrony
	[mosquitto]=mosquitto [mosquitto_pub]=mosquitto-clients [memcached]=memcached
	[memccp]=libmemcached-tools [in.tftpd]=tftpd-hpa [tftp]=tftp-hpa
	[freeradius]=freeradius [radtest]=freeradius-utils [sipsak]=sipsak [kamailio]=kamailio [softflowd]=softflowd
	[/usr/lib/rabbitmq/bin/rabbitmq-server]=rabbitmq-server [amqp-publish]=amqp-tools
	[/usr/share/zookeeper/bin/zkServer.sh]=zookeeper [java]=default-jre-headless
	[gearmand]=gearman-job-server [gearman]=gearman-tools
	[/usr/share/doc/python3-stomp/copyright]=python3-stomp [/usr/share/doc/python3-qpid-proton/copyright]=python3-qpid-proton
	[/usr/share/doc/python3-statsd/copyright]=python3-statsd
	[nmblookup]=samba-common-bin [krb5kdc]=krb5-kdc [kadmin.local]=krb5-admin-server [kinit]=krb5-user
)

L=${IP4[legacy]} K=${IP4[cache]}

# sink: a UDP receiver that only reads (syslog, NetFlow and SIP senders get no
# ICMP port unreachable back, as with a real collector).
sink() { # name ns addr port
	bg "$1" "$2" socat -u "UDP-RECV:$4,bind=$3,reuseaddr" OPEN:/dev/null
	wait_port "$2" udp "$4" "$LAST_BG"
}

rec_syslog() {
	cap_start syslog-udp-logger.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	sink "syslog-sink-$CAP_NAME" legacy "$L" 514
	nsx client logger --udp -n "$L" -P 514 --rfc5424 -t billing -p local0.warning "payment batch 42 settled for customer 1001"
	nsx client logger --udp -n "$L" -P 514 --rfc3164 -t sshd -p auth.info "Accepted password for deploy from 10.77.0.10 port 50022"
	cap_stop
	manifest syslog-udp-logger.pcap "udp/514:class=plaintext,app=syslog" "" 2 "$V_LOGGER → socat UDP-RECV" \
		"two syslog messages over UDP from util-linux logger: RFC 5424 (logger --rfc5424) and RFC 3164 (logger --rfc3164), each from its own socket"

	cap_start syslog-tcp-logger.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	bg "syslog-tcp-$CAP_NAME" legacy socat -u "TCP-LISTEN:514,bind=$L,reuseaddr,fork" OPEN:/dev/null
	wait_port legacy tcp 514 "$LAST_BG"
	nsx client logger --tcp -n "$L" -P 514 --rfc5424 --octet-count -t billing "invoice 7 exported"
	nsx client logger --tcp -n "$L" -P 514 --rfc5424 -t billing "invoice 8 exported"
	cap_stop
	manifest syslog-tcp-logger.pcap "tcp/514:class=plaintext,app=syslog" "" 2 "$V_LOGGER → socat TCP-LISTEN" \
		"two RFC 5424 syslog messages over TCP from util-linux logger: RFC 6587 octet counting (--octet-count), then LF framing"
}

rec_snmp() {
	local d=$WORK/snmp
	mkdir -p "$d"
	cat >"$d/snmpd.conf" <<-EOF
		agentAddress udp:$L:161
		rocommunity auditcommunity 10.77.0.0/24
		createUser clearuser
		createUser authuser SHA "auth-pass-123"
		createUser privuser SHA "auth-pass-123" AES "priv-pass-123"
		rouser clearuser noauth
		rouser authuser auth
		rouser privuser priv
		sysLocation rack 7
	EOF
	bg "snmpd" legacy snmpd -f -Lo -C -c "$d/snmpd.conf" -p "$d/snmpd.pid" --persistentDir="$d"
	wait_port legacy udp 161 "$LAST_BG"
	cap_start snmp-net-snmp.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	nsx client snmpget -v2c -c auditcommunity "$L" 1.3.6.1.2.1.1.6.0 >>"$WORK/log/snmp.log" 2>&1 || die "snmpget v2c failed"
	nsx client snmpget -v1 -c auditcommunity "$L" 1.3.6.1.2.1.1.6.0 >>"$WORK/log/snmp.log" 2>&1 || die "snmpget v1 failed"
	nsx client snmpget -v3 -l noAuthNoPriv -u clearuser "$L" 1.3.6.1.2.1.1.6.0 >>"$WORK/log/snmp.log" 2>&1 || die "snmpget v3 noauth failed"
	nsx client snmpget -v3 -l authNoPriv -u authuser -a SHA -A auth-pass-123 "$L" 1.3.6.1.2.1.1.6.0 >>"$WORK/log/snmp.log" 2>&1 || die "snmpget v3 auth failed"
	cap_stop
	manifest snmp-net-snmp.pcap "udp/161:class=plaintext,app=snmp" "" 4 "Net-SNMP $V_SNMP snmpget → snmpd" \
		"four GETs of sysLocation.0, each snmpget on its own socket: SNMPv2c and SNMPv1 with the community in clear, SNMPv3 noAuthNoPriv and authNoPriv (varbinds in clear, after an engine-discovery exchange)"

	cap_start snmpv3-authpriv-net-snmp.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	nsx client snmpget -v3 -l authPriv -u privuser -a SHA -A auth-pass-123 -x AES -X priv-pass-123 "$L" 1.3.6.1.2.1.1.6.0 >>"$WORK/log/snmp.log" 2>&1 || die "snmpget v3 priv failed"
	cap_stop
	manifest snmpv3-authpriv-net-snmp.pcap "udp/161:class=encrypted,app=snmp" "" 1 "Net-SNMP $V_SNMP snmpget → snmpd" \
		"one SNMPv3 authPriv GET (SHA, AES): an engine-discovery exchange in clear (no varbinds), then the request and response with the scoped PDU encrypted"
}

# stop_server ends a server started with bg before the cleanup would.
stop_server() { # pid
	kill -TERM "$1" 2>/dev/null || true
	wait_pid "$1" 5
}

# chrony_server_conf prints the chronyd server settings both NTP scenarios
# share: NTP on the legacy host, answering the test network at stratum 8.
chrony_server_conf() { # dir
	printf 'bindaddress %s\nport 123\ncmdport 0\nlocal stratum 8\nallow 10.77.0.0/24\npidfile %s/chronyd.pid\n' "$L" "$1"
}

rec_nts() {
	local d=$WORK/chrony-nts
	mkdir -p "$d/server" "$d/client"
	install -o _chrony -m 600 "$PKI/server.key" "$d/server/server.key" 2>/dev/null || cp "$PKI/server.key" "$d/server/server.key"
	{
		chrony_server_conf "$d/server"
		printf 'ntsserverkey %s\nntsservercert %s\nntsdumpdir %s\n' "$d/server/server.key" "$PKI/server.pem" "$d/server"
	} >"$d/server/chrony.conf"
	bg chronyd-nts legacy chronyd -d -x -u root -f "$d/server/chrony.conf"
	local srv=$LAST_BG
	wait_port legacy tcp 4460 "$srv"
	cat >"$d/client/chrony.conf" <<-EOF
		server $L iburst nts maxsamples 1
		ntstrustedcerts $PKI/ca.pem
		acquisitionport 10124
		cmdport 0
		pidfile $d/client/chronyd.pid
	EOF
	cap_start nts-chrony.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	nsx client timeout 20 chronyd -Q -d -u root -f "$d/client/chrony.conf" >>"$WORK/log/chrony-nts-client.log" 2>&1 ||
		die "chronyd -Q (NTS) failed: $(tail -3 "$WORK/log/chrony-nts-client.log")"
	cap_stop
	stop_server "$srv" # the next scenario's chronyd binds port 123 too
	manifest nts-chrony.pcap "tcp/4460:class=tls,ver=TLS1.3 udp/123:class=encrypted,app=ntp" "" 2 "chrony $V_CHRONY chronyd -Q → chronyd with NTS" \
		"NTS (RFC 8915): the NTS-KE exchange over TLS 1.3 on TCP 4460, then NTPv4 requests and responses carrying NTS cookies and the NTS Authenticator and Encrypted Extension Fields"
}

rec_ntp() {
	local d=$WORK/chrony
	mkdir -p "$d/server" "$d/client"
	{
		chrony_server_conf "$d/server"
		printf 'driftfile %s/drift\n' "$d/server"
	} >"$d/server/chrony.conf"
	bg chronyd legacy chronyd -d -x -f "$d/server/chrony.conf"
	local srv=$LAST_BG
	wait_port legacy udp 123 "$srv"
	cat >"$d/client/chrony.conf" <<-EOF
		server $L iburst maxsamples 1
		acquisitionport 10123
		cmdport 0
		pidfile $d/client/chronyd.pid
	EOF
	cap_start ntp-chrony.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	nsx client timeout 20 chronyd -Q -d -f "$d/client/chrony.conf" >>"$WORK/log/chrony-client.log" 2>&1 ||
		die "chronyd -Q failed: $(tail -3 "$WORK/log/chrony-client.log")"
	cap_stop
	stop_server "$srv" # the next scenario's chronyd binds port 123 too
	manifest ntp-chrony.pcap "udp/123:class=plaintext,app=ntp" "" 1 "chrony $V_CHRONY chronyd -Q → chronyd (local stratum 8)" \
		"NTPv4 client requests (mode 3) from a fixed acquisition port and the server's responses (mode 4), the origin timestamp echoing the request's transmit timestamp"
}

rec_mqtt() {
	local d=$WORK/mosquitto
	mkdir -p "$d"
	printf 'listener 1883 %s\nallow_anonymous true\npersistence false\n' "$K" >"$d/mosquitto.conf"
	bg mosquitto cache mosquitto -c "$d/mosquitto.conf"
	wait_port cache tcp 1883 "$LAST_BG"
	cap_start mqtt-mosquitto.pcap "${BRCAP[@]}" "$(pair "$C" "$K")"
	nsx client mosquitto_pub -h "$K" -p 1883 -V mqttv311 -i audit-311 -t plant/line1/temp -m 21.5 || die "mosquitto_pub 3.1.1 failed"
	nsx client mosquitto_pub -h "$K" -p 1883 -V mqttv5 -i audit-5 -t plant/line1/temp -m 21.7 || die "mosquitto_pub 5 failed"
	nsx client mosquitto_pub -h "$K" -p 1883 -V mqttv31 -i audit-31 -t plant/line1/temp -m 21.9 || die "mosquitto_pub 3.1 failed"
	cap_stop
	manifest mqtt-mosquitto.pcap "tcp/1883:class=plaintext,app=mqtt" "" 3 "mosquitto $V_MOSQUITTO: mosquitto_pub → mosquitto" \
		"three MQTT publishes: protocol 3.1.1, 5.0 and 3.1 (MQIsdp), each CONNECT/CONNACK, PUBLISH, DISCONNECT"
}

rec_mqtt_tls() {
	local d=$WORK/mosquitto-tls
	mkdir -p "$d"
	cp "$PKI/server.pem" "$PKI/server.key" "$PKI/ca.pem" "$d/"
	chmod 644 "$d"/*
	printf 'listener 8883 %s\nallow_anonymous true\npersistence false\ncertfile %s\nkeyfile %s\n' \
		"$K" "$d/server.pem" "$d/server.key" >"$d/mosquitto.conf"
	bg mosquitto-tls cache mosquitto -c "$d/mosquitto.conf"
	wait_port cache tcp 8883 "$LAST_BG"
	cap_start mqtt-tls-mosquitto.pcap "${BRCAP[@]}" "$(pair "$C" "$K")"
	nsx client mosquitto_pub -h "$K" -p 8883 --cafile "$d/ca.pem" --tls-alpn mqtt -V mqttv311 -i audit-tls \
		-t plant/line1/temp -m 22.1 || die "mosquitto_pub over TLS failed"
	cap_stop
	manifest mqtt-tls-mosquitto.pcap "tcp/8883:class=tls,ver=TLS1.3" "" 1 "mosquitto $V_MOSQUITTO: mosquitto_pub --cafile → mosquitto (listener with certfile)" \
		"MQTT 3.1.1 over TLS on 8883: TLS 1.3 from the first byte (ALPN mqtt offered), so no MQTT is visible: tls, not mqtt"
}

rec_memcached() {
	bg memcached cache memcached -u nobody -l "$K" -p 11211 -U 11211 -m 16
	wait_port cache tcp 11211 "$LAST_BG"
	wait_port cache udp 11211 "$LAST_BG"
	cap_start memcached-libmemcached.pcap "${BRCAP[@]}" "$(pair "$C" "$K")"
	printf 'order 1001: 3 items\n' >"$WORK/order-1001"
	(cd "$WORK" && nsx client memccp --servers="$K:11211" order-1001) || die "memccp failed"
	nsx client memccat --servers="$K:11211" order-1001 >/dev/null || die "memccat failed"
	nsx client memcstat --binary --servers="$K:11211" >/dev/null || die "memcstat --binary failed"
	# memcached over UDP: the frame header (request 1, datagram 0 of 1) and a get
	printf '\x00\x01\x00\x00\x00\x01\x00\x00get order-1001\r\n' |
		nsx client socat -t 2 - "UDP:$K:11211,sourceport=11311" >/dev/null || die "memcached UDP get failed"
	cap_stop
	manifest memcached-libmemcached.pcap "tcp/11211:class=plaintext,app=memcached udp/11211:class=plaintext,app=memcached" "" 4 \
		"memcached $V_MEMCACHED; libmemcached-tools memccp, memccat, memcstat --binary; socat for the UDP get" \
		"a text set (memccp), a text get (memccat), a binary-protocol stat (memcstat --binary) over TCP, and a get over UDP with the 8-byte frame header (the request written with printf, the answer memcached's)"
}

rec_tftp() {
	mkdir -p "$WORK/tftp"
	printf 'hostname edge-7\ninterface eth0\n ip address 10.77.0.7/24\n' >"$WORK/tftp/edge-7.cfg"
	chmod -R a+rX "$WORK/tftp"
	bg tftpd legacy in.tftpd -L -u nobody -a "$L:69" -s "$WORK/tftp"
	wait_port legacy udp 69 "$LAST_BG"
	cap_start tftp-hpa.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	(cd "$WORK" && nsx client tftp -R 10069:10069 "$L" -c get edge-7.cfg "$WORK/edge-7.got") || die "tftp get failed"
	cap_stop
	manifest tftp-hpa.pcap "udp/69:class=plaintext,app=tftp udp/10069:class=plaintext,app=tftp" "" 2 "tftp-hpa $V_TFTP tftp → in.tftpd" \
		"a read request (RRQ, octet mode) to port 69 from the client's fixed port 10069, then the transfer: the server's DATA from a new port to 10069 and the client's ACK (a second flow, opened by the server)"
}

rec_radius() {
	local d=$WORK/raddb
	cp -a /etc/freeradius/3.0 "$d"
	printf 'client audit {\n\tipaddr = 10.77.0.0/24\n\tsecret = radius-secret-1\n}\n' >>"$d/clients.conf"
	printf 'deploy Cleartext-Password := "deploy-pass"\n' | cat - "$d/mods-config/files/authorize" >"$d/authorize.new"
	mv "$d/authorize.new" "$d/mods-config/files/authorize"
	chown -R freerad:freerad "$d" 2>/dev/null || true
	bg freeradius legacy freeradius -f -d "$d" -l stdout
	wait_port legacy udp 1812 "$LAST_BG"
	cap_start radius-freeradius.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	nsx client radtest -t pap deploy deploy-pass "$L" 0 radius-secret-1 >>"$WORK/log/radtest.log" 2>&1 ||
		die "radtest failed: $(tail -3 "$WORK/log/radtest.log")"
	cap_stop
	manifest radius-freeradius.pcap "udp/1812:class=plaintext,app=radius" "" 1 "FreeRADIUS $V_FREERADIUS radtest → freeradius" \
		"an Access-Request (PAP: User-Name in clear, User-Password hidden with the shared secret) answered by Access-Accept"
}

rec_sip() {
	bg kamailio legacy kamailio -DD -E -f /etc/kamailio/kamailio.cfg -l "udp:$L:5060" -n 1 -Y "$WORK/kamailio" \
		-P "$WORK/kamailio.pid"
	wait_port legacy udp 5060 "$LAST_BG" 20
	cap_start sip-sipsak.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	nsx client timeout 5 sipsak -s "sip:$L" -l 5070 >>"$WORK/log/sipsak.log" 2>&1 ||
		die "sipsak got no answer: $(tail -3 "$WORK/log/sipsak.log")"
	cap_stop
	manifest sip-sipsak.pcap "udp/5060:class=plaintext,app=sip" "" 1 "sipsak $V_SIPSAK → Kamailio $V_KAMAILIO (Debian's default kamailio.cfg)" \
		"a SIP OPTIONS request (RFC 3261) to the server itself from sipsak, and Kamailio's 200 (its default configuration answers such keepalives)"
}

rec_netflow() {
	cap_start netflow-softflowd.pcap "${BRCAP[@]}" "$(pair "$C" "${IP4[dns]}")"
	sink "netflow-sink-$CAP_NAME" dns "${IP4[dns]}" 2055
	local v
	for v in 5 9 10; do
		nsx client softflowd -d -r "$REPO/testdata/pcaps/http-nginx-curl.pcap" -n "${IP4[dns]}:2055" -v "$v" \
			>>"$WORK/log/softflowd.log" 2>&1 || die "softflowd -v $v failed: $(tail -3 "$WORK/log/softflowd.log")"
	done
	cap_stop
	manifest netflow-softflowd.pcap "udp/2055:class=plaintext,app=netflow" "" 3 "softflowd $V_SOFTFLOWD -r → socat UDP-RECV" \
		"flow export of http-nginx-curl.pcap by softflowd reading it (-r): NetFlow v5, v9 (templates and data) and IPFIX (-v 10), each from its own socket"
}

rec_netbios() {
	cap_start netbios-ns-nmblookup.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	sink "nbns-sink-$CAP_NAME" legacy "$L" 137
	nsx client timeout 10 nmblookup -U "$L" --recursion FILESERVER01 >>"$WORK/log/nmblookup.log" 2>&1 || true
	cap_stop
	manifest netbios-ns-nmblookup.pcap "udp/137:class=plaintext,app=netbios-ns" "" 1 "Samba $V_SAMBA nmblookup → socat UDP-RECV" \
		"NetBIOS name queries (NB, FILESERVER01) sent by nmblookup -U --recursion to one address; the receiver only reads, so nmblookup retries and gives up"
}

rec_statsd() {
	cap_start statsd-python.pcap "${BRCAP[@]}" "$(pair "$C" "${IP4[admin]}")"
	sink "statsd-sink-$CAP_NAME" admin "${IP4[admin]}" 8125
	nsx client /usr/bin/python3 -c 'import sys, statsd
c = statsd.StatsClient(sys.argv[1], 8125, prefix="billing")
c.incr("invoices.exported")
c.gauge("queue.depth", 42)
c.timing("export.ms", 12.5)
c.set("customers.seen", "1001")
with c.pipeline() as p:
    p.incr("batches")
    p.decr("retries")' "${IP4[admin]}" >>"$WORK/log/statsd.log" 2>&1 || die "statsd client failed: $(tail -3 "$WORK/log/statsd.log")"
	cap_stop
	manifest statsd-python.pcap "udp/8125:class=plaintext,app=statsd" "" 1 "python3-statsd $V_PYSTATSD → socat UDP-RECV" \
		"statsd metrics from the statsd Python client: a counter, a gauge, a timer, a set, then a pipeline of two counters in one datagram, all from one socket"
}

rec_nats() {
	local peer=$WORK/bin/natspeer
	bg natspeer-plain server "$peer" -listen "$S:4222"
	wait_port server tcp 4222 "$LAST_BG"
	bg natspeer-tls server "$peer" -listen "$S:4223" -cert "$PKI/server.pem" -key "$PKI/server.key"
	wait_port server tcp 4223 "$LAST_BG"
	cap_start nats-natspeer.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	nsx client "$peer" -connect "nats://$S:4222" || die "nats client failed"
	nsx client env SSLKEYLOGFILE="$KEYS/$CAP_NAME.keys" "$peer" -connect "tls://$S:4223" -ca "$PKI/ca.pem" -sni nats.internal ||
		die "nats TLS client failed"
	cap_stop
	manifest nats-natspeer.pcap "tcp/4222:class=plaintext,app=nats tcp/4223:class=tls,ver=TLS1.3,app=nats,starttls=true" "" 2 \
		"nats-server $V_NATS_SERVER and nats.go $V_NATS_GO (scripts/testdata/natspeer, Go $V_GO)" \
		"a NATS client publishing one message and receiving it back, in clear (INFO, CONNECT, SUB, PUB, MSG), then against a server requiring TLS: the server's INFO line says tls_required in clear, then a TLS 1.3 handshake (SNI nats.internal)"
}

rec_amqp() {
	local d=$WORK/rabbitmq
	mkdir -p "$d"
	printf 'loopback_users = none\nlisteners.tcp.default = %s:5672\nstomp.listeners.tcp.1 = %s:61613\n' "$K" "$K" >"$d/rabbitmq.conf"
	echo '[rabbitmq_stomp,rabbitmq_amqp1_0].' >"$d/plugins"
	bg rabbitmq cache env HOME="$d" RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
		RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" RABBITMQ_ENABLED_PLUGINS_FILE="$d/plugins" \
		/usr/lib/rabbitmq/bin/rabbitmq-server
	wait_port cache tcp 5672 "$LAST_BG" 60
	wait_port cache tcp 61613 "$LAST_BG" 30
	cap_start amqp-rabbitmq.pcap "${BRCAP[@]}" "$(pair "$C" "$K")"
	nsx client amqp-publish -u "amqp://guest:guest@$K:5672" -r audit.greeting -b "hello over amqp" ||
		die "amqp-publish failed"
	# Debian's python3 (python3-qpid-proton, python3-stomp), not one first on PATH
	nsx client /usr/bin/python3 -c 'import sys
from proton import Message
from proton.utils import BlockingConnection
c = BlockingConnection("amqp://guest:guest@" + sys.argv[1] + ":5672")
c.create_sender("audit.greeting").send(Message(body="hello over amqp 1.0"))
c.close()' "$K" >>"$WORK/log/proton.log" 2>&1 || die "AMQP 1.0 client failed: $(tail -3 "$WORK/log/proton.log")"
	nsx client /usr/bin/python3 -c 'import sys, stomp
c = stomp.Connection([(sys.argv[1], 61613)])
c.connect("guest", "guest", wait=True)
c.send(destination="/queue/audit.greeting", body="hello over stomp")
c.disconnect()' "$K" >>"$WORK/log/stomp.log" 2>&1 || die "STOMP client failed: $(tail -3 "$WORK/log/stomp.log")"
	cap_stop
	manifest amqp-rabbitmq.pcap "tcp/5672:class=plaintext,app=amqp tcp/61613:class=plaintext,app=stomp" "" 3 \
		"RabbitMQ $V_RABBITMQ (rabbitmq_stomp, rabbitmq_amqp1_0); amqp-tools $V_AMQP_TOOLS amqp-publish; Qpid Proton $V_PROTON; stomp.py $V_STOMPPY" \
		"three publishes to RabbitMQ: AMQP 0-9-1 (amqp-publish: protocol header, Connection.Start/Start-Ok with PLAIN guest:guest in clear, Basic.Publish), AMQP 1.0 (Qpid Proton: the SASL header AMQP 3 1 0 0, SASL PLAIN, then the AMQP header and frames) and STOMP 1.2 (stomp.py: CONNECT with login and passcode, SEND, DISCONNECT)"
}

rec_gearman() {
	bg gearmand db gearmand --listen="${IP4[db]}" --port=4730 --log-file=stderr
	wait_port db tcp 4730 "$LAST_BG"
	cap_start gearman-gearmand.pcap "${BRCAP[@]}" "$(pair "$C" "${IP4[db]}")"
	echo "invoice 9" | nsx client gearman -h "${IP4[db]}" -p 4730 -b -f render_invoice || die "gearman client failed"
	cap_stop
	manifest gearman-gearmand.pcap "tcp/4730:class=plaintext,app=gearman" "" 1 "Gearman $V_GEARMAN: gearman -b → gearmand" \
		"one background job submitted (SUBMIT_JOB_BG) and its JOB_CREATED, in Gearman's binary protocol"
}

rec_zookeeper() {
	local d=$WORK/zookeeper cp="/usr/share/java/zookeeper.jar:/usr/share/java/*"
	mkdir -p "$d/data"
	printf 'dataDir=%s/data\nclientPort=2181\nclientPortAddress=%s\ntickTime=2000\nadmin.enableServer=false\n' \
		"$d" "${IP4[db]}" >"$d/zoo.cfg"
	bg zookeeper db java -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$d/zoo.cfg"
	wait_port db tcp 2181 "$LAST_BG" 60
	cap_start zookeeper-zkcli.pcap "${BRCAP[@]}" "$(pair "$C" "${IP4[db]}")"
	nsx client timeout 30 java -cp "$cp" org.apache.zookeeper.ZooKeeperMain -server "${IP4[db]}:2181" \
		create /audit-greeting hello >>"$WORK/log/zkcli.log" 2>&1 || die "ZooKeeperMain failed: $(tail -3 "$WORK/log/zkcli.log")"
	cap_stop
	manifest zookeeper-zkcli.pcap "tcp/2181:class=plaintext,app=zookeeper" "" 1 "ZooKeeper $V_ZOOKEEPER server and ZooKeeperMain client" \
		"one ZooKeeper session: ConnectRequest/ConnectResponse, create /audit-greeting, close"
}

rec_kerberos() {
	local d=$WORK/krb5 realm=AUDIT.INTERNAL
	mkdir -p "$d"
	printf '[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_kdc = false\n\tdns_lookup_realm = false\n[realms]\n\t%s = {\n\t\tkdc = %s:88\n\t}\n' \
		"$realm" "$realm" "$L" >"$d/krb5.conf"
	printf '[kdcdefaults]\n\tkdc_ports = 88\n\tkdc_tcp_ports = 88\n[realms]\n\t%s = {\n\t\tdatabase_name = %s/principal\n\t\tkey_stash_file = %s/stash\n\t}\n' \
		"$realm" "$d" "$d" >"$d/kdc.conf"
	local krb=(env KRB5_CONFIG="$d/krb5.conf" KRB5_KDC_PROFILE="$d/kdc.conf")
	"${krb[@]}" kdb5_util create -s -r "$realm" -P master-pass-1 >>"$WORK/log/kdb5_util.log" 2>&1 || die "kdb5_util failed"
	"${krb[@]}" kadmin.local -r "$realm" -q "addprinc -pw deploy-pass deploy" >>"$WORK/log/kdb5_util.log" 2>&1 || die "addprinc failed"
	bg krb5kdc legacy "${krb[@]}" krb5kdc -n -r "$realm"
	wait_port legacy udp 88 "$LAST_BG"
	cap_start kerberos-mit.pcap "${BRCAP[@]}" "$(pair "$C" "$L")"
	echo deploy-pass | nsx client "${krb[@]}" KRB5CCNAME="FILE:$d/ccache" kinit "deploy@$realm" >>"$WORK/log/kinit.log" 2>&1 ||
		die "kinit failed: $(tail -3 "$WORK/log/kinit.log")"
	cap_stop
	manifest kerberos-mit.pcap "udp/88:class=encrypted,app=kerberos" "" 1 "MIT Kerberos $V_KRB5 kinit → krb5kdc" \
		"kinit with a password: one AS-REQ over UDP and the AS-REP (the principal does not require pre-authentication); principal names and realm in clear, the ticket and the reply's key part encrypted"
}

proto_versions() {
	V_LOGGER=$(logger --version | awk '{print $1, $NF}')
	V_SNMP=$(snmpget --version 2>&1 | awk '{print $NF}')
	V_CHRONY=$(chronyd --version | awk '{print $4}')
	V_MOSQUITTO=$(dpkg-query -W -f='${Version}' mosquitto)
	V_MEMCACHED=$(memcached --version | awk '{print $2}')
	V_TFTP=$(dpkg-query -W -f='${Version}' tftp-hpa)
	V_FREERADIUS=$(dpkg-query -W -f='${Version}' freeradius)
	V_KAMAILIO=$(dpkg-query -W -f='${Version}' kamailio)
	V_SIPSAK=$(dpkg-query -W -f='${Version}' sipsak)
	V_SOFTFLOWD=$(dpkg-query -W -f='${Version}' softflowd)
	V_RABBITMQ=$(dpkg-query -W -f='${Version}' rabbitmq-server)
	V_AMQP_TOOLS=$(dpkg-query -W -f='${Version}' amqp-tools)
	V_SAMBA=$(dpkg-query -W -f='${Version}' samba-common-bin)
	V_PROTON=$(dpkg-query -W -f='${Version}' python3-qpid-proton)
	V_STOMPPY=$(dpkg-query -W -f='${Version}' python3-stomp)
	V_GEARMAN=$(dpkg-query -W -f='${Version}' gearman-job-server)
	V_PYSTATSD=$(dpkg-query -W -f='${Version}' python3-statsd)
	V_KRB5=$(dpkg-query -W -f='${Version}' krb5-kdc)
	V_ZOOKEEPER=$(dpkg-query -W -f='${Version}' zookeeper)
	V_NATS_SERVER=$(awk '/nats-server/{print $2}' "$HELPERS/natspeer/go.mod")
	V_NATS_GO=$(awk '/nats.go /{print $2}' "$HELPERS/natspeer/go.mod")
}

build_natspeer() {
	log "building scripts/testdata/natspeer"
	(cd "$HELPERS/natspeer" && CGO_ENABLED=0 go build -o "$WORK/bin/natspeer" .)
}

# The protocol scenarios, in recording order.
PROTO_SCENARIOS=(rec_syslog rec_snmp rec_ntp rec_nts rec_mqtt rec_mqtt_tls rec_memcached rec_tftp rec_radius rec_sip rec_netflow rec_netbios rec_statsd rec_nats rec_amqp rec_gearman rec_zookeeper rec_kerberos)
