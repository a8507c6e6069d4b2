#!/bin/bash
# make fs-test: a minimal FreeSWITCH in the cache (built once by build.sh),
# the project's module built against it, then the kit's checks.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${FS_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/fsmemcache-fs}"
export FS_CACHE
bash tests/freeswitch/build.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/fs-test-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The module, built afresh so that its warnings are seen.
rm -f mod_memcache.so
make --no-print-directory mod \
    FREESWITCH_INCLUDE="$FS_CACHE/fs/include/freeswitch" 2>&1 |
    tee "$work/mod.log"

# The tokenizer comparison links the core and libfreeswitch.
# shellcheck disable=SC2046 # pkg-config's words are separate flags
cc -std=c99 -O2 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -Isrc/core \
    -o "$work/split-compare" tests/freeswitch/split-compare.c \
    libfsmemcache.a $(pkg-config --libs libmemcached libconfig libsasl2 openssl) \
    -lhashkit -pthread -L"$FS_CACHE/fs/lib" -lfreeswitch \
    -Wl,-rpath,"$FS_CACHE/fs/lib" -Wl,-rpath,"$FS_CACHE/prefix/lib"

python3 tests/freeswitch/fstest.py --cache "$FS_CACHE" --project "$PWD" \
    --mod-log "$work/mod.log" --split-compare "$work/split-compare" \
    ${FS_TEST_KEEP:+--keep}
