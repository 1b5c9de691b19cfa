#!/usr/bin/env bash
# run-golden.sh GPUBILL TESTS_DIR - run every golden CLI case.
#
# A case is a folder tests/cli/cases/NAME holding:
#   cmd        one shell command line, run by sh from a scratch copy of the
#              folder with the gpubill under test first on PATH
#   stdout     the exact expected standard output
#   status     the expected exit status (default 0)
#   stderr     optional: the exact expected standard error
#   expect/    optional: files the command must leave behind, byte for byte
#   absent     optional: file names that must NOT exist afterwards
# Expected amounts in each case were computed by hand; see its README.
#
# GOLDEN_WRAPPER="valgrind ..." runs every gpubill call under that command
# (CI uses valgrind's memcheck); GOLDEN_SKIP="case ..." leaves cases out
# (those too slow or too timing-bound under the wrapper).
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cases=$2/cli/cases
pass=0 fail=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/bin"
if [ -n "${GOLDEN_WRAPPER:-}" ]; then
  printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$GOLDEN_WRAPPER" "$bin" > "$scratch/bin/gpubill"
  chmod +x "$scratch/bin/gpubill"
else
  ln -s "$bin" "$scratch/bin/gpubill"
fi

for dir in "$cases"/*/; do
  name=$(basename "$dir")
  case " ${GOLDEN_SKIP:-} " in *" $name "*) echo "skip $name"; continue ;; esac
  work=$scratch/$name
  cp -r "$dir" "$work"
  want_status=0
  [ -f "$dir/status" ] && want_status=$(cat "$dir/status")
  ( cd "$work" && PATH="$scratch/bin:$PATH" sh -c "$(cat cmd)" >"$scratch/$name.out" 2>"$scratch/$name.err" )
  got_status=$?
  ok=1
  if [ "$got_status" != "$want_status" ]; then
    echo "FAIL $name: exit status $got_status, want $want_status"; ok=0
  fi
  if ! diff -u "$dir/stdout" "$scratch/$name.out" >"$scratch/$name.diff"; then
    echo "FAIL $name: standard output differs:"; cat "$scratch/$name.diff"; ok=0
  fi
  if [ -f "$dir/stderr" ] && ! diff -u "$dir/stderr" "$scratch/$name.err"; then
    echo "FAIL $name: standard error differs"; ok=0
  fi
  if [ -d "$dir/expect" ]; then
    for f in "$dir"/expect/*; do
      rel=$(basename "$f")
      if ! diff -u "$f" "$work/$rel"; then
        echo "FAIL $name: $rel differs"; ok=0
      fi
    done
  fi
  if [ -f "$dir/absent" ]; then
    while read -r f; do
      [ -z "$f" ] && continue
      # shellcheck disable=SC2086
      if ls "$work"/$f >/dev/null 2>&1; then echo "FAIL $name: $f exists"; ok=0; fi
    done <"$dir/absent"
  fi
  if [ $ok = 1 ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "  (stderr was:)"; sed 's/^/    /' "$scratch/$name.err"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
