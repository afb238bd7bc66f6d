# shellcheck shell=sh
# snp-keybroker verify on the real AMD-signed sets: every positive set
# verifies and prints the fields of the golden file; every negative set
# fails with the reason its provenance gives; bad command lines exit 2.
set -eu
. "$TOP/tests/lib.sh"

broker=$BUILD/snp-keybroker
real=${SNP_SHARED_TESTDATA:-$TOP/../shared/testdata}/snp-real
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every VEK of the 20 sets is valid then (the AWS VLEKs expired 2025-12-10).
at=2025-09-01

t_status "no command exits 2" 2 "$broker"
t_status "unknown command exits 2" 2 "$broker" frobnicate
t_contains "unknown command is named" "$t_out" "'frobnicate'"
t_status "verify without certificates exits 2" 2 "$broker" verify /dev/null
t_contains "verify says where certificates come from" "$t_out" "--certs DIR"
t_status "bad --at exits 2" 2 "$broker" verify r --certs d --at 2025-13-01
t_contains "bad --at is named" "$t_out" "--at '2025-13-01'"
t_status "bad --product exits 2" 2 "$broker" verify r --certs d --product Naples
t_contains "bad --product is named" "$t_out" "'Naples'"
t_status "missing report exits 2" 2 "$broker" verify "$tmp/none.bin" --certs "$tmp"
t_contains "missing report is named" "$t_out" "$tmp/none.bin"

if [ ! -d "$real" ]; then
	echo "skipped: $real is absent, so the real-data checks cannot run"
	t_done
	exit
fi

# in_order EXPECTED ACTUAL: every line of EXPECTED appears in ACTUAL, in order.
in_order() {
	awk 'BEGIN { n = 0; i = 0 }
	     NR == FNR { want[n++] = $0; next }
	     i < n && $0 == want[i] { i++ }
	     END { if (i < n) { print "missing or out of order: " want[i]; exit 1 } }' "$1" "$2"
}

sets=$(sed -n 's/^=== //p' "$real/EXPECTED-verify-output.txt")
count=0
for set in $sets; do
	count=$((count + 1))
	# The golden block, less what depends on paths, dates or the other tool's wording.
	sed -n "/^=== $set\$/,/^RESULT/p" "$real/EXPECTED-verify-output.txt" |
		grep -v -e '^===' -e '^report:' -e '^  \[' >"$tmp/want"
	t_status "$set verifies" 0 "$broker" verify "$real/$set/report.bin" \
		--certs "$real/$set" --at "$at"
	printf '%s\n' "$t_out" >"$tmp/got"
	t_check "$set prints the golden file's fields" in_order "$tmp/want" "$tmp/got"
done
t_check "the golden file lists 20 sets" test "$count" -eq 20

for set in trustee-aws-milan-vlek-v3 constellation-aws-milan-vlek-v3; do
	t_status "$set fails after its VLEK expired" 1 "$broker" verify \
		"$real/$set/report.bin" --certs "$real/$set" --at 2026-11-22
	t_contains "$set names the validity check" "$t_out" "NOT VERIFIED (validity)"
done

set=veraison-tsm-genoa-v3
t_status "$set verifies from its configfs-tsm auxblob" 0 "$broker" verify \
	"$real/$set/outblob.bin" --cert-table "$real/$set/auxblob.bin" --at "$at"
t_status "$set --json verifies" 0 "$broker" verify "$real/$set/report.bin" \
	--cert-table "$real/$set/auxblob.bin" --at "$at" --json
t_contains "--json says verified" "$t_out" '"verified":true'
t_contains "--json carries the measurement" "$t_out" \
	'"measurement":"'"$(sed -n "/^=== $set\$/,/^RESULT/s/^measurement: //p" \
		"$real/EXPECTED-verify-output.txt")"'"'

# A version 2 report names no product; a wrong one given is refused.
set=virtee-milan-v2
t_status "v2 report with --product Genoa fails" 1 "$broker" verify \
	"$real/$set/report.bin" --certs "$real/$set" --at "$at" --product Genoa
t_contains "it names the product check" "$t_out" "NOT VERIFIED (product)"

neg=$real/_negative
t_status "constellation VLEK report with a bad signature fails" 1 "$broker" verify \
	"$neg/constellation-milan-vlek-v2-badsig/report.bin" \
	--certs "$neg/constellation-milan-vlek-v2-badsig" --at 2024-01-01
t_contains "it names the report signature" "$t_out" "NOT VERIFIED (report-signature)"

for vcek in vcek-invalid-legacy vcek-invalid-new; do
	mkdir -p "$tmp/$vcek"
	cp "$neg/trustee-milan-v2-bad-vcek/ark.pem" "$neg/trustee-milan-v2-bad-vcek/ask.pem" \
		"$tmp/$vcek/"
	cp "$neg/trustee-milan-v2-bad-vcek/$vcek.der" "$tmp/$vcek/vcek.der"
	t_status "edited VCEK $vcek fails" 1 "$broker" verify \
		"$neg/trustee-milan-v2-bad-vcek/report.bin" --certs "$tmp/$vcek" --at "$at"
	t_contains "it names the ASK's signature over the VCEK" "$t_out" \
		"NOT VERIFIED (vek-signature)"
done

t_status "a VCEK of another chip fails" 1 "$broker" verify \
	"$neg/azcvm-hcl-milan-v2-wrong-vcek/report.bin" \
	--certs "$neg/azcvm-hcl-milan-v2-wrong-vcek" --at "$at"
t_contains "it names the chip id" "$t_out" "NOT VERIFIED (chip-id)"

# A Genoa report against Milan's chain: the product check stops it.
t_status "Genoa report with a Milan chain fails" 1 "$broker" verify \
	"$real/oak-genoa-oc-v5/report.bin" --certs "$real/oak-milan-oc-release-v3" --at "$at"
t_contains "it names the product" "$t_out" "NOT VERIFIED (product)"

t_done
