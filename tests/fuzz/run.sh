#!/usr/bin/env bash
# run.sh BUILD_DIR [SECONDS] - fuzz each harness for SECONDS (default 25).
#
# BUILD_DIR was configured with CC=clang and -DGPUBILL_FUZZ=ON.  Each
# harness starts from a scratch copy of its seed corpus (the committed one
# never changes), under ASan and UBSan, and stops after SECONDS.  Prints
# one line per harness: executions, exec/s, coverage (libFuzzer's final
# "cov:" edges and "ft:" features) and corpus size.  Exits non-zero when
# any harness crashed, hung, leaked or broke one of its own checks; the
# input that did it is kept in BUILD_DIR/fuzz-artifacts/ and its log tail
# is printed.  FUZZ_HARNESSES="fuzz_time fuzz_decimal" runs only those;
# FUZZ_KEEP=DIR keeps each grown corpus in DIR/<harness> (to merge new
# seeds: fuzz_x -merge=1 corpus/fuzz_x DIR/fuzz_x).
set -u
if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
secs=${2:-25}
here=$(cd "$(dirname "$0")" && pwd)
harnesses=${FUZZ_HARNESSES:-fuzz_usage_csv fuzz_prices fuzz_contracts fuzz_decimal fuzz_time}
artifacts=$build/fuzz-artifacts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

status=0 total=0
printf '%-16s %12s %8s %6s %7s %7s  %s\n' harness executions exec/s cov ft corpus result
for h in $harnesses; do
  bin=$build/tests/fuzz/$h
  if [ ! -x "$bin" ]; then
    echo "$h: $bin not built (CC=clang cmake -DGPUBILL_FUZZ=ON ...)"; status=1; continue
  fi
  case $h in
    fuzz_usage_csv) opts="-dict=$here/dict/csv.dict -max_len=8192" ;;
    fuzz_prices|fuzz_contracts) opts="-dict=$here/dict/json.dict -max_len=16384" ;;
    fuzz_decimal) opts="-max_len=130" ;;
    fuzz_time) opts="-max_len=96" ;;
    *) opts="" ;;
  esac
  mkdir -p "$work/$h" "$work/$h.art"
  cp "$here/corpus/$h"/* "$work/$h/" 2>/dev/null
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$work/$h.art/" $opts "$work/$h" \
    >"$work/$h.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$h.log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$work/$h.log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$work/$h.log" | tail -n 1 | cut -d' ' -f2)
  units=$(find "$work/$h" -type f | wc -l)
  total=$((total + ${execs:-0}))
  result=ok
  if [ $rc != 0 ] || [ -n "$(ls -A "$work/$h.art")" ]; then
    result="FAILED (exit $rc)"; status=1
  fi
  printf '%-16s %12s %8s %6s %7s %7s  %s\n' "$h" "${execs:-?}" "${speed:-?}" \
    "${cov:-?}" "${ft:-?}" "$units" "$result"
  if [ -n "${FUZZ_KEEP:-}" ]; then
    mkdir -p "$FUZZ_KEEP/$h" && cp "$work/$h"/* "$FUZZ_KEEP/$h/"
  fi
  if [ "$result" != ok ]; then
    for a in "$work/$h.art"/*; do
      [ -e "$a" ] || continue
      cp "$a" "$artifacts/$h-$(basename "$a")"
      echo "  input kept: $artifacts/$h-$(basename "$a")"
    done
    grep -v -e '^#' -e '^INFO' "$work/$h.log" | tail -n 40 | sed 's/^/    /'
  fi
done
echo "total executions: $total"
exit $status
