# shellcheck shell=sh
# dracut end to end: initrds built by Debian 12's dracut with the module
# dracut/91snp-unseal, booted under QEMU against snp-keybroker and snp-sim
# on this host. With systemd in the initrd (Debian's default):
#   unlock      the agent unlocks and the root's marker line appears (no
#               passphrase asked);
#   down        the broker is stopped: the agent retries until its deadline
#               (20 s here), the passphrase prompt appears within the bound,
#               the console says why, and the passphrase typed on the serial
#               console boots the root;
#   refused     the volume's policy wants another measurement: the prompt
#               appears at once, the refusal's reason (policy-rejected) is on
#               the console even with "quiet", the passphrase boots;
#   fail-closed on_failure = poweroff and a refusal: the guest powers off,
#               no prompt, no marker;
#   exit-11     the same without CAP_SYS_BOOT (a unit drop-in): the agent
#               exits 11 and the unit has systemd power off;
#   cmdline     an initrd built with snp_unseal_cmdline=yes unlocks with no
#               network settings on the kernel command line.
# Without systemd (network-legacy, the initqueue/online hook): unlock, and
# refused (the prompt waits for the agent, then follows its failure).
set -eu
. "$TOP/tests/lib.sh"
. "$TOP/qemu-scripts/lib.sh"

prompt='passphrase for'
deadline_s=20
# What TCG may add to a bound (its speed varies about twice).
slack_s=40

for tool in qemu-system-x86_64 dracut cryptsetup mke2fs busybox socat; do
	if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/sbin/$tool" ] && [ ! -x "/bin/$tool" ]; then
		echo "skipped: $tool is missing (run qemu-scripts/install-deps as root)"
		t_done
		exit 0
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (the kernel in /boot is readable by root only; dracut)"
	t_done
	exit 0
fi

e2e_init "${E2E_DIR:-$BUILD/e2e/dracut}"
trap e2e_cleanup EXIT
if ! e2e_world; then
	t_fail "the guest world is set up (image, simulator, broker)"
	t_done
	exit 1
fi
t_ok "the guest world is set up: volume $E2E_UUID, broker port $E2E_PORT"

conf="deadline = ${deadline_s}s"
build_initrd() { # NAME KIND [LINE...]
	bi_name=$1
	shift
	bi_start=$(e2e_now_ms)
	if e2e_dracut_snp "$E2E_W/$bi_name" "$@"; then
		t_ok "initrd $bi_name: $(e2e_size "$E2E_W/$bi_name") bytes in $(($(e2e_now_ms) - bi_start)) ms"
	else
		t_fail "initrd $bi_name is built" "$(tail -n 20 "$E2E_W/dracut.log")"
	fi
}
build_initrd initrd-systemd systemd "$conf"
build_initrd initrd-systemd-closed systemd "$conf" "on_failure = poweroff"
build_initrd initrd-legacy legacy "$conf"
E2E_DRACUT_CONF="snp_unseal_cmdline=yes" build_initrd initrd-systemd-cmdline systemd "$conf"
# The unit without CAP_SYS_BOOT: the agent can neither power off nor halt.
nocap=$E2E_W/nocap/etc/systemd/system/snp-unseal.service.d
mkdir -p "$nocap"
printf '[Service]\nCapabilityBoundingSet=~CAP_SYS_BOOT\n' >"$nocap/e2e-no-sys-boot.conf"
E2E_DRACUT_INCLUDE=$E2E_W/nocap build_initrd initrd-systemd-nocap systemd "$conf" \
	"on_failure = poweroff"
if [ "$t_failed" -ne 0 ]; then
	t_done
	exit 1
fi

# The last lines of a boot's console, for a failure's report.
console_tail() {
	tail -n 25 "$E2E_QEMU_LOG" | tr -d '\r' | sed 's/\x1b\[[0-9;]*[a-zA-Z]//g'
}

boot() { # NAME INITRD [APPEND...]
	b_name=$1 b_initrd=$2
	shift 2
	e2e_qemu_start "$b_name" "$E2E_W/$b_initrd" "$E2E_IMG" "$E2E_DRACUT_APPEND $*"
}

# expect_line CASE WHAT ERE SECONDS: the console shows ERE within SECONDS.
expect_line() {
	if e2e_wait_line "$E2E_QEMU_LOG" "$3" "$4"; then
		t_ok "$1: $2 (after $((E2E_SEEN_MS / 1000)).$((E2E_SEEN_MS % 1000 / 100)) s)"
	else
		t_fail "$1: $2 within $4 s" "$(console_tail)"
		return 1
	fi
}

console_has() { # CASE WHAT ERE
	if grep -qE "$3" "$E2E_QEMU_LOG"; then
		t_ok "$1: the console $2"
	else
		t_fail "$1: the console $2" "$(console_tail)"
	fi
}

console_lacks() { # CASE WHAT ERE
	if grep -qE "$3" "$E2E_QEMU_LOG"; then
		t_fail "$1: $2" "$(grep -E "$3" "$E2E_QEMU_LOG" | head -n 3)"
	else
		t_ok "$1: $2"
	fi
}

# The root came up: its marker (this build's), then QEMU exits (it powers off).
expect_root() { # CASE
	if e2e_wait_line "$E2E_QEMU_LOG" "$E2E_MARKER_TEXT" 120 && e2e_marker_seen "$E2E_QEMU_LOG" "$E2E_MARKER"; then
		t_ok "$1: switched root: the marker line (after $((E2E_SEEN_MS / 1000)) s)"
	else
		t_fail "$1: switched root: the marker line" "$(console_tail)"
	fi
	e2e_qemu_wait
}

# Type the passphrase once the prompt is there (its agent waits on input).
answer_prompt() {
	sleep 2
	e2e_type "$E2E_PASSPHRASE"
}

unlock_case() { # CASE INITRD
	boot "$1" "$2"
	expect_root "$1"
	console_has "$1" "says the volume was unlocked by snp-unseal" \
		"snp-unseal\[[0-9]+\]: .*unlocked as luks-$E2E_UUID"
	console_lacks "$1" "no passphrase prompt" "$prompt"
}

refused_case() { # CASE INITRD [APPEND...]
	rc_name=$1
	shift
	e2e_broker volume set-policy "$E2E_UUID" other >/dev/null
	boot "$rc_name" "$@"
	if expect_line "$rc_name" "the console gives the refusal's reason" \
		"snp-unseal\[[0-9]+\]: .*refused: policy-rejected" 240; then
		refused_ms=$E2E_SEEN_MS
		if expect_line "$rc_name" "the passphrase prompt" "$prompt" "$slack_s"; then
			t_check "$rc_name: the prompt came at once after the refusal (within 20 s, not after the deadline)" \
				test $((E2E_SEEN_MS - refused_ms)) -le 20000
			answer_prompt
			expect_root "$rc_name"
		fi
	fi
	e2e_qemu_stop
	e2e_broker volume set-policy "$E2E_UUID" default >/dev/null
}

# --- With systemd.
unlock_case unlock initrd-systemd

e2e_broker_stop
boot down initrd-systemd
if expect_line down "the agent starts" 'snp-unseal\[[0-9]+\]: looking for volumes' 240; then
	started_ms=$E2E_SEEN_MS
	if expect_line down "the passphrase prompt" "$prompt" $((deadline_s + slack_s)); then
		waited=$(((E2E_SEEN_MS - started_ms) / 1000))
		if [ "$waited" -ge $((deadline_s - 2)) ] && [ "$waited" -le $((deadline_s + slack_s)) ]; then
			t_ok "down: the prompt came $waited s after the agent started (deadline $deadline_s s)"
		else
			t_fail "down: the prompt came within $((deadline_s - 2))-$((deadline_s + slack_s)) s of the agent's start" \
				"after $waited s"
		fi
		console_has down "says no broker answered" \
			"snp-unseal\[[0-9]+\]: .*no broker (reachable|released).*deadline"
		answer_prompt
		expect_root down
	fi
fi
e2e_qemu_stop
e2e_broker_start

refused_case refused initrd-systemd quiet

closed_case() { # CASE INITRD ERE-ON-THE-CONSOLE
	e2e_broker volume set-policy "$E2E_UUID" other >/dev/null
	boot "$1" "$2"
	e2e_qemu_wait
	if [ "$E2E_QEMU_STATUS" -eq 0 ]; then
		t_ok "$1: the guest powered off by itself"
	else
		t_fail "$1: the guest powered off by itself" \
			"QEMU exit $E2E_QEMU_STATUS (124: timed out)" "$(console_tail)"
	fi
	console_has "$1" "says why" "$3"
	console_lacks "$1" "no marker: the root never came up" "$E2E_MARKER_TEXT"
	console_lacks "$1" "no passphrase prompt" "$prompt"
	e2e_broker volume set-policy "$E2E_UUID" default >/dev/null
}
closed_case fail-closed initrd-systemd-closed "snp-unseal\[[0-9]+\]: .*failing closed: powering off"
# Exit 11: the unit's ExecStopPost has PID 1 power off.
closed_case exit-11 initrd-systemd-nocap "snp-unseal\[[0-9]+\]: .*cannot halt either"

# The network set up from the initrd's own settings (snp_unseal_cmdline=yes):
# nothing but the root on the kernel command line.
e2e_qemu_start cmdline "$E2E_W/initrd-systemd-cmdline" "$E2E_IMG" \
	"root=/dev/mapper/luks-$E2E_UUID rd.luks.uuid=$E2E_UUID"
expect_root cmdline
console_lacks cmdline "no passphrase prompt" "$prompt"

# --- Without systemd.
unlock_case legacy-unlock initrd-legacy
refused_case legacy-refused initrd-legacy

t_done
