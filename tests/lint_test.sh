# shellcheck shell=sh
# Every shell script in the tree is shellcheck-clean: tracked files named
# *.sh, and those whose first line runs a shell; scripts without a "#!"
# (sourced ones, such as dracut's module-setup.sh) say their shell with a
# "# shellcheck shell=..." line.
set -eu
. "$TOP/tests/lib.sh"

cd "$TOP"
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "skipped: not a git checkout, so the tracked scripts cannot be listed"
	t_done
	exit 0
fi
n=0
for script in $(git ls-files); do
	[ -f "$script" ] || continue
	case $script in
	*.sh) ;;
	*)
		head -n 1 "$script" | grep -qE '^#!.*[/ ](sh|bash|dash)( |$)' || continue
		;;
	esac
	n=$((n + 1))
	# SC1091: a file sourced from where it lies in the initrd (/lib/dracut-lib.sh)
	# cannot be followed here.
	t_check "shellcheck $script" shellcheck -x -e SC1091 "$script"
done
t_check "found the scripts (at least 20, found $n)" test "$n" -ge 20
t_done
