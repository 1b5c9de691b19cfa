#!/bin/sh
# run.sh GPUBILL - differential test of gpubill against tests/oracle/oracle.py,
# an independent Python implementation of SPEC sections 4-6.
#
# For seeds 1..N (N = $ORACLE_SEEDS, default 200) gen.py writes a pricing
# table, contracts and usage CSV; both implementations bill them and the
# totals per customer, every line, the summary counts and the rejected rows
# are compared.  A failing seed's inputs and both outputs are kept under
# $ORACLE_KEEP (default ./oracle-failures).  Prints "N passed, M failed";
# exits 1 on any failure, 77 (skip) without python3.
set -u
if [ $# -ne 1 ]; then
  echo "usage: run.sh GPUBILL" >&2
  exit 2
fi
if ! command -v python3 >/dev/null 2>&1 ||
   ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 6))' >/dev/null 2>&1; then
  echo "oracle.differential: python3 (3.6 or later; Debian package python3) not found: skipped"
  exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
exec python3 "$here/driver.py" "$1"
