# dovecot_lib.sh - starts a private Dovecot for a test (sourced after
# lib.sh). dovecot_start CONF_FILE: runs `dovecot -F -c CONF_FILE` in the
# background, waits for its port ($DOVECOT_PORT) and stops it on exit.
# free_port: prints a free loopback TCP port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Dovecot never accesses mail as root. Run as root (CI here), the test
# runs trackmail as `nobody` (AS_MAIL_USER prefixes those commands) and
# Dovecot's mail and auth processes as that user too; otherwise as the
# current user. dovecot_mail_dir DIR creates a data dir that user owns.
if [ "$(id -u)" -eq 0 ]; then
	MAIL_USER=nobody
	MAIL_GROUP=$(id -gn nobody)
	AS_MAIL_USER=(setpriv --reuid=nobody --regid="$MAIL_GROUP" --clear-groups)
	chmod 711 "$WORK"
else
	MAIL_USER=$(id -un)
	MAIL_GROUP=$(id -gn)
	AS_MAIL_USER=()
fi
dovecot_mail_dir() {
	mkdir -p "$1"
	chmod 700 "$1"
	[ "$(id -u)" -eq 0 ] && chown "$MAIL_USER:$MAIL_GROUP" "$1"
	return 0
}

DOVECOT_PIDS=()
dovecot_stop_all() {
	for p in "${DOVECOT_PIDS[@]}"; do
		kill "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
	rm -rf "$WORK"
}
trap dovecot_stop_all EXIT

# dovecot_start CONF PORT LOG
dovecot_start() {
	dovecot -F -c "$1" >> "$3" 2>&1 &
	DOVECOT_PIDS+=("$!")
	for _ in $(seq 50); do
		kill -0 "${DOVECOT_PIDS[-1]}" 2> /dev/null || break
		if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$2" 2> /dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "# dovecot did not start:" >&2
	sed 's/^/# /' "$3" >&2
	return 1
}

# dovecot_conf_paths DATA_DIR < deploy file: the deploy file with the data
# dir replaced and the certificate lines left out (the test runs without
# TLS; Dovecot reads a `<file` value while parsing).
dovecot_conf_paths() {
	sed -e "s|/var/lib/trackmail|$1|g" -e '/^ssl_cert = </d' -e '/^ssl_key = </d'
}

# tls_ca DIR NAME: a CA (DIR/NAME.pem, DIR/NAME.key) for the IMAPS tests;
# tls_cert DIR CA NAME SAN: a server certificate DIR/NAME.pem (and .key)
# that CA signs for SAN (e.g. "DNS:localhost").
tls_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
		-keyout "$1/$2.key" -out "$1/$2.pem" 2> /dev/null
}
tls_cert() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$3" -keyout "$1/$3.key" \
		-out "$1/$3.csr" 2> /dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$4" > "$1/$3.ext"
	openssl x509 -req -in "$1/$3.csr" -CA "$1/$2.pem" -CAkey "$1/$2.key" \
		-CAcreateserial -days 2 -extfile "$1/$3.ext" -out "$1/$3.pem" 2> /dev/null
}

# imaps_test_setup: the start of a test against a Dovecot over TLS: skips
# the test when dovecot or openssl is missing; sets D (trackmail's data
# dir) and C (certificates: a private CA testca and a server certificate
# for localhost it signs, checked); makes Dovecot's run and state dirs
# under $WORK/dc.
imaps_test_setup() {
	if ! command -v dovecot > /dev/null || ! command -v openssl > /dev/null; then
		echo "1..0 # SKIP dovecot or openssl missing (scripts/install-deps.sh)"
		exit 0
	fi
	D="$WORK/data"
	C="$WORK/certs"
	mkdir -p "$C" "$WORK/dc/run" "$WORK/dc/state"
	tls_ca "$C" testca
	tls_cert "$C" testca server "DNS:localhost"
	check "a private CA and a server certificate for localhost" \
		test -s "$C/server.pem"
	chmod 644 "$C"/*.pem "$C"/*.key
}

# dovecot_imaps_settings CERT_DIR PORT: what a test appends after
# dovecot_test_settings DIR 0 to serve IMAPS only (the private CA's
# server.pem/server.key in CERT_DIR) on 127.0.0.1:PORT.
dovecot_imaps_settings() {
	cat <<EOT
ssl = required
ssl_cert = <$1/server.pem
ssl_key = <$1/server.key
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $2
  }
}
EOT
}

# dovecot_test_settings DIR PORT: the settings a test appends to a config
# so the instance is private: loopback port, own run and state dirs, no
# TLS, MAIL_USER as the mail and auth user.
dovecot_test_settings() {
	cat <<EOT

# --- test settings (tests/integration/dovecot_lib.sh) ---
listen = 127.0.0.1
base_dir = $1/run
state_dir = $1/state
log_path = $1/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
mail_uid = $MAIL_USER
mail_gid = $MAIL_GROUP
first_valid_uid = 1
first_valid_gid = 1
service auth {
  user = $MAIL_USER
}
service auth-worker {
  user = $MAIL_USER
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $2
  }
  inet_listener imaps {
    port = 0
  }
}
EOT
	# As root, Dovecot keeps its own unprivileged login and internal
	# users (it refuses to run imap-login as root); as another user,
	# every process runs as that user.
	[ "$(id -u)" -eq 0 ] && return 0
	cat <<EOT
default_internal_user = $(id -un)
default_login_user = $(id -un)
default_internal_group = $(id -gn)
service stats {
  unix_listener stats-reader {
    user = $(id -un)
  }
  unix_listener stats-writer {
    user = $(id -un)
  }
}
EOT
}
