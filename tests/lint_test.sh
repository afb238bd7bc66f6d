# shellcheck shell=sh
# Every shell script in the tree is shellcheck-clean.
set -eu
. "$TOP/tests/lib.sh"

cd "$TOP"
for script in deps/fetch deps/build deps/install-build-deps .ci/run tests/run tests/fuzz/run \
	tests/lib.sh tests/*_test.sh tests/bench/*; do
	case $script in *.c) continue ;; esac	# a benchmark's C source
	t_check "shellcheck $script" shellcheck -s sh -x "$script"
done
t_done
