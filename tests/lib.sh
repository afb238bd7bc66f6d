# shellcheck shell=sh
# Helpers for shell test suites: source it, call t_ok / t_fail per check,
# end with t_done. The last line is "N passed, N failed" like the C runner.

t_passed=0
t_failed=0

t_ok() {
	t_passed=$((t_passed + 1))
	echo "ok   $1"
}

t_fail() {
	t_failed=$((t_failed + 1))
	echo "FAIL $1"
	shift
	for line in "$@"; do
		echo "    $line"
	done
}

# t_check NAME CMD...: passes when CMD succeeds.
t_check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		t_ok "$name"
	else
		t_fail "$name" "command failed: $*" "$out"
	fi
}

# t_status NAME WANT CMD...: passes when CMD exits with WANT ("nonzero" for
# any failure). Its output, stdout and stderr, is left in $t_out.
t_status() {
	name=$1 want=$2
	shift 2
	status=0
	t_out=$("$@" 2>&1) || status=$?
	case $want:$status in
	nonzero:0) t_fail "$name" "exit 0, wanted a failure" "$t_out" ;;
	nonzero:*) t_ok "$name" ;;
	"$status:$status") t_ok "$name" ;;
	*) t_fail "$name" "exit $status, wanted $want" "$t_out" ;;
	esac
}

# t_contains NAME HAYSTACK NEEDLE
t_contains() {
	case $2 in
	*"$3"*) t_ok "$1" ;;
	*) t_fail "$1" "expected to find: $3" "in: $2" ;;
	esac
}

# t_refused_run NAME NEEDLE CMD...: CMD exits 2 (bad usage or input) with
# NEEDLE in its message and nothing on standard output. Files in $tmp.
t_refused_run() {
	trr_name=$1 trr_needle=$2
	shift 2
	trr_status=0
	# shellcheck disable=SC2154 # tmp is the calling suite's
	"$@" >"$tmp/refused.out" 2>"$tmp/refused.err" || trr_status=$?
	if [ "$trr_status" -ne 2 ]; then
		t_fail "$trr_name" "exit $trr_status, wanted 2" "$(cat "$tmp/refused.err")"
	elif [ -s "$tmp/refused.out" ]; then
		t_fail "$trr_name" "printed: $(cat "$tmp/refused.out")"
	else
		t_contains "$trr_name" "$(cat "$tmp/refused.err")" "$trr_needle"
	fi
}

t_done() {
	echo "$t_passed passed, $t_failed failed"
	[ "$t_failed" -eq 0 ]
}

# t_wait_for FILE PATTERN PID: until FILE matches PATTERN (grep), at most
# 30 s and only while PID lives; 1 when it never did.
t_wait_for() {
	tw_n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		tw_n=$((tw_n + 1))
		if [ "$tw_n" -gt 300 ] || ! kill -0 "$3" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
}

# t_start_sim NAME CONFIG-TEXT: snp-sim ($sim) serving the state $tmp/sim
# with that configuration on $tmp/NAME.sock, its log in $tmp/NAME.log; its
# pid is added to $pids (for the suite's cleanup). One check: it started.
# shellcheck disable=SC2154 # sim and tmp are the calling suite's
t_start_sim() {
	printf '%s\n' "$2" >"$tmp/$1.conf"
	"$sim" serve --state "$tmp/sim" --config "$tmp/$1.conf" --listen "unix:$tmp/$1.sock" \
		2>"$tmp/$1.log" &
	pids="$pids $!"
	if t_wait_for "$tmp/$1.log" 'listening on' "$!"; then
		t_ok "simulator $1 started"
	else
		t_fail "simulator $1 started" "$(cat "$tmp/$1.log")"
	fi
}

# t_start_broker: "$broker" serve --config "$conf" in the background, its log
# in $tmp/broker.log; waits for the port it bound. Sets broker_pid, port and
# url (https://broker.test:PORT); 1 when it did not start.
# shellcheck disable=SC2154,SC2034 # broker, conf, tmp in; broker_pid, port, url out
t_start_broker() {
	"$broker" serve --config "$conf" --print-port "$tmp/port" 2>"$tmp/broker.log" &
	broker_pid=$!
	t_wait_for "$tmp/port" '[0-9]' "$broker_pid" || return 1
	port=$(head -n 1 "$tmp/port")
	url=https://broker.test:$port
}
