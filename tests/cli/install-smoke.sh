#!/usr/bin/env bash
# install-smoke.sh BUILD_DIR SOURCE_DIR - install into a scratch prefix and
# check that what a user gets works: the tool finds its default table, the
# man pages and headers are in place, and pkg-config can build a program.
set -eu
build=$1 src=$2 sanitized=${3:-0}
extra=
# A sanitized library needs the sanitizer runtime in the program too.
[ "$sanitized" = 1 ] && extra="-fsanitize=address,undefined"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/gpubill include/gpubill/gpubill.h share/gpubill/pricing-tables/default.json \
         share/man/man1/gpubill.1 share/man/man5/gpubill-pricing.5; do
  [ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
ls "$prefix"/lib*/libgpubill.a "$prefix"/lib*/libgpubill.so* "$prefix"/lib*/pkgconfig/gpubill.pc >/dev/null
# The installed tool, away from the build tree, bills with its own table.
out=$(cd / && env -u GPUBILL_DEFAULT_PRICES "$prefix/bin/gpubill" invoice -q --period 2026-10 \
      --format json "$src/tests/data/sample-usage.csv")
echo "$out" | grep -q '"total": "721.19"' || { echo "installed tool gave: $out"; exit 1; }
# A program built against the installed library through pkg-config.
cat >"$prefix/t.c" <<'C'
#include <gpubill/gpubill.h>
#include <string.h>
int main(void) { return strcmp(gb_version(), "0.1.0") != 0; }
C
PKG_CONFIG_PATH=$(dirname "$(ls "$prefix"/lib*/pkgconfig/gpubill.pc)") \
  sh -c 'cc $1 "$0/t.c" -o "$0/t" $(pkg-config --cflags --libs gpubill) -Wl,-rpath,$(pkg-config --variable=libdir gpubill)' "$prefix" "$extra"
"$prefix/t"
echo "1 passed, 0 failed"
