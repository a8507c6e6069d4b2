#!/bin/bash
# Build a minimal FreeSWITCH, with spandsp, sofia-sip and the stock
# mod_memcache, once into a cache directory, for the FreeSWITCH test kit.
#
# Sources: FREESWITCH_SRC, SPANDSP_SRC and SOFIA_SIP_SRC, each a bare git
# directory (FREESWITCH_REV, SPANDSP_REV and SOFIA_SIP_REV name the
# commit) or a source tree (copied, never built in place).
# The result goes to FS_CACHE (default ~/.cache/fsmemcache-fs):
#	prefix/		spandsp and sofia-sip
#	fs/		FreeSWITCH: bin/freeswitch, lib/, include/freeswitch
#	stock/		FreeSWITCH's own mod_memcache.so, kept out of fs/
#	logs/		one log per build step, and times.txt
#	src/		the sources while they build, removed after
# A piece is rebuilt only when its sources changed; remove FS_CACHE to
# start again.
set -euo pipefail

: "${FS_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/fsmemcache-fs}"
: "${FREESWITCH_REV:=v1.10.12}"
# spandsp has no tags; this commit of its master builds with v1.10.12.
: "${SPANDSP_REV:=0c7bcebef4f057b99832a338aafab7e379ef1395}"
: "${SOFIA_SIP_REV:=v1.13.17}"
# Bump when the build recipe changes, so that caches are rebuilt.
RECIPE=1

# The modules the kit loads; mod_memcache is the stock one.
MODULES="loggers/mod_console
loggers/mod_logfile
applications/mod_commands
applications/mod_dptools
applications/mod_memcache
event_handlers/mod_event_socket
dialplans/mod_dialplan_xml
endpoints/mod_loopback
formats/mod_tone_stream"

PACKAGES="build-essential autoconf automake libtool libtool-bin pkg-config
yasm uuid-dev zlib1g-dev libjpeg-dev libsqlite3-dev libcurl4-openssl-dev
libpcre3-dev libspeexdsp-dev libspeex-dev libldns-dev libedit-dev
libtiff-dev libssl-dev libopus-dev libsndfile1-dev libmemcached-dev
memcached python3 git"

die() {
	echo "fs-test: $*" >&2
	exit 1
}

for v in FREESWITCH_SRC SPANDSP_SRC SOFIA_SIP_SRC; do
	if [ -z "${!v:-}" ]; then
		die "$v is not set: give the FreeSWITCH, spandsp and sofia-sip sources, as git directories or trees:
  make fs-test FREESWITCH_SRC=DIR SPANDSP_SRC=DIR SOFIA_SIP_SRC=DIR
(git clone https://github.com/signalwire/freeswitch, https://github.com/freeswitch/spandsp
and https://github.com/freeswitch/sofia-sip give them)"
	fi
	[ -d "${!v}" ] || die "$v: ${!v}: no such directory"
done

# Install the Debian packages the build needs, when any is missing.
missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
		    die "missing packages:$missing (run as root to install them)"
		sudo=sudo
	fi
	echo "fs-test: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq >&2
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >&2
fi

mkdir -p "$FS_CACHE/logs" "$FS_CACHE/src"
# One build at a time per cache.
exec 9>"$FS_CACHE/.lock"
flock 9

# A bare git directory, as a mirror is: its commits are archived.  Any
# other directory, a checkout included, is a tree, taken as it is.
is_git() {
	[ "$(git -C "$1" rev-parse --is-bare-repository 2>/dev/null)" = true ]
}

# What identifies a source: its commit, or its path for a plain tree.
source_id() { # dir rev
	if is_git "$1"; then
		git -C "$1" rev-parse --verify -q "$2^{commit}" ||
		    die "$1: no commit $2"
	else
		printf 'tree %s' "$(cd "$1" && pwd -P)"
		if [ -e "$1/.git" ]; then
			printf ' at %s' "$(git -C "$1" rev-parse HEAD 2>/dev/null)"
		fi
		echo
	fi
}

# Put the sources into $FS_CACHE/src/NAME, fresh.
export_tree() { # name dir rev
	local dst=$FS_CACHE/src/$1
	rm -rf "$dst"
	mkdir -p "$dst"
	if is_git "$2"; then
		# Mirrors may lack this large test video, which the build does
		# not need; git still names it on stderr while excluding it.
		git -C "$2" archive --format=tar "$3" -- . \
		    ':(exclude,glob)**/freeswitch-4k.yuv' \
		    2> >(grep -v 'freeswitch-4k.yuv' >&2) | tar -x -C "$dst"
	else
		tar -C "$2" --exclude=.git -cf - . | tar -C "$dst" -xf -
	fi
}

# Run a build step quietly into its log, timing it.
step() { # name command...
	local name=$1 t0 t1
	shift
	t0=$(date +%s)
	if ! "$@" >"$FS_CACHE/logs/$name.log" 2>&1; then
		tail -40 "$FS_CACHE/logs/$name.log" >&2
		die "$name failed; see $FS_CACHE/logs/$name.log"
	fi
	t1=$(date +%s)
	echo "fs-test: $name: $((t1 - t0)) s" | tee -a "$FS_CACHE/logs/times.txt"
}

autotools_build() { # name
	cd "$FS_CACHE/src/$1"
	./bootstrap.sh
	./configure --prefix="$FS_CACHE/prefix" --disable-static CFLAGS="-O2 -g"
	make -j"$(nproc)"
	make install
}

freeswitch_build() {
	cd "$FS_CACHE/src/freeswitch"
	printf '%s\n' "$MODULES" >modules.conf
	export PKG_CONFIG_PATH=$FS_CACHE/prefix/lib/pkgconfig
	export LDFLAGS="-Wl,-rpath,$FS_CACHE/prefix/lib -Wl,-rpath,$FS_CACHE/fs/lib"
	./bootstrap.sh -j
	./configure --prefix="$FS_CACHE/fs" --disable-libyuv --disable-libvpx \
	    --without-png --without-freetype --disable-core-odbc-support
	make -j"$(nproc)"
	make install
	# The kit loads modules from a directory of its own: the stock
	# mod_memcache waits here until it is swapped in.
	mkdir -p "$FS_CACHE/stock"
	mv "$FS_CACHE/fs/lib/freeswitch/mod/mod_memcache.so" "$FS_CACHE/stock/"
	rm -f "$FS_CACHE/fs/lib/freeswitch/mod/mod_memcache.la"
}

# Whether NAME must be built: its stamp does not hold the identity of
# its sources.
piece() { # name id
	local stamp=$FS_CACHE/.stamp-$1
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$2" ]; then
		echo "fs-test: $1: already built ($2)"
		return 1
	fi
	rm -f "$stamp"
	return 0
}

T0=$(date +%s)
built=0
SPANDSP_ID="recipe $RECIPE; $(source_id "$SPANDSP_SRC" "$SPANDSP_REV")"
SOFIA_ID="recipe $RECIPE; $(source_id "$SOFIA_SIP_SRC" "$SOFIA_SIP_REV")"
FS_ID="recipe $RECIPE; $(source_id "$FREESWITCH_SRC" "$FREESWITCH_REV"); $SPANDSP_ID; $SOFIA_ID"

if piece spandsp "$SPANDSP_ID"; then
	export_tree spandsp "$SPANDSP_SRC" "$SPANDSP_REV"
	step spandsp autotools_build spandsp
	echo "$SPANDSP_ID" >"$FS_CACHE/.stamp-spandsp"
	rm -rf "$FS_CACHE/src/spandsp"
	built=1
fi
if piece sofia-sip "$SOFIA_ID"; then
	export_tree sofia-sip "$SOFIA_SIP_SRC" "$SOFIA_SIP_REV"
	step sofia-sip autotools_build sofia-sip
	echo "$SOFIA_ID" >"$FS_CACHE/.stamp-sofia-sip"
	rm -rf "$FS_CACHE/src/sofia-sip"
	built=1
fi
if piece freeswitch "$FS_ID"; then
	rm -rf "$FS_CACHE/fs" "$FS_CACHE/stock"
	export_tree freeswitch "$FREESWITCH_SRC" "$FREESWITCH_REV"
	step freeswitch freeswitch_build
	echo "$FS_ID" >"$FS_CACHE/.stamp-freeswitch"
	rm -rf "$FS_CACHE/src/freeswitch"
	built=1
fi
if [ "$built" = 1 ]; then
	echo "fs-test: first build: $(($(date +%s) - T0)) s" |
	    tee -a "$FS_CACHE/logs/times.txt"
fi
"$FS_CACHE/fs/bin/freeswitch" -version
