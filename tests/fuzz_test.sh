# shellcheck shell=sh
# Every libFuzzer harness runs briefly from its seeds without a finding.
# `make fuzz` runs them longer (FUZZ_SECONDS).
set -eu
exec "$TOP/tests/fuzz/run" "$BUILD" "${FUZZ_CHECK_SECONDS:-5}"
