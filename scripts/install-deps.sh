#!/usr/bin/env bash
# Installs the Debian 12 packages trackmail needs to build, run and test.
# Runs apt-get only when something is missing, so a second run costs
# nothing. Uses sudo when not root.
set -eu
packages=(
	build-essential pkg-config meson ninja-build
	libetpan-dev libpcre2-dev libcurl4-gnutls-dev libsqlite3-dev
	libgnutls28-dev libevent-dev libjansson-dev libxml2-dev libyaml-dev
	libcmocka-dev ca-certificates
	# tests: the sqlite3 CLI reads the database, python3 checks JSON,
	# clang + libFuzzer for the fuzz smoke run
	sqlite3 python3 clang libclang-rt-14-dev valgrind
	# tools the integration tests call (a minbase system lacks some):
	# pgrep (worker_limits), strace (store_safety: no connection crosses
	# fork), mount for the small tmpfs of the disk-full check, script
	# (bsdutils) for a pseudo-terminal, and the
	# base tools the scripts use: timeout/mkfifo/base64/stat/truncate,
	# awk, sed, grep, find
	procps strace mount bsdutils coreutils mawk sed grep findutils
	# SMTP/LMTP intake: STARTTLS through libevent's OpenSSL bufferevents;
	# tests and benchmark: swaks, openssl (a self-signed certificate),
	# iproute2 (ss), postfix (smtp-source, smtp-sink)
	libssl-dev openssl swaks iproute2 postfix
	# accounts/imap: crypt(3) for the Dovecot password hash, libopendkim
	# (DKIM), opendkim-tools (signs test mail), Dovecot (serves the
	# quarantine folders and the poller's test mailbox)
	libcrypt-dev libopendkim-dev opendkim-tools dovecot-imapd
	# dispatch tests: curl talks to the fake channels' control endpoints
	curl
	# benchmarks (tests/bench/run_bench.sh): /usr/bin/time for peak RSS,
	# taskset (util-linux) to pin to one core
	time util-linux
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
# Postfix is only a test peer and a benchmark tool (tests start it from a
# private config directory): install it unconfigured, so it does not take
# port 25 or ask questions.
echo "postfix postfix/main_mailer_type select No configuration" |
	$SUDO debconf-set-selections
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
