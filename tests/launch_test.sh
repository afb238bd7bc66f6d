# shellcheck shell=sh
# qemu-scripts/launch-snp-guest: the QEMU command lines it prints with
# --dry-run, compared whole for several sets of options (the printed line is
# also one a shell runs as the same words); every refusal exits 2 and names
# what it refuses; on a host without SEV-SNP (this one) a real launch exits
# 1 with the reason and never starts QEMU.
set -eu
. "$TOP/tests/lib.sh"

launch=$TOP/qemu-scripts/launch-snp-guest
# The ID blocks here are made up: the measurement check with snp-owner is
# tests/owner_test.sh's.
SNP_OWNER=none
export SNP_OWNER
shared=$TOP/../shared
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# args TEXT: TEXT's lines (one QEMU argument each) joined by spaces.
args() {
	printf '%s\n' "$1" | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//'
}

# t_dry NAME EXPECTED OPTION...: --dry-run with those options prints exactly
# EXPECTED (see args) on standard output and exits 0.
t_dry() {
	td_name=$1
	td_want=$(args "$2")
	shift 2
	td_status=0
	td_out=$(sh "$launch" --dry-run "$@" 2>"$tmp/stderr") || td_status=$?
	if [ "$td_status" -ne 0 ]; then
		t_fail "$td_name" "exit $td_status" "$(cat "$tmp/stderr")"
	elif [ "$td_out" != "$td_want" ]; then
		t_fail "$td_name" "printed: $td_out" "wanted:  $td_want"
	else
		t_ok "$td_name"
	fi
}

# t_refused NAME NEEDLE OPTION...: the script with those options exits 2
# with a message holding NEEDLE, printing no command.
t_refused() {
	tr_name=$1 tr_needle=$2
	shift 2
	t_refused_run "$tr_name" "$tr_needle" sh "$launch" "$@"
}

# The fixed head of every command: machine, memory backend and SNP object.
head_default="
qemu-system-x86_64
-accel
kvm
-machine
q35,confidential-guest-support=sev0,memory-backend=ram1
-object
memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false
"
# The defaults of vCPU model and count, memory and firmware.
machine_default="
-cpu
EPYC-v4
-smp
2
-m
2048M
-bios
/usr/share/ovmf/OVMF.fd
"
virtio=disable-legacy=on,iommu_platform=true
usernet="
-netdev
user,id=net0
-device
virtio-net-pci,netdev=net0,$virtio,romfile=
"

t_dry "a disk alone: every default" "$head_default
-object
sev-snp-guest,id=sev0,policy=0x30000,cbitpos=51,reduced-phys-bits=1
$machine_default
-drive
file=/img/root.img,if=none,id=disk0,format=raw
-device
virtio-blk-pci,drive=disk0,$virtio
$usernet
-nographic
-no-reboot" --disk /img/root.img

t_dry "a measured direct boot: kernel hashes, guestfwd, machine options" "
/opt/qemu/bin/qemu-system-x86_64
-accel
kvm
-machine
q35,confidential-guest-support=sev0,memory-backend=ram1
-object
memory-backend-memfd,id=ram1,size=4096M,share=true,prealloc=false
-object
sev-snp-guest,id=sev0,policy=0x30000,cbitpos=47,reduced-phys-bits=1,kernel-hashes=on
-cpu
EPYC-Genoa
-smp
4
-m
4096M
-bios
/fw/OVMF.amdsev.fd
-kernel
/boot/vmlinuz
-initrd
/boot/initrd.img
-append
'console=ttyS0 ip=dhcp rd.neednet=1'
-drive
file=/img/root.qcow2,if=none,id=disk0,format=qcow2
-device
virtio-blk-pci,drive=disk0,$virtio
-netdev
user,id=net0,guestfwd=tcp:10.0.2.100:8443-tcp:127.0.0.1:8443,guestfwd=tcp:10.0.2.101:80-tcp:127.0.0.1:8080
-device
virtio-net-pci,netdev=net0,$virtio,romfile=
-nographic
-no-reboot" \
	--qemu /opt/qemu/bin/qemu-system-x86_64 --memory 4G --smp 4 --cpu EPYC-Genoa \
	--cbitpos 47 --bios /fw/OVMF.amdsev.fd --kernel /boot/vmlinuz --initrd /boot/initrd.img \
	--append "console=ttyS0 ip=dhcp rd.neednet=1" --kernel-hashes \
	--disk=/img/root.qcow2 --disk-format qcow2 \
	--guestfwd tcp:10.0.2.100:8443-tcp:127.0.0.1:8443 --guestfwd tcp:10.0.2.101:80-tcp:127.0.0.1:8080

# host data: 32 bytes 0x00..0x1f, as hex and as base64.
host_hex=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
host_b64=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
nonet="$head_default
-object
sev-snp-guest,id=sev0,policy=0x130000,cbitpos=51,reduced-phys-bits=1,host-data=$host_b64
-cpu
EPYC
-smp
1
-m
2048M
-bios
/usr/share/ovmf/OVMF.fd
-kernel
/k
-nographic
-no-reboot
-S
-serial
file:/tmp/con.log"
t_dry "host data as hex, no network, extra arguments, policy normalised" "$nonet" \
	--kernel /k --cpu EPYC --smp 1 --policy 0X00130000 --net none \
	--host-data "$host_hex" --extra -S --extra -serial --extra file:/tmp/con.log
t_dry "host data as base64: the same command" "$nonet" \
	--kernel /k --cpu EPYC --smp 1 --policy 0x130000 --net none \
	--host-data "$host_b64" --extra -S --extra -serial --extra file:/tmp/con.log

# Quoting: the line is one a shell splits back into the same arguments; a
# comma in a path inside an option value is doubled for QEMU.
out=$(sh "$launch" --dry-run --disk "/img/a,b c's.img" --kernel /k --append "" \
	--extra "two words" 2>/dev/null)
eval "set -- $out"
t_contains "the disk path quoted, its comma doubled" "$out" \
	"'file=/img/a,,b c'\\''s.img,if=none,id=disk0,format=raw'"
last=""
for arg in "$@"; do
	last=$arg
done
if [ "$#" -eq 32 ] && [ "$last" = "two words" ]; then
	t_ok "the printed line splits back into the same 32 arguments"
else
	t_fail "the printed line splits back into the same 32 arguments" "$# arguments, last '$last'" "$out"
fi
t_contains "an empty --append is kept as an empty argument" "$out" " -append '' "

# ID block and ID auth info, as base64 text files. A synthetic pair without
# an author key: ID block version 1 with policy 0x30000; ID auth info with
# ECDSA P-384 signature algorithm and a P-384 ID key, no author key.
zeros() {
	head -c "$1" /dev/zero
}
{ zeros 80; printf '\001\000\000\000\000\000\000\000\000\000\003\000\000\000\000\000'; } |
	base64 >"$tmp/id-block.b64"
{ printf '\001\000\000\000'; zeros 572; printf '\002\000\000\000'; zeros 3516; } |
	base64 >"$tmp/id-auth.b64"
idb=$(tr -d '\n' <"$tmp/id-block.b64")
ida=$(tr -d '\n' <"$tmp/id-auth.b64")
id_tail="
$machine_default
-kernel
/k
$usernet
-nographic
-no-reboot"
t_dry "an ID block and ID auth without an author key" "$head_default
-object
sev-snp-guest,id=sev0,policy=0x30000,cbitpos=51,reduced-phys-bits=1,id-block=$idb,id-auth=$ida
$id_tail" --kernel /k --id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64"

auth_block=$shared/testdata/measure/keys/sev_test_auth_block.bin
if [ -f "$auth_block" ]; then
	base64 "$auth_block" >"$tmp/auth-real.b64"
	real=$(tr -d '\n' <"$tmp/auth-real.b64")
	t_dry "virtee's ID auth info (an author key in it): author-key-enabled=on" "$head_default
-object
sev-snp-guest,id=sev0,policy=0x30000,cbitpos=51,reduced-phys-bits=1,id-block=$idb,id-auth=$real,author-key-enabled=on
$id_tail" --kernel /k --id-block "$tmp/id-block.b64" --id-auth "$tmp/auth-real.b64"
else
	echo "skip: $auth_block is absent (../shared): the author-key case"
fi

# Refusals: exit 2, the message names the option and the fault.
t_refused "policy not hex" "--policy: '30000' is not hexadecimal" --disk d --policy 30000
t_refused "policy with junk" "--policy: '0x3g000' is not hexadecimal" --disk d --policy 0x3g000
t_refused "policy without reserved bit 17" "--policy: 0x10000 does not set bit 17" --disk d --policy 0x10000
t_refused "policy with reserved bits 26-63" "--policy: 0x4030000 sets reserved bits 26-63" --disk d --policy 0x4030000
t_refused "policy with a 64-bit high bit" "sets reserved bits" --disk d --policy 0x8000000000030000
t_refused "unknown option" "unknown option '--sev-policy'" --disk d --sev-policy 0x30000
t_refused "a word that is not an option" "unknown option 'disk.img'" disk.img
t_refused "missing value at the end" "--kernel needs a value" --disk d --kernel
t_refused "missing value before another option" "--initrd needs a value" --kernel k --initrd --dry-run
t_refused "empty value" "--bios needs a value" --disk d --bios=
t_refused "a flag given a value" "--kernel-hashes takes no value" --kernel k --kernel-hashes=on
t_refused "id-auth without id-block" "--id-auth needs --id-block" --kernel k --id-auth "$tmp/id-auth.b64"
t_refused "id-block without id-auth" "--id-block needs --id-auth" --kernel k --id-block "$tmp/id-block.b64"
t_refused "kernel-hashes without --kernel" "--kernel-hashes needs --kernel" --disk d --kernel-hashes
t_refused "initrd without --kernel" "--initrd needs --kernel" --disk d --initrd i
t_refused "append without --kernel" "--append needs --kernel" --disk d --append x
t_refused "nothing to boot" "nothing to boot" --memory 1024
t_refused "an ID block made for another policy" "was made for policy 0x30000, not --policy 0x70000" \
	--kernel k --policy 0x70000 --id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64"
zeros 96 >"$tmp/id-block.bin"
t_refused "a binary ID block (not base64 text)" "is not a base64 text file" \
	--kernel k --id-block "$tmp/id-block.bin" --id-auth "$tmp/id-auth.b64"
zeros 95 | base64 >"$tmp/short.b64"
t_refused "an ID block of 95 bytes" "decodes to 95 bytes, not 96" \
	--kernel k --id-block "$tmp/short.b64" --id-auth "$tmp/id-auth.b64"
{ zeros 96 | base64; } >"$tmp/v0.b64"
t_refused "an ID block of version 0" "is not an ID block version 1" \
	--kernel k --id-block "$tmp/v0.b64" --id-auth "$tmp/id-auth.b64"
{ printf '\001\000\000\000\001\000\000\000'; zeros 568; printf '\002\000\000\000'; zeros 3516; } |
	base64 >"$tmp/no-author.b64"
t_refused "an author key signature with no author key" "holds no P-384 author key" \
	--kernel k --id-block "$tmp/id-block.b64" --id-auth "$tmp/no-author.b64"
t_refused "a missing ID block file" "--id-block: cannot read '$tmp/none'" \
	--kernel k --id-block "$tmp/none" --id-auth "$tmp/id-auth.b64" --dry-run
t_refused "host data of 31 bytes (hex)" "--host-data: 62 hex digits, not 64" --disk d --host-data "${host_hex%??}"
t_refused "host data of 33 bytes (base64)" "--host-data: decodes to 33 bytes, not 32" \
	--disk d --host-data "$(zeros 33 | base64)"
t_refused "host data not base64" "--host-data: not base64" --disk d --host-data 'ab!d'
t_refused "a CPU that is not EPYC" "--cpu: 'host' is not an EPYC model" --disk d --cpu host
t_refused "a CPU with feature flags" "--cpu: 'EPYC-v4,+avx512f' is not a plain model name" --disk d --cpu EPYC-v4,+avx512f
t_refused "vCPUs 0" "--smp: 0 is out of range" --disk d --smp 0
t_refused "vCPUs not a number" "--smp: 'two' is not a whole number" --disk d --smp two
t_refused "cbitpos out of range" "--cbitpos: 64 is out of range" --disk d --cbitpos 64
t_refused "reduced-phys-bits 0" "--reduced-phys-bits: 0 is out of range" --disk d --reduced-phys-bits 0
t_refused "memory too small" "--memory: 64M is out of range" --disk d --memory 64M
t_refused "memory not a size" "--memory: '2T' is not a size" --disk d --memory 2T
t_refused "a disk format QEMU would guess" "--disk-format: 'vmdk' is not raw or qcow2" --disk d --disk-format vmdk
t_refused "a network kind" "--net: 'tap' is not user or none" --disk d --net tap
t_refused "guestfwd without user networking" "--guestfwd needs --net user" \
	--disk d --net none --guestfwd tcp:10.0.2.100:8443-tcp:127.0.0.1:8443
t_refused "a guestfwd that is not tcp" "--guestfwd: 'udp:10.0.2.100:53-cmd:x' is not tcp:" \
	--disk d --guestfwd udp:10.0.2.100:53-cmd:x
t_refused "a guestfwd with a comma" "--guestfwd: 'tcp:10.0.2.100:1-tcp:a,b' has a comma" \
	--disk d --guestfwd tcp:10.0.2.100:1-tcp:a,b
t_refused "a line break in a value" "--append: a value with a line break" --kernel k --append "a
b"
t_refused "a missing kernel (without --dry-run)" "--kernel: cannot read '$tmp/none'" --kernel "$tmp/none"

t_status "--help" 0 sh "$launch" --help
t_contains "--help says the firmware must be built for SEV-SNP" "$t_out" "OVMF built with SEV-SNP support"
t_contains "--help names AmdSevX64 for kernel hashes" "$t_out" "AmdSevX64 for --kernel-hashes"

# A real launch on this machine: the host check refuses before QEMU runs.
# The QEMU given is a script that would leave a mark.
printf '#!/bin/sh\ntouch "%s/qemu-ran"\necho "QEMU emulator version 9.2.0"\n' "$tmp" >"$tmp/qemu"
chmod +x "$tmp/qemu"
: >"$tmp/vmlinuz"
: >"$tmp/ovmf.fd"
real_launch="--qemu $tmp/qemu --bios $tmp/ovmf.fd --kernel $tmp/vmlinuz"
if [ -c /dev/sev ]; then
	echo "skip: /dev/sev exists here: the refusal on a host without SEV"
else
	# shellcheck disable=SC2086 # the options are words without spaces
	t_status "no /dev/sev: exit 1" 1 sh "$launch" $real_launch
	t_contains "no /dev/sev: says so and what SNP needs" "$t_out" \
		"/dev/sev is missing: this host cannot run SEV-SNP guests"
	if [ -e "$tmp/qemu-ran" ]; then
		t_fail "no /dev/sev: QEMU was not started" "the QEMU script ran"
	else
		t_ok "no /dev/sev: QEMU was not started"
	fi
fi
snp_param=/sys/module/kvm_amd/parameters/sev_snp
if [ "$(cat "$snp_param" 2>/dev/null || true)" = Y ]; then
	echo "skip: kvm_amd has sev_snp on here: the refusal on a host without it"
else
	# A device node that exists (/dev/null) gets past the first check.
	# shellcheck disable=SC2086
	t_status "kvm_amd without SNP: exit 1" 1 sh "$launch" $real_launch --sev-device /dev/null
	t_contains "kvm_amd without SNP: names the module parameter" "$t_out" "$snp_param"
	if [ -e "$tmp/qemu-ran" ]; then
		t_fail "kvm_amd without SNP: QEMU was not started" "the QEMU script ran"
	else
		t_ok "kvm_amd without SNP: QEMU was not started"
	fi
fi

t_check "shellcheck launch-snp-guest" shellcheck -s sh "$launch"
t_done
