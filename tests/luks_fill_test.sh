# shellcheck shell=sh
# build/bin/luks-fill, which encrypts a filesystem image into a LUKS2
# image's data segment in userspace (this machine has no device-mapper):
# on an image made by Debian's cryptsetup with a known volume key, sectors
# of the filled image are decrypted independently of mbedTLS (openssl
# enc -aes-256-xts where it takes XTS, which OpenSSL 3.0's enc does not,
# else python3-cryptography, a build dependency) with the plain64 tweak
# and compared with the payload, a short last sector's zero padding
# included; the header and what lies past the payload are unchanged and
# the passphrase still opens. A wrong or short volume key, 4096-byte
# sectors, aes-cbc-essiv and a payload larger than the data segment are
# refused with a message, the image byte for byte as it was.
set -eu
. "$TOP/tests/lib.sh"

fill=$BUILD/bin/luks-fill
cs=/sbin/cryptsetup
python=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"

if [ ! -x "$cs" ]; then
	echo "skipped: $cs is missing (apt-get install cryptsetup-bin)"
	t_done
	exit
fi

SECTOR=512
HEADER_BYTES=16777216	# LUKS2's default data offset: the data segment starts here
DATA_SECTORS=16384	# 8 MiB of data segment after the header
printf 'the passphrase' >"$tmp/pass"

# format IMG VK [cryptsetup options]: a sparse LUKS2 image with volume key VK.
format() {
	f_img=$1 f_vk=$2
	shift 2
	rm -f "$f_img"
	truncate -s $((HEADER_BYTES + DATA_SECTORS * SECTOR)) "$f_img"
	"$cs" luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--volume-key-file "$f_vk" --key-file "$tmp/pass" "$@" "$f_img"
}

# random FILE BYTES
random() {
	head -c "$2" /dev/urandom >"$1"
}

# tweak N: plain64's IV of sector N, as 32 hex digits (64-bit little-endian, zero-padded).
tweak() {
	printf '%016x' "$1" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i }'
	printf '0000000000000000'
}

# The independent decryptor: openssl enc where it does XTS, else python3-cryptography.
random "$tmp/probe.key" 64
random "$tmp/probe" $SECTOR
key_hex=$(od -An -tx1 -v "$tmp/probe.key" | tr -d ' \n')
if openssl enc -e -aes-256-xts -K "$key_hex" -iv "$(tweak 5)" -nopad -in "$tmp/probe" \
	-out "$tmp/probe.enc" 2>"$tmp/openssl.err" &&
	openssl enc -d -aes-256-xts -K "$key_hex" -iv "$(tweak 5)" -nopad -in "$tmp/probe.enc" \
		2>>"$tmp/openssl.err" | cmp -s - "$tmp/probe"; then
	decryptor=openssl
elif "$python" -c 'from cryptography.hazmat.primitives.ciphers import modes; modes.XTS' \
	2>"$tmp/python.err"; then
	decryptor=python
	echo "openssl enc does not do XTS ($(head -n 1 "$tmp/openssl.err")): python3-cryptography decrypts"
else
	echo "skipped: neither openssl enc ($(head -n 1 "$tmp/openssl.err")) nor python3-cryptography" \
		"($(tail -n 1 "$tmp/python.err")) decrypts AES-XTS"
	t_done
	exit
fi

# decrypt VK N IN OUT: IN, one sector encrypted as sector N, decrypted with VK.
decrypt() {
	if [ "$decryptor" = openssl ]; then
		openssl enc -d -aes-256-xts -K "$(od -An -tx1 -v "$1" | tr -d ' \n')" \
			-iv "$(tweak "$2")" -nopad -in "$3" -out "$4"
	else
		"$python" -c '
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key = open(sys.argv[1], "rb").read()
tweak = int(sys.argv[2]).to_bytes(16, "little")
d = Cipher(algorithms.AES(key), modes.XTS(tweak)).decryptor()
data = open(sys.argv[3], "rb").read()
open(sys.argv[4], "wb").write(d.update(data) + d.finalize())
' "$1" "$2" "$3" "$4"
	fi
}

# sector FILE N OUT [SKIP]: the Nth 512 bytes of FILE after SKIP bytes, zero-padded.
sector() {
	dd if="$1" of="$3" bs=$SECTOR skip=$((${4:-0} / SECTOR + $2)) count=1 status=none
	truncate -s $SECTOR "$3"
}

# matches IMG VK PAYLOAD N [TWEAK]: the image's data sector N, decrypted
# with tweak TWEAK (default N), is the payload's sector N (zero-padded).
matches() {
	sector "$1" "$4" "$tmp/sealed" $HEADER_BYTES
	sector "$3" "$4" "$tmp/want"
	decrypt "$2" "${5:-$4}" "$tmp/sealed" "$tmp/got" || return 2
	cmp -s "$tmp/got" "$tmp/want" || { echo "sector $4 is not the payload's"; return 1; }
}

# unchanged NAME IMG COPY: the image is byte for byte the copy.
unchanged() {
	if cmp -s "$2" "$3"; then
		t_ok "$1"
	else
		t_fail "$1" "$2 changed"
	fi
}

# refused NAME IMG MESSAGE luks-fill ARGS...: exit 1 with MESSAGE, IMG untouched.
refused() {
	r_name=$1 r_img=$2 r_message=$3
	shift 3
	cp --sparse=always "$r_img" "$tmp/before.img"
	t_status "$r_name: exit 1" 1 "$@"
	t_contains "$r_name: says why" "$t_out" "$r_message"
	unchanged "$r_name: the image is unchanged" "$r_img" "$tmp/before.img"
}

# --- a payload of 3 MiB and 100 bytes: three whole 1 MiB chunks and a short last sector ---
img=$tmp/a.img
random "$tmp/vk" 64
format "$img" "$tmp/vk" --sector-size 512
"$cs" luksDump "$img" >"$tmp/dump.before"
cp --sparse=always "$img" "$tmp/a.orig"
payload_bytes=$((3 * 1048576 + 100))
random "$tmp/payload" $payload_bytes
last=$(((payload_bytes + SECTOR - 1) / SECTOR - 1))
t_status "fills the image" 0 "$fill" "$img" --volume-key-file "$tmp/vk" --payload "$tmp/payload"
for n in 0 1 7 2047 2048 "$last"; do
	t_status "sector $n decrypts ($decryptor, plain64 tweak $n) to the payload's" 0 \
		matches "$img" "$tmp/vk" "$tmp/payload" "$n"
done
sector "$img" "$last" "$tmp/sealed" $HEADER_BYTES
decrypt "$tmp/vk" "$last" "$tmp/sealed" "$tmp/got"
t_check "the last sector's padding decrypts to zeros" \
	cmp -s -n $((SECTOR - payload_bytes % SECTOR)) -i $((payload_bytes % SECTOR)):0 \
	"$tmp/got" /dev/zero
t_status "the check can fail: sector 7 with tweak 8 is not the payload's" 1 \
	matches "$img" "$tmp/vk" "$tmp/payload" 7 8
t_status "the tweak counts from the data segment, not from the image" 1 \
	matches "$img" "$tmp/vk" "$tmp/payload" 1 $((HEADER_BYTES / SECTOR + 1))
t_check "the header area is unchanged" cmp -s -n $HEADER_BYTES "$img" "$tmp/a.orig"
t_check "past the payload's last sector the image is unchanged" \
	cmp -s -i $((HEADER_BYTES + (last + 1) * SECTOR)) "$img" "$tmp/a.orig"
"$cs" luksDump "$img" >"$tmp/dump.after"
t_check "luksDump is identical" cmp -s "$tmp/dump.before" "$tmp/dump.after"
t_check "the passphrase still opens" \
	"$cs" open --test-passphrase --key-file "$tmp/pass" "$img"

# A payload exactly the data segment's size, and an empty one.
random "$tmp/full" $((DATA_SECTORS * SECTOR))
t_status "a payload the size of the data segment fills it" 0 \
	"$fill" "$img" --volume-key-file "$tmp/vk" --payload "$tmp/full"
t_status "its last sector decrypts to the payload's" 0 \
	matches "$img" "$tmp/vk" "$tmp/full" $((DATA_SECTORS - 1))
: >"$tmp/empty"
cp --sparse=always "$img" "$tmp/before.img"
t_status "an empty payload: exit 0" 0 \
	"$fill" "$img" --volume-key-file "$tmp/vk" --payload "$tmp/empty"
unchanged "an empty payload writes nothing" "$img" "$tmp/before.img"

# --- refusals ---
random "$tmp/big" $((DATA_SECTORS * SECTOR + 1))
refused "a payload one byte larger than the data segment" "$img" "larger than the data segment" \
	"$fill" "$img" --volume-key-file "$tmp/vk" --payload "$tmp/big"
random "$tmp/vk.wrong" 64
refused "a wrong volume key" "$img" "is not the volume key of $img" \
	"$fill" "$img" --volume-key-file "$tmp/vk.wrong" --payload "$tmp/payload"
head -c 32 "$tmp/vk" >"$tmp/vk.short"
refused "half the volume key" "$img" "holds 32 bytes; the volume key of $img is 64 bytes" \
	"$fill" "$img" --volume-key-file "$tmp/vk.short" --payload "$tmp/payload"
refused "a missing volume key file" "$img" "$tmp/nothing" \
	"$fill" "$img" --volume-key-file "$tmp/nothing" --payload "$tmp/payload"
refused "a missing payload" "$img" "cannot open $tmp/nothing" \
	"$fill" "$img" --volume-key-file "$tmp/vk" --payload "$tmp/nothing"

img4k=$tmp/4k.img
format "$img4k" "$tmp/vk" --sector-size 4096
refused "4096-byte sectors" "$img4k" "format with --sector-size 512" \
	"$fill" "$img4k" --volume-key-file "$tmp/vk" --payload "$tmp/payload"

imgcbc=$tmp/cbc.img
random "$tmp/vk32" 32
format "$imgcbc" "$tmp/vk32" --sector-size 512 --cipher aes-cbc-essiv:sha256 --key-size 256
refused "aes-cbc-essiv:sha256" "$imgcbc" \
	"encrypted with aes-cbc-essiv:sha256; luks-fill writes only aes-xts-plain64" \
	"$fill" "$imgcbc" --volume-key-file "$tmp/vk32" --payload "$tmp/payload"

random "$tmp/plain.img" $((HEADER_BYTES + SECTOR))
refused "an image without a LUKS2 header" "$tmp/plain.img" "has no LUKS2 header" \
	"$fill" "$tmp/plain.img" --volume-key-file "$tmp/vk" --payload "$tmp/empty"

# --- usage ---
t_status "no arguments: usage, exit 2" 2 "$fill"
t_contains "the usage names the options" "$t_out" "--volume-key-file VK --payload PLAIN"
t_status "no --payload: exit 2" 2 "$fill" "$img" --volume-key-file "$tmp/vk"
t_status "two images: exit 2" 2 "$fill" "$img" "$img" --volume-key-file "$tmp/vk" \
	--payload "$tmp/empty"
t_status "an unknown option: exit 2" 2 "$fill" "$img" --volume-key-file "$tmp/vk" \
	--payload "$tmp/empty" --sector-size 4096

t_done
