#!/bin/sh
# Install the Debian packages that make deb built in DIR, check that they
# work as an operator and a developer would use them, then remove and
# purge them and check that nothing of them is left.
set -eu

dir=${1:?usage: deb-check.sh DIR}
say() { echo "deb-check: $*"; }
fail() {
	echo "deb-check: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs the packages"

pkgs="" debs=""
for p in fsmemcache libfsmemcache0 libfsmemcache-dev \
    freeswitch-mod-fsmemcache; do
	for deb in "$dir/${p}_"*.deb; do
		[ -f "$deb" ] || continue
		pkgs="$pkgs $p"
		debs="$debs $deb"
	done
done
case $pkgs in
*fsmemcache*libfsmemcache0*libfsmemcache-dev*) ;;
*) fail "$dir lacks one of the packages (found:$pkgs)" ;;
esac

# Never touch an installation that is not this check's own.
state() {
	dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true
}
for p in $pkgs; do
	case $(state "$p") in
	'' | not-installed) ;;
	*) fail "$p is installed already: remove it first" ;;
	esac
done
[ ! -e /etc/fsmemcache.cfg ] || fail "/etc/fsmemcache.cfg exists already"

tmp=$(mktemp -d)
installed=0
cleanup() {
	if [ "$installed" -eq 1 ]; then
		# shellcheck disable=SC2086
		dpkg -P $pkgs >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# The paths the packages bring that are not there yet: all must go.
for deb in $debs; do
	dpkg-deb --fsys-tarfile "$deb" | tar -tf -
done | sed -e 's,^\./,/,' -e 's,/$,,' | LC_ALL=C sort -u >"$tmp/paths"
while read -r path; do
	if [ -n "$path" ] && [ ! -e "$path" ] && [ ! -L "$path" ]; then
		echo "$path"
	fi
done <"$tmp/paths" >"$tmp/new"
grep -qx /usr/bin/fsmemcache "$tmp/new" ||
    fail "/usr/bin/fsmemcache exists already"

version=$(dpkg-deb -f "$dir"/fsmemcache_*.deb Version)
version=${version%-*}
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch

installed=1
# shellcheck disable=SC2086
dpkg -i $debs >"$tmp/dpkg.log" 2>&1 || {
	cat "$tmp/dpkg.log" >&2
	fail "dpkg -i failed"
}
say "installed:$pkgs"

# The command is on the default PATH and reads the system configuration.
found=$(env PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c 'command -v fsmemcache')
[ "$found" = /usr/bin/fsmemcache ] || fail "fsmemcache on PATH is '$found'"
out=$(fsmemcache -V)
case $out in
"fsmemcache $version "*) ;;
*) fail "fsmemcache -V printed '$out', not version $version" ;;
esac
mkdir "$tmp/home"
out=$(env -u FSMEMCACHE_CONFIG -u XDG_CONFIG_HOME -u MEMCACHED_SERVERS \
    HOME="$tmp/home" /usr/bin/fsmemcache -n | head -n 1)
[ "$out" = "# fsmemcache $version: settings in effect: from /etc/fsmemcache.cfg" ] ||
    fail "fsmemcache -n does not read /etc/fsmemcache.cfg: '$out'"
say "fsmemcache $version on PATH, reading /etc/fsmemcache.cfg"
# The prompt loads libedit.so.2 when it opens, which no linker sees: the
# package depends on it by name.
ldconfig -p | grep -q '^[[:space:]]*libedit\.so\.2 ' ||
    fail "libedit.so.2, which the prompt loads, is not installed"

# The manuals.
for page in fsmemcache:1:FSMEMCACHE fsmemcache.cfg:5:FSMEMCACHE.CFG; do
	name=${page%%:*} sect=${page#*:} title=${page##*:}
	sect=${sect%%:*}
	where=$(man -w "$name")
	[ "$where" = "/usr/share/man/man$sect/$name.$sect.gz" ] ||
	    fail "man -w $name: '$where'"
	MANWIDTH=80 man "$name" 2>"$tmp/man.err" >"$tmp/man.out" ||
	    fail "man $name failed: $(cat "$tmp/man.err")"
	grep -q "^$title($sect)" "$tmp/man.out" ||
	    fail "man $name shows no $title($sect) heading"
done
say "man fsmemcache and man fsmemcache.cfg"

# Completion, loaded on demand as bash-completion loads it.
# shellcheck disable=SC2016 # the inner shell expands
out=$(bash -c '
	. /usr/share/bash-completion/bash_completion
	__load_completion fsmemcache || exit
	complete -p fsmemcache
	COMP_WORDS=(fsmemcache getf)
	COMP_CWORD=1
	_fsmemcache
	echo "${COMPREPLY[*]}"
')
[ "$out" = "complete -F _fsmemcache fsmemcache
getflags" ] || fail "completion: '$out'"
say "bash completion loads and completes"

# A program built with pkg-config runs against the installed library.
cat >"$tmp/prog.c" <<'PROG'
#include <stdio.h>
#include <fsmemcache.h>
int
main(void)
{
	char line[256];
	puts(fsmc_usage_line(0, 0, line, sizeof line, NULL));
	return (0);
}
PROG
# shellcheck disable=SC2046 # pkg-config's words
cc -o "$tmp/prog" "$tmp/prog.c" $(pkg-config --cflags --libs fsmemcache) ||
    fail "building against the installed library"
out=$("$tmp/prog")
[ "$out" = "memcache <set|replace|add> <key> <value> [expiration [flags]]" ] ||
    fail "the program printed '$out'"
used=$(ldd "$tmp/prog" | awk '$1 == "libfsmemcache.so.0" { print $3 }')
if [ -z "$used" ] ||
    [ "$(readlink -f "$used")" != "$(readlink -f "$libdir/libfsmemcache.so.0")" ]; then
	fail "the program uses '$used', not $libdir/libfsmemcache.so.0"
fi
say "a program built with pkg-config runs on $libdir/libfsmemcache.so.0"

# The library exports the header's functions and nothing else.
cc -E -P /usr/include/fsmemcache.h | grep -o '\<fsmc_[a-z0-9_]*(' |
    tr -d '(' | LC_ALL=C sort -u >"$tmp/declared"
nm -D --defined-only "$libdir/libfsmemcache.so.0" | awk '{ print $3 }' |
    LC_ALL=C sort >"$tmp/exported"
diff -u "$tmp/declared" "$tmp/exported" ||
    fail "the library's exports differ from fsmemcache.h's functions"
say "the library exports the $(wc -l <"$tmp/declared") functions of fsmemcache.h only"

# The module, when built: FreeSWITCH's entry point and nothing of the core.
case $pkgs in
*freeswitch-mod-fsmemcache*)
	mod=$(dpkg -L freeswitch-mod-fsmemcache | grep '/mod_memcache\.so$')
	nm -D --defined-only "$mod" | awk '{ print $3 }' >"$tmp/mod"
	grep -qx mod_memcache_module_interface "$tmp/mod" ||
	    fail "$mod lacks mod_memcache_module_interface"
	! grep -q '^fsmc_' "$tmp/mod" || fail "$mod exports the core"
	say "the module is $mod"
	;;
esac

# Removal keeps the configuration; purge takes it and everything else.
# shellcheck disable=SC2086
dpkg -r $pkgs >"$tmp/dpkg.log" 2>&1 || {
	cat "$tmp/dpkg.log" >&2
	fail "dpkg -r failed"
}
[ ! -e /usr/bin/fsmemcache ] || fail "dpkg -r left /usr/bin/fsmemcache"
[ -f /etc/fsmemcache.cfg ] || fail "dpkg -r removed the conffile"
[ "$(state fsmemcache)" = config-files ] ||
    fail "fsmemcache is '$(state fsmemcache)' after dpkg -r"
say "dpkg -r removed the packages and kept /etc/fsmemcache.cfg"
# shellcheck disable=SC2086
dpkg -P $pkgs >"$tmp/dpkg.log" 2>&1 || {
	cat "$tmp/dpkg.log" >&2
	fail "dpkg -P failed"
}
installed=0
for p in $pkgs; do
	case $(state "$p") in
	'' | not-installed) ;;
	*) fail "$p is '$(state "$p")' after dpkg -P" ;;
	esac
done
left=0
while read -r path; do
	if [ -e "$path" ] || [ -L "$path" ]; then
		echo "deb-check: left behind: $path" >&2
		left=1
	fi
done <"$tmp/new"
[ "$left" -eq 0 ] || fail "dpkg -P left files behind"
! ldconfig -p | grep -q libfsmemcache || fail "ldconfig still lists libfsmemcache"
say "dpkg -P removed every file, /etc/fsmemcache.cfg included"
