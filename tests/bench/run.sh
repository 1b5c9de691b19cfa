#!/usr/bin/env bash
# run.sh - gpubill's benchmark: floor, gpubill and DuckDB on one generated log.
#
# Usage: tests/bench/run.sh [BUILD_DIR]      (or: cmake --build BUILD --target bench)
#
# Settings, from the environment:
#   ROWS=5000000      data rows in the generated log
#   SEED=1            generator seed
#   CUSTOMERS=2000    distinct customers
#   REPEAT=3          runs of each measurement; the best (shortest) counts
#   DUCKDB=auto       auto: run the DuckDB peer if it can be had (npm ci into
#                     tests/bench/node_modules when missing); 0: skip it
#   SHARDS=1          time two --shard halves in parallel against one run; 0: skip
#   SCALING=0         1: also time 2 x ROWS rows, and report time(2N)/time(N)
#   CUSTOMERS_SWEEP=0 1: also time ROWS rows over 10 and over 1,000,000
#                     customers, compare the cost per record, and print
#                     what a random read costs here (gpubill-memlat)
#   BENCH_DIR         where generated logs are kept (default BUILD_DIR/bench-cache);
#                     a log is made again only when the generator is newer
#   SMOKE=0           1: fail unless gpubill billed rows and a non-zero total
#   GPUBILL, GPUBILL_GEN, GPUBILL_FLOOR, GPUBILL_MEMLAT
#                     the binaries (default: from BUILD_DIR)
#
# Everything runs one after another on one core's worth of work each, except
# the two shards, which run side by side.  See README.md beside this file.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$top/build}}
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run.sh: no build directory '$build'" >&2; exit 2; }

ROWS=${ROWS:-5000000}
SEED=${SEED:-1}
CUSTOMERS=${CUSTOMERS:-2000}
REPEAT=${REPEAT:-3}
DUCKDB=${DUCKDB:-auto}
SHARDS=${SHARDS:-1}
SCALING=${SCALING:-0}
CUSTOMERS_SWEEP=${CUSTOMERS_SWEEP:-0}
SMOKE=${SMOKE:-0}
PERIOD=2026-10
GPUBILL=${GPUBILL:-$build/gpubill}
GPUBILL_GEN=${GPUBILL_GEN:-$build/tests/bench/gpubill-gen}
GPUBILL_FLOOR=${GPUBILL_FLOOR:-$build/tests/bench/gpubill-floor}
GPUBILL_MEMLAT=${GPUBILL_MEMLAT:-$build/tests/bench/gpubill-memlat}
PRICES=$top/pricing-tables/default.json
BENCH_DIR=${BENCH_DIR:-$build/bench-cache}

die() { echo "run.sh: $*" >&2; exit 2; }
for b in "$GPUBILL" "$GPUBILL_GEN" "$GPUBILL_FLOOR"; do
	[ -x "$b" ] || die "$b is missing: build first (cmake --build $build)"
done
case "$ROWS$CUSTOMERS$REPEAT" in *[!0-9]*) die "ROWS, CUSTOMERS and REPEAT must be whole numbers" ;; esac
[ "$REPEAT" -ge 1 ] || die "REPEAT must be at least 1"
mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gpubill-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$scratch"' EXIT

# Peak RSS comes from GNU time; without it the column says n/a.
timer=()
if /usr/bin/time -f %M -o "$scratch/t" true 2>/dev/null && [ -s "$scratch/t" ]; then
	timer=(/usr/bin/time -f %M -o "$scratch/rss")
else
	echo "run.sh: GNU time (/usr/bin/time, Debian package 'time') not found: no peak RSS figures" >&2
fi

now_ns() { date +%s%N; }

# generate ROWS CUSTOMERS: make (or reuse) a log and its contracts; sets
# LOG, CONTRACTS, LOG_BYTES, LOG_STATS.
generate() {
	local rows=$1 customers=$2 stem
	stem="$BENCH_DIR/usage-r$rows-s$SEED-c$customers"
	LOG=$stem.csv
	CONTRACTS=$stem.contracts.json
	if [ ! -s "$LOG" ] || [ ! -s "$CONTRACTS" ] || [ ! -s "$stem.stats" ] ||
	   [ "$GPUBILL_GEN" -nt "$LOG" ]; then
		echo "generating $rows rows, $customers customers -> $LOG" >&2
		"$GPUBILL_GEN" --rows "$rows" --seed "$SEED" --customers "$customers" \
			--period "$PERIOD" -o "$LOG.tmp" --contracts "$CONTRACTS" -v \
			2>"$stem.stats" || die "gpubill-gen failed: $(cat "$stem.stats")"
		mv "$LOG.tmp" "$LOG"
	fi
	LOG_STATS=$(cat "$stem.stats")
	LOG_BYTES=$(stat -c %s "$LOG")
}

stat_of() { # stat_of KEY: a key=value from the generator's stats line
	printf '%s\n' "$LOG_STATS" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# measure CMD...: run it REPEAT times; sets BEST (seconds, the shortest wall
# time), RSS (KiB, the largest peak seen, or empty), OUT and ERR (files of
# the best run).  A run that fails stops the benchmark.
measure() {
	local i t0 t1 ns best_ns='' rss='' status
	for ((i = 0; i < REPEAT; i++)); do
		rm -f "$scratch/rss"
		t0=$(now_ns)
		if [ "$(type -t "$1")" = function ]; then
			"$@" >"$scratch/out.$i" 2>"$scratch/err.$i"
		else
			"${timer[@]}" "$@" >"$scratch/out.$i" 2>"$scratch/err.$i"
		fi
		status=$?
		t1=$(now_ns)
		if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
			echo "run.sh: '$*' exited with status $status:" >&2
			cat "$scratch/err.$i" >&2
			exit 1
		fi
		ns=$((t1 - t0))
		if [ -z "$best_ns" ] || [ "$ns" -lt "$best_ns" ]; then
			best_ns=$ns
			cp "$scratch/out.$i" "$scratch/best.out"
			cp "$scratch/err.$i" "$scratch/best.err"
		fi
		if [ -s "$scratch/rss" ]; then
			local r
			r=$(tail -n 1 "$scratch/rss")
			if [ -z "$rss" ] || [ "$r" -gt "$rss" ]; then rss=$r; fi
		fi
	done
	BEST=$(awk -v n="$best_ns" 'BEGIN { printf "%.3f", n / 1e9 }')
	RSS=$rss
	OUT=$scratch/best.out
	ERR=$scratch/best.err
}

calc() { awk "BEGIN { x = $1; printf \"%.${2:-2}f\", x }"; }
mib() { if [ -n "$1" ]; then calc "$1 / 1024" 1; else echo n/a; fi; }
row() { # row NAME SECONDS RSS_KIB ROWS BYTES
	printf '%-34s %8s %12s %9s %9s\n' "$1" "$2" \
		"$(calc "$4 / $2" 0)" "$(calc "$5 / 1e6 / $2" 1)" "$(mib "$3")"
}
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }

# The timed command: gpubill invoice -q --period P [--contracts F] --format json
# -o /dev/null LOG, the default table.
invoice_cmd() { # invoice_cmd LOG [CONTRACTS]: sets CMD
	CMD=("$GPUBILL" invoice -q --period "$PERIOD")
	[ -n "${2:-}" ] && CMD+=(--contracts "$2")
	CMD+=(--format json -o /dev/null "$1")
}

# --- the log ---------------------------------------------------------------
generate "$ROWS" "$CUSTOMERS"
MAIN_LOG=$LOG
MAIN_CONTRACTS=$CONTRACTS
MAIN_BYTES=$LOG_BYTES
reserved=$(stat_of reserved_customers)

echo "gpubill benchmark"
echo "  log:      $ROWS rows, $(calc "$MAIN_BYTES / 1e6" 1) MB, $CUSTOMERS customers ($reserved with reservations), seed $SEED, period $PERIOD"
echo "  machine:  $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(free -g 2>/dev/null | awk '/^Mem:/ { print $2 " GiB" }') RAM; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  gpubill:  $("$GPUBILL" --version 2>/dev/null | head -n 1)"
echo "  each figure is the best of $REPEAT runs"

# An untimed run with the summary, to check and count.
"$GPUBILL" invoice --period "$PERIOD" --contracts "$MAIN_CONTRACTS" --format json \
	-o "$scratch/invoice.json" "$MAIN_LOG" 2>"$scratch/summary"
status=$?
summary=$(grep 'records read' "$scratch/summary" | tail -n 1)
if [ "$status" -gt 1 ] || [ -z "$summary" ]; then
	echo "run.sh: gpubill invoice failed (status $status):" >&2
	cat "$scratch/summary" >&2
	exit 1
fi
echo "  summary:  ${summary#*: }"
read_n=$(printf '%s\n' "$summary" | sed -n 's/.*: \([0-9]*\) records read.*/\1/p')
billed_n=$(printf '%s\n' "$summary" | sed -n 's/.* \([0-9]*\) billed.*/\1/p')
dups_n=$(printf '%s\n' "$summary" | sed -n 's/.* \([0-9]*\) duplicates.*/\1/p')
total=$(printf '%s\n' "$summary" | sed -n 's/.*total \([-0-9.]*\) .*/\1/p')
if [ "$SMOKE" = 1 ]; then
	if [ "${billed_n:-0}" -gt 0 ] && [ -n "$total" ] &&
	   awk "BEGIN { exit !($total > 0) }" && [ "$read_n" = "$ROWS" ]; then
		echo "  smoke:    ok ($billed_n of $read_n rows billed, total $total)"
	else
		echo "run.sh: smoke check failed: $summary" >&2
		exit 1
	fi
fi
echo

printf '%-34s %8s %12s %9s %9s\n' "" "wall s" "rows/s" "MB/s" "RSS MiB"

# (a) the floor
measure "$GPUBILL_FLOOR" "$MAIN_LOG"
floor_s=$BEST
row "floor (bare libcsv parse loop)" "$BEST" "$RSS" "$ROWS" "$MAIN_BYTES"

# (b) gpubill
invoice_cmd "$MAIN_LOG" "$MAIN_CONTRACTS"
measure "${CMD[@]}"
gpubill_s=$BEST
gpubill_rss=$RSS
row "gpubill invoice (json, contracts)" "$BEST" "$RSS" "$ROWS" "$MAIN_BYTES"

# (c) DuckDB, single thread
duckdb_s=
if [ "$DUCKDB" != 0 ]; then
	duckdb_ok=1
	if ! command -v node >/dev/null 2>&1; then
		echo "duckdb: skipped: node is not installed (apt-get install nodejs npm)" >&2
		duckdb_ok=0
	elif ! (cd "$here" && node -e 'import("@duckdb/node-api")' >/dev/null 2>&1); then
		# npm ci installs exactly the lock file; where a registry mirror
		# lacks another platform's optional binding, ci refuses and a
		# plain install (saving nothing) still gets this platform's.
		echo "duckdb: @duckdb/node-api not installed; trying npm ci in $here" >&2
		if ! (cd "$here" && { npm ci --no-audit --no-fund ||
			npm install --no-save --no-audit --no-fund; } >"$scratch/npm.log" 2>&1) ||
		   ! (cd "$here" && node -e 'import("@duckdb/node-api")' >/dev/null 2>&1); then
			echo "duckdb: skipped: npm could not install @duckdb/node-api ($(grep 'error code' "$scratch/npm.log" | tail -n 1))" >&2
			duckdb_ok=0
		fi
	fi
	if [ "$duckdb_ok" = 1 ]; then
		measure node "$here/duckdb.mjs" "$MAIN_LOG" "$PRICES" "$PERIOD"
		# The query's own time, without node's start-up: the kinder figure.
		best_q=
		for ((i = 0; i < REPEAT; i++)); do
			q=$(sed -n 's/.*duckdb_seconds=\([0-9.]*\).*/\1/p' "$scratch/out.$i")
			if [ -n "$q" ] && { [ -z "$best_q" ] || awk "BEGIN { exit !($q < $best_q) }"; }; then
				best_q=$q
			fi
		done
		duckdb_s=$best_q
		row "duckdb 1 thread (query)" "$duckdb_s" "$RSS" "$ROWS" "$MAIN_BYTES"
		echo "  ($(sed -n 's/^duckdb_seconds=[0-9.]* //p' "$OUT"); node process wall $BEST s; RSS is node's)"
	fi
else
	echo "duckdb: skipped (DUCKDB=0)"
fi

echo
ratio_floor=$(calc "$floor_s / $gpubill_s")
echo "gpubill / floor throughput:      $ratio_floor   (target >= 0.6: $(verdict "$ratio_floor >= 0.6"))"
if [ -n "$duckdb_s" ]; then
	ratio_duck=$(calc "$duckdb_s / $gpubill_s")
	echo "duckdb time / gpubill time:      $ratio_duck   (target >= 2: $(verdict "$ratio_duck >= 2"))"
else
	echo "duckdb time / gpubill time:      n/a (DuckDB skipped)"
fi
if [ -n "$gpubill_rss" ]; then
	ids=$((read_n - dups_n))
	limit_kib=$(calc "64 * 1024 + 32 * $ids / 1024" 0)
	echo "peak RSS:                        $(mib "$gpubill_rss") MiB, limit 64 MiB + 32 B x $ids ids = $(mib "$limit_kib") MiB ($(verdict "$gpubill_rss <= $limit_kib"))"
fi

# Two shards side by side against one unsharded run.
if [ "$SHARDS" = 1 ]; then
	shards_pair() {
		"$GPUBILL" invoice --period "$PERIOD" --contracts "$MAIN_CONTRACTS" \
			--format json -o /dev/null --shard 1/2 "$MAIN_LOG" 2>"$scratch/shard1" &
		local p1=$!
		"$GPUBILL" invoice --period "$PERIOD" --contracts "$MAIN_CONTRACTS" \
			--format json -o /dev/null --shard 2/2 "$MAIN_LOG" 2>"$scratch/shard2" &
		local p2=$! s1 s2
		wait "$p1"; s1=$?
		wait "$p2"; s2=$?
		[ "$s1" -le 1 ] && [ "$s2" -le 1 ]
	}
	measure shards_pair
	ratio_shard=$(calc "$BEST / $gpubill_s")
	b1=$(sed -n 's/.* \([0-9]*\) billed.*/\1/p' "$scratch/shard1")
	b2=$(sed -n 's/.* \([0-9]*\) billed.*/\1/p' "$scratch/shard2")
	check="billed $b1 + $b2"
	if [ -n "$b1" ] && [ -n "$b2" ] && [ $((b1 + b2)) = "$billed_n" ]; then
		check="$check = $billed_n, as unsharded"
	else
		check="$check != $billed_n unsharded: WRONG"
	fi
	echo "2 shards in parallel / 1 run:    $ratio_shard   ($BEST s vs $gpubill_s s; target <= 0.6: $(verdict "$ratio_shard <= 0.6"); $check)"
fi

# time(2N) / time(N)
if [ "$SCALING" = 1 ]; then
	generate $((2 * ROWS)) "$CUSTOMERS"
	invoice_cmd "$LOG" "$CONTRACTS"
	measure "${CMD[@]}"
	ratio_scale=$(calc "$BEST / $gpubill_s")
	row "gpubill, $((2 * ROWS)) rows" "$BEST" "$RSS" $((2 * ROWS)) "$LOG_BYTES"
	echo "time($((2 * ROWS))) / time($ROWS):   $ratio_scale   (target <= 2.1: $(verdict "$ratio_scale <= 2.1"))"
fi

# Per-record cost over 10 and over 1,000,000 customers (no contracts, so
# that only the records differ).
if [ "$CUSTOMERS_SWEEP" = 1 ]; then
	for c in 10 1000000; do
		generate "$ROWS" "$c"
		invoice_cmd "$LOG"
		measure "${CMD[@]}"
		row "gpubill, $c customers, no contracts" "$BEST" "$RSS" "$ROWS" "$LOG_BYTES"
		eval "sweep_$c=\$BEST"
	done
	ns10=$(calc "$sweep_10 * 1e9 / $ROWS" 0)
	ns1m=$(calc "$sweep_1000000 * 1e9 / $ROWS" 0)
	ratio_cust=$(calc "$sweep_1000000 / $sweep_10")
	echo "per record, 10 vs 1,000,000 customers: $ns10 ns vs $ns1m ns, ratio $ratio_cust (the same cost: $(verdict "$ratio_cust <= 1.15 && $ratio_cust >= 0.87"), within 15%)"
	# With a million customers each record's customer and bucket
	# lookups leave the cache: what one random read costs here.
	if [ -x "$GPUBILL_MEMLAT" ]; then
		"$GPUBILL_MEMLAT" 4 32 256 || echo "run.sh: $GPUBILL_MEMLAT failed" >&2
	else
		echo "run.sh: no $GPUBILL_MEMLAT: no random-read figures" >&2
	fi
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
