# shellcheck shell=bash
# starttls.sh - the STARTTLS scenarios of scripts/record-testdata.sh: IMAP and
# POP3 (Dovecot), FTP (vsftpd, Pure-FTPd), LDAP (slapd) and MySQL (MariaDB),
# each in clear and upgraded to TLS in its own protocol by real Debian
# clients (curl, ldapsearch, the mariadb client, openssl s_client -starttls),
# and FTP and LDAP servers refusing the upgrade. Sourced by
# record-testdata.sh, whose helpers (bg, cap_start, cap_stop, manifest, nsx,
# wait_port, curl_, s_client) and variables (WORK, PKI, KEYS, IP4, C, S) it
# uses. The servers that upgrade listen on their protocol's standard port
# inside their namespace and use the recording's throwaway certificate.

# Commands (or files) these scenarios need -> Debian package.
declare -A STARTTLS_PKG_OF=(
	[dovecot]=dovecot-core [/usr/lib/dovecot/imap]=dovecot-imapd [/usr/lib/dovecot/pop3]=dovecot-pop3d
	[vsftpd]=vsftpd [/usr/sbin/slapd]=slapd [ldapsearch]=ldap-utils
	[/usr/sbin/mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server [mariadb]=mariadb-client
)

DB=${IP4[db]} LDAP_HOST=${IP4[legacy]}
MAIL_USER=alice MAIL_PASS=mail-pass-1

# server_pki copies the server certificate and key into dir, readable by the
# server alone (the PKI directory itself is root's only).
server_pki() { # dir
	install -m 644 "$PKI/server.pem" "$1/server.pem"
	install -m 600 "$PKI/server.key" "$1/server.key"
}

# start_dovecot runs Dovecot on the server host, once for rec_imap and
# rec_pop3: IMAP on 143 and POP3 on 110, STARTTLS/STLS offered (ssl = yes)
# but not required, plaintext logins allowed, one user with one message in
# its Maildir.
DOVECOT_PID=
start_dovecot() {
	[[ -z $DOVECOT_PID ]] || return 0
	local d=$WORK/dovecot
	mkdir -p "$d/home/$MAIL_USER/Maildir/"{cur,new,tmp}
	chmod 755 "$d" # the login processes run as dovenull
	server_pki "$d"
	printf 'From: billing@mail.internal\r\nTo: %s@mail.internal\r\nSubject: invoice 7\r\n\r\ninvoice 7 is ready\r\n' \
		"$MAIL_USER" >"$d/home/$MAIL_USER/Maildir/new/1.mail.internal"
	chown -R nobody:nogroup "$d/home"
	cat >"$d/dovecot.conf" <<-EOF
		base_dir = $d/run
		state_dir = $d/state
		log_path = $d/dovecot.log
		protocols = imap pop3
		listen = $S
		ssl = yes
		ssl_cert = <$d/server.pem
		ssl_key = <$d/server.key
		disable_plaintext_auth = no
		auth_mechanisms = plain login
		mail_location = maildir:~/Maildir
		passdb {
		  driver = static
		  args = password=$MAIL_PASS
		}
		userdb {
		  driver = static
		  args = uid=nobody gid=nogroup home=$d/home/%u
		}
		service imap-login {
		  inet_listener imap {
		    port = 143
		  }
		  inet_listener imaps {
		    port = 0
		  }
		}
		service pop3-login {
		  inet_listener pop3 {
		    port = 110
		  }
		  inet_listener pop3s {
		    port = 0
		  }
		}
	EOF
	bg dovecot server dovecot -F -c "$d/dovecot.conf"
	DOVECOT_PID=$LAST_BG
	wait_port server tcp 143 "$DOVECOT_PID"
	wait_port server tcp 110 "$DOVECOT_PID"
}

# curl_mail records curl fetching one message from Dovecot over proto (imap
# or pop3): once in clear, and once with --ssl-reqd, which upgrades the
# connection (the upgrade command names the second capture).
curl_mail() { # proto port upgrade path plain-description upgrade-description
	local proto=$1 port=$2 upgrade=$3 path=$4 sw="curl $V_CURL → Dovecot $V_DOVECOT"
	local plain=$proto-plain-dovecot-curl.pcap tls=$proto-$upgrade-dovecot-curl.pcap
	cap_start "$plain" "${BRCAP[@]}" "$(pair "$C" "$S")"
	curl_ client -u "$MAIL_USER:$MAIL_PASS" "$proto://$S/$path"
	cap_stop
	manifest "$plain" "tcp/$port:class=plaintext,app=$proto" "" 1 "$sw" "$5"

	cap_start "$tls" "${BRCAP[@]}" "$(pair "$C" "$S")"
	curl_ client --ssl-reqd --resolve "mail.internal:$port:$S" -u "$MAIL_USER:$MAIL_PASS" "$proto://mail.internal/$path"
	cap_stop
	manifest "$tls" "tcp/$port:class=tls,ver=TLS1.3,app=$proto,starttls=true" "" 1 "$sw (ssl = yes)" "$6" "$KEYS/$tls.keys"
}

rec_imap() {
	start_dovecot
	curl_mail imap 143 starttls "INBOX;UID=1" \
		"IMAP in clear: greeting with CAPABILITY, CAPABILITY, AUTHENTICATE PLAIN with the credentials in clear (base64, SASL-IR), SELECT INBOX and UID FETCH of one message" \
		"curl --ssl-reqd: IMAP greeting, CAPABILITY, STARTTLS and its tagged OK, then a TLS 1.3 handshake (SNI mail.internal); login and UID FETCH inside TLS"

	cap_start imap-starttls-dovecot-openssl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	s_client client "a1 LOGOUT" -starttls imap -connect "$S:143" -servername mail.internal
	cap_stop
	manifest imap-starttls-dovecot-openssl.pcap "tcp/143:class=tls,ver=TLS1.3,app=imap,starttls=true" "" 1 \
		"OpenSSL $V_OPENSSL s_client -starttls imap → Dovecot $V_DOVECOT (ssl = yes)" \
		"openssl s_client -starttls imap: the tag '.' for both CAPABILITY and STARTTLS, then a TLS 1.3 handshake (SNI mail.internal) and LOGOUT inside TLS" \
		"$KEYS/imap-starttls-dovecot-openssl.pcap.keys"
}

rec_pop3() {
	start_dovecot
	curl_mail pop3 110 stls 1 \
		"POP3 in clear: +OK greeting, CAPA (multi-line), AUTH PLAIN with the credentials in clear (base64), RETR 1" \
		"curl --ssl-reqd: POP3 greeting, CAPA (multi-line, lists STLS), STLS and +OK, then a TLS 1.3 handshake (SNI mail.internal); login and RETR inside TLS"

	cap_start pop3-stls-tls12-dovecot-openssl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	s_client client "QUIT" -starttls pop3 -tls1_2 -connect "$S:110" -servername mail.internal
	cap_stop
	manifest pop3-stls-tls12-dovecot-openssl.pcap "tcp/110:class=tls,ver=TLS1.2,app=pop3,starttls=true" "" 1 \
		"OpenSSL $V_OPENSSL s_client -starttls pop3 -tls1_2 → Dovecot $V_DOVECOT (ssl = yes)" \
		"openssl s_client -starttls pop3 -tls1_2: greeting, STLS right away (no CAPA) and +OK, then a TLS 1.2 handshake (SNI mail.internal; ServerHello and Certificate in clear) and QUIT inside TLS" \
		"$KEYS/pop3-stls-tls12-dovecot-openssl.pcap.keys"
}

# start_vsftpd runs vsftpd on the server host on port, with anonymous logins
# only (as the ftp account that Debian's vsftpd package adds) from pub, and
# passive data connections on FTP_DATA_PORT+port-21; TLS is offered
# (ssl_enable=YES, not forced) when tls is "tls". Network and PID isolation
# and the seccomp sandbox are off, as in pkg/probe's tests. The greeting is a
# multi-line 220 reply (banner_file).
start_vsftpd() { # port tls|plain
	local port=$1 d=$WORK/vsftpd-$1 ssl=NO
	[[ $2 == tls ]] && ssl=YES
	mkdir -p "$d/empty" "$d/pub"
	server_pki "$d"
	printf 'release notes 4.2: nothing secret\n' >"$d/pub/notes.txt"
	printf 'files.internal: release downloads\nanonymous access only\n' >"$d/banner"
	chmod -R a+rX "$d/pub"
	cat >"$d/vsftpd.conf" <<-EOF
		listen=YES
		listen_ipv6=NO
		listen_address=$S
		listen_port=$port
		background=NO
		anonymous_enable=YES
		anon_root=$d/pub
		no_anon_password=YES
		local_enable=NO
		write_enable=NO
		banner_file=$d/banner
		secure_chroot_dir=$d/empty
		isolate=NO
		isolate_network=NO
		seccomp_sandbox=NO
		xferlog_enable=NO
		vsftpd_log_file=$d/vsftpd.log
		pasv_enable=YES
		pasv_min_port=$((FTP_DATA_PORT + port - 21))
		pasv_max_port=$((FTP_DATA_PORT + port - 21))
		ssl_enable=$ssl
		allow_anon_ssl=YES
		force_anon_logins_ssl=NO
		force_anon_data_ssl=NO
		require_ssl_reuse=NO
		ssl_request_cert=NO
		rsa_cert_file=$d/server.pem
		rsa_private_key_file=$d/server.key
	EOF
	bg "vsftpd-$port" server vsftpd "$d/vsftpd.conf"
	wait_port server tcp "$port" "$LAST_BG"
}

# FTP_DATA_PORT is the only passive data port of the vsftpd on port 21, so
# that the data connection of a transfer has a known server port.
FTP_DATA_PORT=30021

rec_ftp() {
	start_vsftpd 21 tls
	start_vsftpd 2121 plain
	local sw="curl $V_CURL → vsftpd $V_VSFTPD"

	# -I: MDTM and SIZE only, no data connection, so the capture holds the
	# control connection alone
	cap_start ftp-plain-vsftpd-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	curl_ client -I "ftp://$S/notes.txt"
	cap_stop
	manifest ftp-plain-vsftpd-curl.pcap "tcp/21:class=plaintext,app=ftp" "" 1 "$sw" \
		"FTP control connection in clear (curl -I, no data connection): a multi-line 220 greeting (banner_file), USER anonymous, PWD, MDTM, TYPE I, SIZE, REST, QUIT"

	cap_start ftp-authtls-vsftpd-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	curl_ client --ssl-reqd --resolve "files.internal:21:$S" "ftp://files.internal/notes.txt"
	cap_stop
	manifest ftp-authtls-vsftpd-curl.pcap \
		"tcp/21:class=tls,ver=TLS1.3,app=ftp,starttls=true tcp/$FTP_DATA_PORT:class=tls,ver=TLS1.3" "" 2 "$sw (ssl_enable=YES)" \
		"curl --ssl-reqd downloading one file: the multi-line 220 greeting, AUTH SSL (curl's first choice) and 234, then a TLS 1.3 handshake (SNI files.internal; vsftpd only takes P-256, so a HelloRetryRequest) and the rest (USER, PBSZ, PROT P, EPSV/PASV, RETR) inside TLS; the passive data connection to port $FTP_DATA_PORT is TLS from its first byte" \
		"$KEYS/ftp-authtls-vsftpd-curl.pcap.keys"

	cap_start ftp-authtls-tls12-vsftpd-openssl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	# vsftpd closes the connection after QUIT without a close_notify
	s_client client "QUIT" -starttls ftp -tls1_2 -ignore_unexpected_eof -connect "$S:21" -servername files.internal
	cap_stop
	manifest ftp-authtls-tls12-vsftpd-openssl.pcap "tcp/21:class=tls,ver=TLS1.2,app=ftp,starttls=true" "" 1 \
		"OpenSSL $V_OPENSSL s_client -starttls ftp -tls1_2 → vsftpd $V_VSFTPD (ssl_enable=YES)" \
		"openssl s_client -starttls ftp -tls1_2: the multi-line 220 greeting, AUTH TLS and 234, then a TLS 1.2 handshake (SNI files.internal; ServerHello and Certificate in clear) and QUIT inside TLS" \
		"$KEYS/ftp-authtls-tls12-vsftpd-openssl.pcap.keys"

	cap_start ftp-authtls-refused-vsftpd-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$S")"
	curl_ client --ssl -I "ftp://$S:2121/notes.txt"
	cap_stop
	manifest ftp-authtls-refused-vsftpd-curl.pcap "tcp/2121:class=plaintext,app=ftp" "" 1 "$sw (ssl_enable=NO)" \
		"curl --ssl (TLS if the server agrees) against vsftpd without TLS: AUTH SSL and AUTH TLS both refused with 530, then the session goes on in clear (USER anonymous, MDTM, SIZE; no data connection)"
}

# start_slapd runs slapd on the legacy host on port, with no database (the
# root DSE answers searches without one) and, when tls is "tls", the server
# certificate, so that it accepts StartTLS; without one it refuses it.
start_slapd() { # port tls|plain
	local port=$1 d=$WORK/slapd-$1
	mkdir -p "$d"
	server_pki "$d"
	printf 'pidfile %s/slapd.pid\nargsfile %s/slapd.args\n' "$d" "$d" >"$d/slapd.conf"
	if [[ $2 == tls ]]; then
		printf 'TLSCertificateFile %s/server.pem\nTLSCertificateKeyFile %s/server.key\n' "$d" "$d" >>"$d/slapd.conf"
	fi
	bg "slapd-$port" legacy /usr/sbin/slapd -d 0 -h "ldap://$LDAP_HOST:$port/" -f "$d/slapd.conf"
	wait_port legacy tcp "$port" "$LAST_BG"
}

# unpack_pureftpd unpacks Debian's pure-ftpd package into dir without
# installing it: it conflicts with vsftpd (both provide ftp-server), which
# rec_ftp and pkg/probe's tests use.
unpack_pureftpd() { # dir
	(cd "$1" && { apt-get download pure-ftpd >/dev/null 2>&1 || { apt-get update -qq && apt-get download pure-ftpd >/dev/null; }; }) ||
		die "apt-get download pure-ftpd failed"
	dpkg-deb -x "$1"/pure-ftpd_*.deb "$1/root"
	V_PUREFTPD=$(dpkg-deb -f "$1"/pure-ftpd_*.deb Version)
}

# Pure-FTPd answers AUTH TLS only; curl asks for AUTH SSL first and falls
# back to AUTH TLS when that is refused, so the upgrade comes on the second
# request. It runs on the api host's port 21 with one virtual user (PureDB)
# mapped to nobody, TLS offered (--tls 1) and one passive data port.
rec_ftp_pureftpd() {
	local d=$WORK/pure-ftpd api=${IP4[api]}
	mkdir -p "$d/home"
	unpack_pureftpd "$d"
	server_pki "$d"
	printf 'release notes 4.3: nothing secret\n' >"$d/home/notes.txt"
	chown -R nobody:nogroup "$d/home"
	printf 'files-pass-1\nfiles-pass-1\n' | "$d/root/usr/bin/pure-pw" useradd files -u nobody -g nogroup -d "$d/home" \
		-f "$d/pureftpd.passwd" -F "$d/pureftpd.pdb" -m >"$WORK/log/pure-pw.log" 2>&1 ||
		die "pure-pw failed: $(tail -3 "$WORK/log/pure-pw.log")"
	bg pure-ftpd api "$d/root/usr/sbin/pure-ftpd" --bind "$api,21" --login "puredb:$d/pureftpd.pdb" --noanonymous --tls 1 \
		--certfile "$d/server.pem,$d/server.key" --passiveportrange "$FTP_DATA_PORT:$FTP_DATA_PORT"
	wait_port api tcp 21 "$LAST_BG"

	cap_start ftp-authtls-pureftpd-curl.pcap "${BRCAP[@]}" "$(pair "$C" "$api")"
	curl_ client --ssl-reqd --resolve "files.internal:21:$api" -u files:files-pass-1 "ftp://files.internal/notes.txt"
	cap_stop
	manifest ftp-authtls-pureftpd-curl.pcap \
		"tcp/21:class=tls,ver=TLS1.3,app=ftp,starttls=true tcp/$FTP_DATA_PORT:class=tls,ver=TLS1.3" "" 2 \
		"curl $V_CURL → Pure-FTPd $V_PUREFTPD (--tls 1)" \
		"curl --ssl-reqd downloading one file from Pure-FTPd, which only knows AUTH TLS: curl's AUTH SSL is refused (500), its AUTH TLS accepted (234), then a TLS 1.3 handshake (SNI files.internal) and the login and RETR inside TLS; the passive data connection to port $FTP_DATA_PORT is TLS from its first byte" \
		"$KEYS/ftp-authtls-pureftpd-curl.pcap.keys"
}

rec_ldap() {
	start_slapd 389 tls
	start_slapd 1389 plain
	local sw="ldapsearch (OpenLDAP $V_LDAPUTILS) → slapd $V_SLAPD"
	local search=(-x -b "" -s base supportedExtension supportedLDAPVersion)

	cap_start ldap-plain-slapd-ldapsearch.pcap "${BRCAP[@]}" "$(pair "$C" "$LDAP_HOST")"
	ldapsearch_ client -H "ldap://$LDAP_HOST:389" "${search[@]}"
	cap_stop
	manifest ldap-plain-slapd-ldapsearch.pcap "tcp/389:class=plaintext,app=ldap" "" 1 "$sw" \
		"LDAP in clear: an anonymous simple bind, a base search of the root DSE (supportedExtension, supportedLDAPVersion) and its entry, unbind"

	cap_start ldap-starttls-slapd-ldapsearch.pcap "${BRCAP[@]}" "$(pair "$C" "$LDAP_HOST")"
	ldapsearch_ client -ZZ -H "ldap://$LDAP_HOST:389" "${search[@]}"
	cap_stop
	manifest ldap-starttls-slapd-ldapsearch.pcap "tcp/389:class=tls,ver=TLS1.3,app=ldap,starttls=true" "" 1 "$sw (TLSCertificateFile)" \
		"ldapsearch -ZZ: the StartTLS extended operation (1.3.6.1.4.1.1466.20037) and its success extendedResp in clear, then a TLS 1.3 handshake (no SNI: the URI names an address); bind and search inside TLS"

	cap_start ldap-starttls-slapd-openssl.pcap "${BRCAP[@]}" "$(pair "$C" "$LDAP_HOST")"
	s_client client "" -starttls ldap -connect "$LDAP_HOST:389"
	cap_stop
	manifest ldap-starttls-slapd-openssl.pcap "tcp/389:class=tls,ver=TLS1.3,app=ldap,starttls=true" "" 1 \
		"OpenSSL $V_OPENSSL s_client -starttls ldap → slapd $V_SLAPD (TLSCertificateFile)" \
		"openssl s_client -starttls ldap: OpenSSL's own StartTLS extendedReq and slapd's success extendedResp, then a TLS 1.3 handshake (no SNI) and one empty line inside TLS, which slapd closes the connection on" \
		"$KEYS/ldap-starttls-slapd-openssl.pcap.keys"

	cap_start ldap-starttls-refused-slapd-ldapsearch.pcap "${BRCAP[@]}" "$(pair "$C" "$LDAP_HOST")"
	ldapsearch_ client -Z -H "ldap://$LDAP_HOST:1389" "${search[@]}"
	cap_stop
	manifest ldap-starttls-refused-slapd-ldapsearch.pcap "tcp/1389:class=plaintext,app=ldap" "" 1 "$sw (no certificate)" \
		"ldapsearch -Z (StartTLS if the server agrees) against slapd without a certificate: the StartTLS extendedReq is refused (an extendedResp with an error result), then bind and search go on in clear"
}

ldapsearch_() { # ns args...
	local ns=$1; shift
	nsx "$ns" env LDAPTLS_CACERT="$PKI/ca.pem" ldapsearch -o nettimeout=10 "$@" >>"$WORK/log/ldapsearch-$CAP_NAME.log" 2>&1 ||
		die "ldapsearch failed for $CAP_NAME: $(tail -3 "$WORK/log/ldapsearch-$CAP_NAME.log")"
}

rec_mysql() {
	local d=$WORK/mariadb
	mkdir -p "$d"
	server_pki "$d"
	mariadb-install-db --no-defaults --datadir="$d/data" --user=root --auth-root-authentication-method=normal \
		--skip-test-db >"$WORK/log/mariadb-install-db.log" 2>&1 ||
		die "mariadb-install-db failed: $(tail -3 "$WORK/log/mariadb-install-db.log")"
	bg mariadbd db /usr/sbin/mariadbd --no-defaults --datadir="$d/data" --user=root --bind-address="$DB" --port=3306 \
		--socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --log-error="$d/error.log" --skip-log-bin \
		--ssl-cert="$d/server.pem" --ssl-key="$d/server.key"
	wait_port db tcp 3306 "$LAST_BG" 30
	mariadb --no-defaults --socket="$d/mysqld.sock" -u root -e "CREATE DATABASE shop;
		CREATE TABLE shop.orders(id int primary key, sku text, qty int);
		INSERT INTO shop.orders VALUES (1, 'SKU-0037', 2), (2, 'SKU-0074', 3);
		CREATE USER report@'10.77.0.%' IDENTIFIED BY 'report-pass-1'; GRANT SELECT ON shop.* TO report@'10.77.0.%';" ||
		die "mariadb setup failed"
	local sw="mariadb client → MariaDB $V_MARIADB"
	local query=(-h "$DB" -u report -preport-pass-1 shop -e "SELECT id, sku, qty FROM orders")

	cap_start mysql-plain-mariadb.pcap "${BRCAP[@]}" "$(pair "$C" "$DB")"
	mariadb_ client --skip-ssl "${query[@]}"
	cap_stop
	manifest mysql-plain-mariadb.pcap "tcp/3306:class=plaintext,app=mysql" "" 1 "$sw" \
		"MySQL protocol in clear (mariadb --skip-ssl): greeting offering CLIENT_SSL, handshake response with user report (mysql_native_password), a SELECT and its rows"

	cap_start mysql-ssl-mariadb.pcap "${BRCAP[@]}" "$(pair "$C" "$DB")"
	mariadb_ client --ssl --ssl-ca="$PKI/ca.pem" --ssl-verify-server-cert "${query[@]}"
	cap_stop
	manifest mysql-ssl-mariadb.pcap "tcp/3306:class=tls,ver=TLS1.3,app=mysql,starttls=true" "" 1 "$sw (--ssl-cert, --ssl-key)" \
		"mariadb --ssl --ssl-verify-server-cert: the server's greeting offering CLIENT_SSL, the client's 32-byte SSL request, then a TLS 1.3 handshake (no SNI: the client connects to an address) and login and the SELECT inside TLS"

	cap_start mysql-ssl-tls12-mariadb-openssl.pcap "${BRCAP[@]}" "$(pair "$C" "$DB")"
	s_client client "" -starttls mysql -tls1_2 -connect "$DB:3306"
	cap_stop
	manifest mysql-ssl-tls12-mariadb-openssl.pcap "tcp/3306:class=tls,ver=TLS1.2,app=mysql,starttls=true" "" 1 \
		"OpenSSL $V_OPENSSL s_client -starttls mysql -tls1_2 → MariaDB $V_MARIADB" \
		"openssl s_client -starttls mysql -tls1_2: the greeting, OpenSSL's own SSL request (other capability flags than the mariadb client's), then a TLS 1.2 handshake (no SNI; ServerHello and Certificate in clear) and one empty line inside TLS, which is no login packet, so the server closes the connection" \
		"$KEYS/mysql-ssl-tls12-mariadb-openssl.pcap.keys"
}

mariadb_() { # ns args...
	local ns=$1; shift
	nsx "$ns" mariadb --no-defaults --connect-timeout=10 "$@" >>"$WORK/log/mariadb-$CAP_NAME.log" 2>&1 ||
		die "mariadb failed for $CAP_NAME: $(tail -3 "$WORK/log/mariadb-$CAP_NAME.log")"
}

starttls_versions() {
	V_CURL=$(curl --version | awk 'NR==1{print $2}')
	V_OPENSSL=$(openssl version | awk '{print $2}')
	V_DOVECOT=$(dovecot --version | awk '{print $1}')
	V_VSFTPD=$(dpkg-query -W -f='${Version}' vsftpd)
	V_SLAPD=$(dpkg-query -W -f='${Version}' slapd)
	V_LDAPUTILS=$(dpkg-query -W -f='${Version}' ldap-utils)
	V_MARIADB=$(dpkg-query -W -f='${Version}' mariadb-server)
}

# The STARTTLS scenarios, in recording order.
STARTTLS_SCENARIOS=(rec_imap rec_pop3 rec_ftp rec_ftp_pureftpd rec_ldap rec_mysql)
