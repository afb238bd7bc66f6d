# shellcheck shell=sh
# shellcheck disable=SC2034 # E2E_* variables are set for the callers
# Shared shell functions for the QEMU demo (qemu-scripts/demo) and the
# end-to-end tests (tests/e2e/): the host side of a simulated SEV-SNP boot.
# POSIX sh; source it after setting
#   TOP     the checkout
#   BUILD   the build directory (snp-unseal, snp-keybroker, snp-sim,
#           bin/broker-load, bin/luks-fill)
# and call e2e_init first. Every function is prefixed e2e_; variables it
# sets for callers are E2E_*; its own scratch variables are prefixed by the
# function's initials. Failures are returned (status 1, a message on
# stderr), never exit.
#
#   e2e_init DIR             work directory (made empty); trap e2e_cleanup
#                            on EXIT yourself. Sets E2E_W.
#   e2e_cleanup              stop everything started here (QEMU, simulator,
#                            broker); the work directory is left.
#   e2e_now_ms               milliseconds since the epoch, on stdout.
#   e2e_kernel               pick the kernel: $SNP_DEMO_KVER, else the newest
#                            /boot/vmlinuz-* with /lib/modules/KVER. Sets
#                            E2E_KVER, E2E_VMLINUZ.
#   e2e_new_marker           a random marker. Sets E2E_MARKER, also written
#                            to $E2E_W/marker.
#   e2e_make_rootdir DIR MARKER
#                            the encrypted root's tree: busybox-static and an
#                            /sbin/init that prints
#                            "SNP-UNSEAL-E2E: root is up, marker MARKER" and
#                            powers off.
#   e2e_make_image IMG ROOTDIR PASSFILE
#                            a LUKS2 image (aes-xts-plain64, 512-bit key,
#                            512-byte sectors, PBKDF2 at 1000 iterations for
#                            the passphrase in PASSFILE) whose data segment
#                            holds ROOTDIR as ext4, encrypted by luks-fill
#                            (no device-mapper needed). Sets E2E_UUID.
#   e2e_sim_start            snp-sim serving a copy of tests/data/sim on
#                            $E2E_W/sim.sock, its reports holding the
#                            measurement snp-owner gives for $E2E_LAUNCH.
#                            Sets E2E_SIM_PID.
#   e2e_broker_setup         the broker's configuration ($E2E_BROKER_CONF),
#                            state, and two policies written by snp-owner
#                            policy: "default" (the launch $E2E_LAUNCH) and
#                            "other" (the same with 4 vCPUs: another
#                            measurement, every report is refused).
#   e2e_broker_start         snp-keybroker serve on 127.0.0.1, a free port.
#                            Sets E2E_PORT, E2E_BROKER_PID.
#   e2e_broker_stop, e2e_sim_stop
#   e2e_broker CMD...        snp-keybroker CMD... --config $E2E_BROKER_CONF
#   e2e_enroll IMG PASSFILE  snp-unseal enroll (broker
#                            https://broker.test:8443, tests/data/tls/ca.pem),
#                            then volume add with policy "default".
#   e2e_agent_conf FILE [LINE...]
#                            the guest's snp-unseal.conf: connect_to
#                            10.0.2.100, ca /etc/snp-unseal/ca.pem, provider
#                            sim on the virtio-serial port; LINEs appended.
#   e2e_guest_etc DIR [LINE...]
#                            DIR/snp-unseal.conf (e2e_agent_conf) and
#                            DIR/ca.pem: what goes to the initrd's
#                            /etc/snp-unseal.
#   e2e_dracut OUT CONFDIR [DRACUT-ARG...]
#                            a dracut initrd for E2E_KVER with the module
#                            dracut/91snp-unseal (found through a private
#                            dracutbasedir: nothing is written to /usr/lib),
#                            zstd, the virtio and dm-crypt drivers; the
#                            dracut .conf files in CONFDIR (may be empty).
#   e2e_world                everything above in one go, in $E2E_W: kernel,
#                            marker, root tree, image $E2E_IMG (UUID
#                            $E2E_UUID; passphrase $E2E_PASSPHRASE, also in
#                            the file $E2E_PASSFILE), simulator, broker with
#                            the volume enrolled under policy "default",
#                            serving (E2E_PORT).
#   e2e_dracut_snp OUT systemd|legacy [LINE...]
#                            a dracut initrd with snp-unseal: the agent from
#                            $BUILD, a snp-unseal.conf of e2e_agent_conf with
#                            LINEs, with systemd (Debian 12's default) or
#                            without it (network-legacy). Boot it with
#                            $E2E_DRACUT_APPEND on the command line.
#                            $E2E_DRACUT_CONF: more lines for its dracut
#                            .conf (snp_unseal_cmdline=yes, say);
#                            $E2E_DRACUT_INCLUDE: a directory whose tree is
#                            added to the initrd's root (dracut --include).
#   e2e_qemu_start NAME INITRD IMG APPEND [SECONDS]
#                            boot under QEMU (TCG, q35, 1 GiB, 2 vCPUs), in
#                            the background, under timeout(1) (default
#                            $E2E_BOOT_TIMEOUT s). The serial console goes to
#                            $E2E_W/NAME.log; its input is the FIFO
#                            $E2E_W/NAME.in (see e2e_type). The command
#                            line starts "console=ttyS0 panic=1". One guest
#                            at a time. Sets E2E_QEMU_PID, E2E_QEMU_START_MS.
#   e2e_qemu_wait            wait for the guest's QEMU to exit; its status
#                            (124: timed out) in E2E_QEMU_STATUS.
#   e2e_qemu_stop            kill it if it runs, and wait.
#   e2e_wait_line LOG ERE SECONDS
#                            until a line of LOG matches ERE (grep -E), at
#                            most SECONDS, while QEMU runs; 0 when found.
#                            Sets E2E_SEEN_MS (ms since E2E_QEMU_START_MS).
#   e2e_type TEXT            type TEXT and Enter on the serial console.
#   e2e_marker_seen LOG MARKER
#                            0 when the root's marker line is in LOG.
#   e2e_size FILE            its size in bytes, on stdout.
#
# Environment: SNP_DEMO_KVER (the guest kernel), SNP_DEMO_ACCEL (default
# tcg), E2E_BOOT_TIMEOUT (default 240 s: TCG speed varies about twice).

E2E_MARKER_TEXT="SNP-UNSEAL-E2E: root is up, marker"
E2E_BROKER_URL=https://broker.test:8443
E2E_BROKER_ADDR=10.0.2.100
E2E_SIM_PORT_NAME=org.snp-unseal.sim
E2E_BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-240}
E2E_QEMU_PID=""
E2E_SIM_PID=""
E2E_BROKER_PID=""

e2e_err() {
	echo "e2e: $*" >&2
	return 1
}

e2e_init() {
	E2E_W=$1
	rm -rf "$E2E_W"
	mkdir -p "$E2E_W" || return 1
	E2E_W=$(cd "$E2E_W" && pwd)
	E2E_TLS=$TOP/tests/data/tls
	for ei_prog in snp-unseal snp-keybroker snp-sim snp-owner bin/broker-load bin/luks-fill; do
		[ -x "$BUILD/$ei_prog" ] || e2e_err "$BUILD/$ei_prog is missing (make tools)" ||
			return 1
	done
}

e2e_now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

e2e_size() {
	stat -c %s "$1"
}

# Stop one process we started (by its id) and reap it.
e2e_kill() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

e2e_cleanup() {
	e2e_qemu_stop
	e2e_broker_stop
	e2e_sim_stop
}

e2e_kernel() {
	E2E_KVER=${SNP_DEMO_KVER:-}
	if [ -z "$E2E_KVER" ]; then
		for ek_v in /boot/vmlinuz-*; do
			ek_v=${ek_v#/boot/vmlinuz-}
			[ -d "/lib/modules/$ek_v/kernel" ] && E2E_KVER=$ek_v
		done
	fi
	[ -n "$E2E_KVER" ] ||
		e2e_err "no kernel in /boot with its modules (qemu-scripts/install-deps installs one)" ||
		return 1
	E2E_VMLINUZ=/boot/vmlinuz-$E2E_KVER
	[ -r "$E2E_VMLINUZ" ] || e2e_err "$E2E_VMLINUZ is missing" || return 1
}

e2e_new_marker() {
	E2E_MARKER=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	echo "$E2E_MARKER" >"$E2E_W/marker"
}

e2e_make_rootdir() {
	emr_dir=$1
	mkdir -p "$emr_dir/bin" "$emr_dir/sbin" "$emr_dir/dev" "$emr_dir/proc" \
		"$emr_dir/sys" "$emr_dir/run" "$emr_dir/tmp" "$emr_dir/etc" || return 1
	cp /bin/busybox "$emr_dir/bin/busybox" || return 1
	for emr_cmd in sh echo cat mount poweroff sleep; do
		ln -sf busybox "$emr_dir/bin/$emr_cmd" || return 1
	done
	# systemd switches only into a root that looks like an OS tree.
	printf 'NAME="snp-unseal end-to-end root"\nID=snp-unseal-e2e\n' \
		>"$emr_dir/etc/os-release" || return 1
	sed "s/@MARKER@/$2/" "$TOP/qemu-scripts/rootfs/init" >"$emr_dir/sbin/init" &&
		chmod 0755 "$emr_dir/sbin/init"
}

e2e_make_image() {
	emi_img=$1
	emi_tmp=$E2E_W/image.tmp
	mkdir -p "$emi_tmp" || return 1
	head -c 64 /dev/urandom >"$emi_tmp/vk" || return 1
	rm -f "$emi_img"
	truncate -s 48M "$emi_img" || return 1
	cryptsetup luksFormat --batch-mode --type luks2 --sector-size 512 \
		--cipher aes-xts-plain64 --key-size 512 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --volume-key-file "$emi_tmp/vk" \
		--key-file "$3" "$emi_img" >"$emi_tmp/log" 2>&1 ||
		e2e_err "luksFormat: $(cat "$emi_tmp/log")" || return 1
	emi_offset=$(cryptsetup luksDump "$emi_img" |
		sed -n '/^Data segments:/,/^[A-Z]/s/^[[:space:]]*offset: \([0-9]*\) \[bytes\]/\1/p' |
		head -n 1)
	[ -n "$emi_offset" ] || e2e_err "no data segment offset in $emi_img" || return 1
	emi_kib=$((($(e2e_size "$emi_img") - emi_offset) / 1024))
	mke2fs -q -F -t ext4 -L snp-e2e-root -E root_owner=0:0 -d "$2" \
		"$emi_tmp/plain.img" "${emi_kib}k" >"$emi_tmp/log" 2>&1 ||
		e2e_err "mke2fs: $(cat "$emi_tmp/log")" || return 1
	"$BUILD/bin/luks-fill" "$emi_img" --volume-key-file "$emi_tmp/vk" \
		--payload "$emi_tmp/plain.img" >"$emi_tmp/log" 2>&1 ||
		e2e_err "luks-fill: $(cat "$emi_tmp/log")" || return 1
	E2E_UUID=$(cryptsetup luksUUID "$emi_img")
	rm -rf "$emi_tmp"
}

# e2e_start_daemon NAME PATTERN CMD...: CMD in the background, its stderr in
# $E2E_W/NAME.log; waits until that log matches PATTERN. Sets e2e_pid.
e2e_start_daemon() {
	esd_name=$1 esd_pattern=$2
	shift 2
	"$@" 2>"$E2E_W/$esd_name.log" &
	e2e_pid=$!
	esd_n=0
	while ! grep -q "$esd_pattern" "$E2E_W/$esd_name.log" 2>/dev/null; do
		esd_n=$((esd_n + 1))
		if [ "$esd_n" -gt 300 ] || ! kill -0 "$e2e_pid" 2>/dev/null; then
			e2e_kill "$e2e_pid"
			e2e_err "$esd_name did not start: $(cat "$E2E_W/$esd_name.log")"
			return 1
		fi
		sleep 0.1
	done
}

# The SEV-SNP launch the simulated guest stands for: Debian's OVMF, the 2
# vCPUs QEMU gives it here, launch-snp-guest's EPYC-v4. Its reports hold the
# measurement snp-owner computes for it, and the broker's policies are
# written by snp-owner from the same options, as a guest owner would.
E2E_LAUNCH="--bios /usr/share/ovmf/OVMF.fd --smp 2 --cpu EPYC-v4"

# e2e_owner CMD [ARGS...]: snp-owner CMD with the launch's options, then ARGS.
e2e_owner() {
	eo_cmd=$1
	shift
	# shellcheck disable=SC2086 # E2E_LAUNCH: words without spaces
	"$BUILD/snp-owner" "$eo_cmd" $E2E_LAUNCH "$@"
}

e2e_sim_start() {
	if [ ! -d "$E2E_W/sim" ]; then
		cp -r "$TOP/tests/data/sim" "$E2E_W/sim" || return 1
		ess_ld=$(e2e_owner measure) || e2e_err "snp-owner measure failed" || return 1
		printf '%s\n' "# the simulated guest of the QEMU demo, as launched with" \
			"# $E2E_LAUNCH" "measurement = $ess_ld" >"$E2E_W/sim.conf"
	fi
	e2e_start_daemon sim 'listening on' "$BUILD/snp-sim" serve --state "$E2E_W/sim" \
		--config "$E2E_W/sim.conf" --listen "unix:$E2E_W/sim.sock" || return 1
	E2E_SIM_PID=$e2e_pid
}

e2e_sim_stop() {
	e2e_kill "$E2E_SIM_PID"
	E2E_SIM_PID=""
}

e2e_broker() {
	"$BUILD/snp-keybroker" "$@" --config "$E2E_BROKER_CONF"
}

e2e_broker_setup() {
	[ -d "$E2E_W/sim" ] || e2e_err "e2e_sim_start first (the policy is the simulator's)" ||
		return 1
	E2E_BROKER_CONF=$E2E_W/broker.conf
	cat >"$E2E_BROKER_CONF" <<EOF
# snp-keybroker for the QEMU demo: loopback only, the simulator's ARK trusted
listen = 127.0.0.1:0
tls_cert = $E2E_TLS/server.pem
tls_key = $E2E_TLS/server.key
state_dir = $E2E_W/broker-state
trust_ark = $E2E_W/sim/ark.pem
EOF
	# The owner's part of a policy (TCB, products) for the simulator's chip;
	# snp-owner adds what the launch fixes.
	"$BUILD/bin/broker-load" policy --sim "$E2E_W/sim" >"$E2E_W/policy-base.json" ||
		return 1
	e2e_owner policy --from "$E2E_W/policy-base.json" \
		--output "$E2E_W/policy-default.json" 2>"$E2E_W/owner.log" &&
		e2e_owner policy --smp 4 --from "$E2E_W/policy-base.json" \
			--output "$E2E_W/policy-other.json" 2>>"$E2E_W/owner.log" ||
		e2e_err "snp-owner policy: $(cat "$E2E_W/owner.log")" || return 1
	e2e_broker policy set default "$E2E_W/policy-default.json" >/dev/null &&
		e2e_broker policy set other "$E2E_W/policy-other.json" >/dev/null
}

e2e_broker_start() {
	rm -f "$E2E_W/broker.port"
	e2e_start_daemon broker 'listening' "$BUILD/snp-keybroker" serve \
		--config "$E2E_BROKER_CONF" --print-port "$E2E_W/broker.port" || return 1
	E2E_BROKER_PID=$e2e_pid
	ebs_n=0
	while ! grep -q '[0-9]' "$E2E_W/broker.port" 2>/dev/null; do
		ebs_n=$((ebs_n + 1))
		[ "$ebs_n" -le 100 ] || e2e_err "the broker wrote no port" || return 1
		sleep 0.1
	done
	E2E_PORT=$(head -n 1 "$E2E_W/broker.port")
}

e2e_broker_stop() {
	e2e_kill "$E2E_BROKER_PID"
	E2E_BROKER_PID=""
}

e2e_enroll() {
	ee_reg=$E2E_W/$(basename "$1").reg
	rm -f "$ee_reg"
	"$BUILD/snp-unseal" enroll "$1" --broker "$E2E_BROKER_URL" --ca "$E2E_TLS/ca.pem" \
		--key-file "$2" --registration "$ee_reg" >"$E2E_W/enroll.log" 2>&1 ||
		e2e_err "enroll: $(cat "$E2E_W/enroll.log")" || return 1
	e2e_broker volume add --from "$ee_reg" --policy default >"$E2E_W/volume-add.log" 2>&1 ||
		e2e_err "volume add: $(cat "$E2E_W/volume-add.log")" || return 1
	rm -f "$ee_reg"
}

e2e_agent_conf() {
	eac_out=$1
	shift
	cat >"$eac_out" <<EOF
# snp-unseal settings of the QEMU demo's initrd: the broker through QEMU's
# guestfwd, the firmware simulator through a virtio-serial port
connect_to = $E2E_BROKER_ADDR
ca = /etc/snp-unseal/ca.pem
provider = sim
sim = /dev/virtio-ports/$E2E_SIM_PORT_NAME
EOF
	for eac_line; do
		echo "$eac_line" >>"$eac_out"
	done
}

e2e_guest_etc() {
	ege_dir=$1
	shift
	mkdir -p "$ege_dir" &&
		e2e_agent_conf "$ege_dir/snp-unseal.conf" "$@" &&
		cp "$E2E_TLS/ca.pem" "$ege_dir/ca.pem"
}

e2e_world() {
	e2e_kernel || return 1
	e2e_new_marker
	e2e_make_rootdir "$E2E_W/root" "$E2E_MARKER" || return 1
	E2E_PASSPHRASE="snp-unseal demo passphrase"
	E2E_PASSFILE=$E2E_W/passphrase
	printf '%s' "$E2E_PASSPHRASE" >"$E2E_PASSFILE"
	E2E_IMG=$E2E_W/root.img
	e2e_make_image "$E2E_IMG" "$E2E_W/root" "$E2E_PASSFILE" &&
		e2e_sim_start &&
		e2e_broker_setup &&
		e2e_enroll "$E2E_IMG" "$E2E_PASSFILE" &&
		e2e_broker_start || return 1
	E2E_DRACUT_APPEND="root=/dev/mapper/luks-$E2E_UUID rd.luks.uuid=$E2E_UUID rd.neednet=1 ip=dhcp"
}

# A dracutbasedir of symbolic links to the system's, plus our module.
e2e_dracut_base() {
	edb_base=$E2E_W/dracut-base
	[ ! -d "$edb_base" ] || return 0
	mkdir -p "$edb_base/modules.d" || return 1
	for edb_f in /usr/lib/dracut/*; do
		[ "${edb_f##*/}" = modules.d ] || ln -s "$edb_f" "$edb_base/" || return 1
	done
	for edb_f in /usr/lib/dracut/modules.d/*; do
		ln -s "$edb_f" "$edb_base/modules.d/" || return 1
	done
	ln -s "$TOP/dracut/91snp-unseal" "$edb_base/modules.d/91snp-unseal"
}

e2e_dracut() {
	ed_out=$1 ed_confdir=$2
	shift 2
	e2e_dracut_base || return 1
	dracutbasedir=$E2E_W/dracut-base dracut --quiet --no-hostonly --force \
		--kver "$E2E_KVER" --conf /dev/null --confdir "$ed_confdir" \
		--compress "zstd -1 -T0" \
		--add-drivers "virtio_blk virtio_net virtio_pci virtio_console dm_crypt" \
		"$@" "$ed_out" >"$E2E_W/dracut.log" 2>&1 ||
		e2e_err "dracut: $(tail -n 20 "$E2E_W/dracut.log")"
}

e2e_qemu_start() {
	eqs_name=$1 eqs_initrd=$2 eqs_img=$3 eqs_append=$4
	eqs_secs=${5:-$E2E_BOOT_TIMEOUT}
	E2E_QEMU_LOG=$E2E_W/$eqs_name.log
	E2E_QEMU_IN=$E2E_W/$eqs_name.in
	rm -f "$E2E_QEMU_IN" "$E2E_QEMU_LOG"
	mkfifo "$E2E_QEMU_IN" || return 1
	# Held open read-write here: QEMU's open of the FIFO does not wait for
	# a writer, and its input never ends between e2e_type calls.
	exec 9<>"$E2E_QEMU_IN"
	E2E_QEMU_START_MS=$(e2e_now_ms)
	# The broker through guestfwd: a "cmd:" forward (a socat per guest
	# connection), since a "tcp:" one is a single connection QEMU makes at
	# start, which the broker's handshake timeout closes.
	timeout -k 5 "$eqs_secs" qemu-system-x86_64 -accel "${SNP_DEMO_ACCEL:-tcg}" \
		-machine q35 -m 1024 -smp 2 -nodefaults -display none -monitor none \
		-no-reboot -serial stdio \
		-kernel "$E2E_VMLINUZ" -initrd "$eqs_initrd" \
		-append "console=ttyS0 panic=1 $eqs_append" \
		-drive "file=$eqs_img,if=virtio,format=raw" \
		-netdev "user,id=n0,restrict=on,guestfwd=tcp:$E2E_BROKER_ADDR:8443-cmd:socat - tcp:127.0.0.1:${E2E_PORT:-1}" \
		-device virtio-net-pci,netdev=n0 \
		-device virtio-serial-pci \
		-chardev "socket,id=snpsim,path=$E2E_W/sim.sock,reconnect=1" \
		-device "virtserialport,chardev=snpsim,name=$E2E_SIM_PORT_NAME" \
		<"$E2E_QEMU_IN" >"$E2E_QEMU_LOG" 2>"$E2E_W/$eqs_name.qemu.err" &
	E2E_QEMU_PID=$!
}

e2e_qemu_wait() {
	E2E_QEMU_STATUS=0
	[ -n "$E2E_QEMU_PID" ] || return 0
	wait "$E2E_QEMU_PID" || E2E_QEMU_STATUS=$?
	E2E_QEMU_PID=""
	exec 9>&-
}

e2e_qemu_stop() {
	[ -n "$E2E_QEMU_PID" ] || return 0
	kill "$E2E_QEMU_PID" 2>/dev/null || true
	e2e_qemu_wait
}

e2e_wait_line() {
	ewl_end=$(($(e2e_now_ms) + $3 * 1000))
	while :; do
		if grep -qE "$2" "$1" 2>/dev/null; then
			E2E_SEEN_MS=$(($(e2e_now_ms) - E2E_QEMU_START_MS))
			return 0
		fi
		if [ "$(e2e_now_ms)" -ge "$ewl_end" ] ||
			{ [ -n "$E2E_QEMU_PID" ] && ! kill -0 "$E2E_QEMU_PID" 2>/dev/null; }; then
			grep -qE "$2" "$1" 2>/dev/null || return 1
			E2E_SEEN_MS=$(($(e2e_now_ms) - E2E_QEMU_START_MS))
			return 0
		fi
		sleep 0.1
	done
}

e2e_type() {
	printf '%s\n' "$1" >"$E2E_QEMU_IN"
}

e2e_marker_seen() {
	grep -qF "$E2E_MARKER_TEXT $2" "$1" 2>/dev/null
}

e2e_dracut_snp() {
	eds_out=$1 eds_kind=$2
	shift 2
	eds_dir=$E2E_W/$(basename "$eds_out").d
	rm -rf "$eds_dir"
	mkdir -p "$eds_dir/conf.d" || return 1
	e2e_guest_etc "$eds_dir/etc" "$@" || return 1
	cat >"$eds_dir/conf.d/snp-unseal.conf" <<EOF
snp_unseal_binary="$BUILD/snp-unseal"
snp_unseal_confdir="$eds_dir/etc"
${E2E_DRACUT_CONF:-}
EOF
	if [ -n "${E2E_DRACUT_INCLUDE:-}" ]; then
		set -- --include "$E2E_DRACUT_INCLUDE" /
	else
		set --
	fi
	case $eds_kind in
	systemd) e2e_dracut "$eds_out" "$eds_dir/conf.d" --add snp-unseal "$@" ;;
	legacy)
		e2e_dracut "$eds_out" "$eds_dir/conf.d" --add snp-unseal "$@" \
			--omit "systemd systemd-initrd dracut-systemd systemd-networkd"
		;;
	*) e2e_err "e2e_dracut_snp: systemd or legacy, not $eds_kind" ;;
	esac
}
