# shellcheck shell=sh
# initramfs-tools end to end under QEMU (TCG): initrds made by mkinitramfs
# with initramfs-tools/ (tests/e2e/initramfs-tools.sh), the real kernel,
# udev, cryptroot and dm-crypt in the guest; the broker and the firmware
# simulator on the host (qemu-scripts/lib.sh). Each case reads its
# verdict from the serial console:
#   unlock       the agent opens root_crypt before cryptroot, which finds
#                it open; switch_root into the encrypted root (its marker)
#   down         no broker: cryptroot's prompt within the deadline's bound,
#                the reason on the console; the passphrase typed there boots
#   refused      the broker refuses the measurement: the prompt, and the
#                broker's reason on the console (booted with "quiet")
#   closed       the same with on_failure = poweroff: the guest powers off,
#                no prompt, no root
#   poweroff-failed  the same, the agent without CAP_SYS_BOOT: it cannot
#                power off and exits 11; the script powers off instead
#   keyscript    crypttab's keyscript= mode: cryptroot runs
#                snp-unseal-keyscript (unlock --print-key) and boots
#   keyscript-refused  the keyscript falls back to askpass's prompt; the
#                passphrase typed there boots
#   cryptopts    no crypttab in the initrd, the line in cryptopts= on the
#                kernel command line: the agent uses that name
# and prints the figures: time from QEMU's start to the root's marker,
# and the initrd's size with and without snp-unseal.
#
# Needs root (the kernel in /boot is root's), qemu-system-x86,
# initramfs-tools-core and cryptsetup-initramfs (qemu-scripts/install-deps);
# skips without them. Run by tests/e2e/run (env BUILD, TOP, E2E_DIR);
# arguments: the cases to run (default all), e.g. "keyscript cryptopts".
set -eu
. "$TOP/tests/lib.sh"
. "$TOP/qemu-scripts/lib.sh"
. "$TOP/tests/e2e/initramfs-tools.sh"

skip() {
	echo "skipped: $*"
	t_done
	exit 0
}

for prog in qemu-system-x86_64 mkinitramfs cryptsetup mke2fs socat; do
	command -v "$prog" >/dev/null 2>&1 ||
		skip "$prog is missing (qemu-scripts/install-deps installs it)"
done
[ -x /usr/share/initramfs-tools/hooks/cryptroot ] ||
	skip "cryptsetup-initramfs is missing (qemu-scripts/install-deps installs it)"
[ "$(id -u)" -eq 0 ] || skip "not root (the guest kernel in /boot and mkinitramfs want root)"

trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

deadline_s=20		# the agent's deadline in the "down" case
margin_s=30		# what TCG may add to a bound (its speed varies ~2x)
prompt_re='Please unlock disk root_crypt'

setup_failed() {
	t_fail "set-up: $1"
	t_done || true
	exit 1
}

e2e_init "${E2E_DIR:-$BUILD/e2e/initramfs-tools}" || setup_failed "work directory"
W=$E2E_W
e2e_world || setup_failed "the guest world (image, simulator, broker, enrolment)"
t_ok "the guest world is set up: volume $E2E_UUID, broker port $E2E_PORT"

printf 'root_crypt UUID=%s none luks,discard\n' "$E2E_UUID" >"$W/crypttab"
printf 'root_crypt UUID=%s none luks,discard,keyscript=%s\n' "$E2E_UUID" \
	/lib/cryptsetup/scripts/snp-unseal-keyscript >"$W/crypttab-keyscript"
: >"$W/crypttab-none"
for variant in plain:crypttab:with without:crypttab:without keyscript:crypttab-keyscript:with \
	notab:crypttab-none:with nosysboot:crypttab:nosysboot; do
	name=${variant%%:*} rest=${variant#*:}
	if e2e_initramfs "$W/initrd-$name" "$W/conf-$name" "$W/${rest%%:*}" "${rest#*:}"; then
		t_ok "mkinitramfs: initrd-$name"
	else
		setup_failed "mkinitramfs initrd-$name"
	fi
done

# The initrd's order: ours before cryptroot in local-top (cryptroot's
# prereqs name every other script there).
mkdir "$W/unpacked"
unmkinitramfs "$W/initrd-plain" "$W/unpacked" >/dev/null 2>&1 ||
	setup_failed "unmkinitramfs initrd-plain"
order=$(grep -o '/scripts/local-top/[a-z-]*' "$W/unpacked/scripts/local-top/ORDER" | tr '\n' ' ')
case $order in
*snp-unseal*cryptroot*) t_ok "local-top order: $order" ;;
*) t_fail "local-top order: snp-unseal before cryptroot" "$order" ;;
esac
for f in usr/sbin/snp-unseal etc/snp-unseal/snp-unseal.conf etc/snp-unseal/ca.pem \
	scripts/snp-unseal-functions usr/lib/cryptsetup/askpass cryptroot/crypttab; do
	t_check "initrd-plain holds /$f" test -s "$W/unpacked/$f"
done
for m in sev-guest configfs virtio_console dm-crypt virtio_net; do
	t_check "initrd-plain holds $m.ko" \
		sh -c "find '$W/unpacked/usr/lib/modules' -name '$m.ko*' | grep -q ."
done

cases=${*:-unlock down refused closed poweroff-failed keyscript-refused keyscript cryptopts}

# policy NAME: the volume's policy at the broker ("default" releases,
# "other" refuses this guest's measurement).
policy() {
	e2e_broker volume set-policy "$E2E_UUID" "$1" >/dev/null || setup_failed "set-policy $1"
}

log=""
# boot NAME INITRD [APPEND...]
boot() {
	b_name=$1 b_initrd=$2
	shift 2
	e2e_qemu_start "$b_name" "$W/initrd-$b_initrd" "$E2E_IMG" "$(e2e_initramfs_append) $*"
	log=$E2E_QEMU_LOG
}

# wait_for CASE WHAT ERE SECONDS: ok when a console line matches.
wait_for() {
	if e2e_wait_line "$log" "$3" "$4"; then
		t_ok "$1: $2 (after $E2E_SEEN_MS ms)"
		return 0
	fi
	t_fail "$1: $2" "not on the console within $4 s; its last lines:" "$(tail -n 25 "$log")"
	return 1
}

console_has() { # CASE WHAT TEXT
	if grep -qF -- "$3" "$log"; then
		t_ok "$1: $2"
	else
		t_fail "$1: $2" "expected on the console: $3" "$(tail -n 25 "$log")"
	fi
}

console_lacks() { # CASE WHAT TEXT
	if grep -qF -- "$3" "$log"; then
		t_fail "$1: $2" "on the console: $(grep -F -- "$3" "$log" | head -n 3)"
	else
		t_ok "$1: $2"
	fi
}

marker_re="$E2E_MARKER_TEXT $E2E_MARKER"

# unlock
case_unlock() {
	policy default
	boot unlock plain
	if wait_for unlock "switch_root into the encrypted root (marker)" "$marker_re" "$E2E_BOOT_TIMEOUT"; then
		boot_ms=$E2E_SEEN_MS
	fi
	e2e_qemu_wait
	console_has unlock "the agent opened it under crypttab's name" \
		"/cryptroot/crypttab names it root_crypt"
	console_has unlock "the script said so" "snp-unseal: unlocked"
	console_has unlock "the root is the dm-crypt mapping" "root device: /dev/mapper/root_crypt"
	console_has unlock "local-bottom took the network down" "taken down for the real system"
	console_lacks unlock "no passphrase prompt" "Please unlock disk"
	console_lacks unlock "cryptroot had nothing to complain about" "cryptsetup: ERROR"
	t_check "unlock: the guest powered off by itself (QEMU status 0)" test "$E2E_QEMU_STATUS" -eq 0
}

# down: no broker behind the forward
case_down() {
	policy default
	e2e_broker_stop
	boot down plain "rd.snp_unseal.deadline=${deadline_s}s"
	if wait_for down "the agent started" 'snp-unseal: unlocking' "$E2E_BOOT_TIMEOUT"; then
		start_ms=$E2E_SEEN_MS
		bound_s=$((deadline_s + margin_s))
		if wait_for down "the passphrase prompt" "$prompt_re" "$bound_s"; then
			took_ms=$((E2E_SEEN_MS - start_ms))
			if [ "$took_ms" -le $((bound_s * 1000)) ]; then
				t_ok "down: prompt ${took_ms} ms after the agent started (deadline ${deadline_s} s, bound ${bound_s} s)"
			else
				t_fail "down: prompt within ${bound_s} s" "after $took_ms ms"
			fi
			console_has down "the reason on the console" "no broker answered in time (exit 7)"
			e2e_type "$E2E_PASSPHRASE"
			wait_for down "the passphrase typed at the prompt boots" "$marker_re" 120 || true
		fi
	fi
	e2e_qemu_stop
	e2e_broker_start || setup_failed "broker restart"
}

# refused: the volume's policy wants another measurement
case_refused() {
	policy other
	# "quiet": the kernel shows errors only; the reason is still there.
	boot refused plain quiet
	if wait_for refused "the passphrase prompt" "$prompt_re" "$E2E_BOOT_TIMEOUT"; then
		console_has refused "the broker's reason on the console" "refused: policy-rejected"
		console_has refused "what comes next on the console" \
			"automatic unlock failed: the broker refused (exit 6); cryptroot asks for the passphrase"
	fi
	console_lacks refused "no root" "$marker_re"
	e2e_qemu_stop
}

# closed: the same refusal, failing closed
case_closed() {
	policy other
	boot closed plain "rd.snp_unseal.on_failure=poweroff"
	e2e_qemu_wait
	if [ "$E2E_QEMU_STATUS" -eq 0 ]; then
		t_ok "closed: the guest powered off (QEMU exited by itself)"
	else
		t_fail "closed: the guest powered off" "QEMU status $E2E_QEMU_STATUS (124: timed out)" \
			"$(tail -n 25 "$log")"
	fi
	console_has closed "the reason on the console" "refused: policy-rejected"
	console_has closed "failing closed said" "failing closed: powering off"
	console_has closed "the kernel powered down" "reboot: Power down"
	console_lacks closed "no prompt" "Please unlock disk"
	console_lacks closed "no root" "$marker_re"
}

# poweroff-failed: failing closed where the agent cannot power off
case_poweroff_failed() {
	policy other
	boot poweroff-failed nosysboot "rd.snp_unseal.on_failure=poweroff"
	e2e_qemu_wait
	if [ "$E2E_QEMU_STATUS" -eq 0 ]; then
		t_ok "poweroff-failed: the guest powered off (QEMU exited by itself)"
	else
		t_fail "poweroff-failed: the guest powered off" \
			"QEMU status $E2E_QEMU_STATUS (124: timed out)" "$(tail -n 25 "$log")"
	fi
	console_has poweroff-failed "the agent could not power off" "cannot power off"
	console_has poweroff-failed "the agent exited 11" "exiting with 11"
	console_has poweroff-failed "the script failed closed" "snp-unseal: failing closed: powering off"
	console_has poweroff-failed "the kernel powered down" "reboot: Power down"
	console_lacks poweroff-failed "no prompt" "Please unlock disk"
	console_lacks poweroff-failed "no root" "$marker_re"
}

# keyscript-refused: still refused; the keyscript falls back to askpass
case_keyscript_refused() {
	policy other
	boot keyscript-refused keyscript
	if wait_for keyscript-refused "the passphrase prompt" "$prompt_re" "$E2E_BOOT_TIMEOUT"; then
		console_has keyscript-refused "the reason on the console" \
			"snp-unseal-keyscript: automatic unlock failed: the broker refused (exit 6)"
		e2e_type "$E2E_PASSPHRASE"
		wait_for keyscript-refused "the passphrase typed at the prompt boots" "$marker_re" 120 || true
	fi
	e2e_qemu_stop
}

# keyscript: cryptroot runs the keyscript, which prints the key
case_keyscript() {
	policy default
	boot keyscript keyscript
	wait_for keyscript "switch_root into the encrypted root (marker)" "$marker_re" \
		"$E2E_BOOT_TIMEOUT" || true
	e2e_qemu_wait
	console_has keyscript "local-top left the keyscript's line to cryptroot" \
		"has a keyscript: left to cryptroot"
	console_has keyscript "the agent got the secret" "released the secret"
	console_has keyscript "cryptroot opened it with the key" "cryptsetup: root_crypt: set up successfully"
	console_lacks keyscript "no passphrase prompt" "Please unlock disk"
}

# cryptopts: the line on the kernel command line only
case_cryptopts() {
	policy default
	boot cryptopts notab "cryptopts=target=root_crypt,source=UUID=$E2E_UUID,luks,discard"
	wait_for cryptopts "switch_root into the encrypted root (marker)" "$marker_re" \
		"$E2E_BOOT_TIMEOUT" || true
	e2e_qemu_wait
	console_has cryptopts "the agent took cryptopts=' name" "/run/snp-unseal/crypttab names it root_crypt"
	console_lacks cryptopts "no passphrase prompt" "Please unlock disk"
}

boot_ms=""
for c in $cases; do
	case $c in
	unlock | down | refused | closed | poweroff-failed | keyscript-refused | keyscript | cryptopts)
		"case_$(echo "$c" | tr - _)"
		;;
	*) t_fail "no case $c" ;;
	esac
done

with=$(e2e_size "$W/initrd-plain")
without=$(e2e_size "$W/initrd-without")
t_check "snp-unseal adds to the initrd" test "$with" -gt "$without"
echo "figure: initramfs-tools, QEMU start to the root's marker: ${boot_ms:-?} ms (TCG)"
echo "figure: initramfs-tools initrd (zstd, MODULES=list): $with bytes with snp-unseal," \
	"$without without: +$((with - without)) bytes"
t_done
