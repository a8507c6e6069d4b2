#!/bin/sh
# Install the Debian packages that building, testing and linting need,
# and those named as arguments (make deb's packaging tools), when any is
# missing.
set -eu

packages="gcc make pkg-config libc6-dev libmemcached-dev libconfig-dev
libsasl2-dev libedit-dev libssl-dev openssl memcached bats mandoc cppcheck
clang-format
shellcheck bsdutils tmux
sasl2-bin libsasl2-modules libmemcached-tools netcat-openbsd time
clang libclang-rt-14-dev valgrind
python3-pylibmc python3-pymemcache php-cli php-memcached ruby ruby-dalli
nutcracker $*"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >&2
