#!/bin/sh
# run-man-examples.sh GPUBILL_BINARY REPO_ROOT
#
# Lints every man page in REPO_ROOT/man and runs the examples they show,
# comparing each command's standard output with the page, byte for byte.
#
# An example is a no-fill block whose first line is a command:
#
#   .EX
#   $ gpubill invoice \-\-period 2026\-10 tests/data/sample\-usage.csv
#   <its standard output, exactly>
#   $ another command
#   <its standard output>
#   .EE
#
# Lines that start with "$ " are commands; the lines after one, up to the
# next command or .EE, are what it must print on standard output (standard
# error is not compared).  A command continues on the lines right after
# it that start with "> ", as in an interactive shell; the command text is
# its lines joined by newlines (so a line may end in a backslash, a pipe,
# "do", ...).
# .EX blocks that do not start with "$ " (file formats, sample data) are
# left alone.
#
# Commands run with sh -c from REPO_ROOT, with the directory of
# GPUBILL_BINARY first on PATH, LC_ALL=C, TZ=UTC, standard input from
# /dev/null and GPUBILL_DEFAULT_PRICES unset, so pages can rely on the
# default pricing table and on paths relative to the source tree.
#
# roff escapes are undone in commands and expected output: \- \e \\ \&
# \(aq \(dq \(ga \(ti \(ha \(rs and their \[..] forms, "\ " and
# font changes (\fB \fI \fR \fP \f(CW \f[..]).  Any other escape fails
# the example, so that a page cannot silently show something other than
# what was run.
#
# Lint: each page must be silent under "mandoc -T lint -W warning" and
# "groff -ww -man -z" (each when installed); a page that is not counts
# as a failure.
#
# Prints one line per check and "N passed, M failed" at the end.  Exits 0
# when everything passed, 1 when anything failed or no example was found,
# 2 on bad arguments.

LC_ALL=C
export LC_ALL

if [ $# -ne 2 ]; then
	echo "usage: $0 GPUBILL_BINARY REPO_ROOT" >&2
	exit 2
fi
bin=$1
root=$2
if [ ! -x "$bin" ] || [ -d "$bin" ]; then
	echo "$0: $bin: not an executable file" >&2
	exit 2
fi
if [ ! -d "$root/man" ]; then
	echo "$0: $root/man: no such directory" >&2
	exit 2
fi
bindir=$(cd "$(dirname "$bin")" && pwd) || exit 2
root=$(cd "$root" && pwd) || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/gpubill-man.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0
examples=0

pass() {
	passed=$((passed + 1))
	printf 'ok     %s\n' "$1"
}

fail() {
	failed=$((failed + 1))
	printf 'FAIL   %s\n' "$1"
}

# Split one page into examples: for example N, $work/N.where holds
# "page:line", $work/N.cmd the command and $work/N.expect the expected
# output, all un-escaped; $work/N.bad, when present, says why the example
# cannot be run.  Prints the number of examples.
extract() {
	awk -v out="$work" -v page="$2" -v base="$3" '
	function unescape(s, where,    r, c, n, name, i) {
		r = ""
		while ((i = index(s, "\\")) > 0) {
			r = r substr(s, 1, i - 1)
			s = substr(s, i + 1)
			c = substr(s, 1, 1)
			s = substr(s, 2)
			if (c == "-" || c == "\\") { r = r c; continue }
			if (c == "e") { r = r "\\"; continue }
			if (c == "&") continue
			if (c == " ") { r = r " "; continue }
			if (c == "(" || c == "[") {
				if (c == "(") {
					name = substr(s, 1, 2)
					s = substr(s, 3)
				} else {
					n = index(s, "]")
					if (n == 0) { bad = bad where ": unterminated \\[\n"; return r }
					name = substr(s, 1, n - 1)
					s = substr(s, n + 1)
				}
				if (name in glyph) { r = r glyph[name]; continue }
				bad = bad where ": unsupported escape \\" c name "\n"
				continue
			}
			if (c == "f") {
				c = substr(s, 1, 1)
				s = substr(s, 2)
				if (c == "(") s = substr(s, 3)
				else if (c == "[") s = substr(s, index(s, "]") + 1)
				continue
			}
			bad = bad where ": unsupported escape \\" c "\n"
		}
		return r s
	}
	function flush_example() {
		if (cmd == "") return
		n_ex++
		id = base + n_ex
		printf "%s:%d\n", page, cmdline > (out "/" id ".where")
		printf "%s", cmd > (out "/" id ".cmd")
		printf "%s", expect > (out "/" id ".expect")
		if (bad != "") printf "%s", bad > (out "/" id ".bad")
		close(out "/" id ".where"); close(out "/" id ".cmd")
		close(out "/" id ".expect")
		if (bad != "") close(out "/" id ".bad")
		cmd = ""; expect = ""; bad = ""
	}
	BEGIN {
		glyph["aq"] = "\047"; glyph["dq"] = "\""; glyph["ga"] = "`"
		glyph["ti"] = "~"; glyph["ha"] = "^"; glyph["rs"] = "\\"
		inblock = 0; isex = 0; first = 0; cont = 0
		n_ex = 0; cmd = ""; expect = ""; bad = ""
	}
	/^\.EX([ \t]|$)/ { inblock = 1; first = 1; isex = 0; cont = 0; next }
	/^\.EE([ \t]|$)/ { if (isex) flush_example(); inblock = 0; isex = 0; next }
	!inblock { next }
	{
		where = page ":" NR
		line = $0
		c1 = substr(line, 1, 1)
		if ((c1 == "." || c1 == "\047") && substr(line, 2, 2) == "\\\"")
			next
		if (first) {
			first = 0
			isex = substr(line, 1, 2) == "$ "
		}
		if (!isex) next
		if (c1 == "." || c1 == "\047") {
			bad = bad where ": roff request inside an example: " line "\n"
			next
		}
		if (cont && substr(line, 1, 2) == "> ") {
			cmd = cmd "\n" unescape(substr(line, 3), where)
			next
		}
		cont = 0
		if (substr(line, 1, 2) == "$ ") {
			flush_example()
			cmdline = NR
			cmd = unescape(substr(line, 3), where)
			cont = 1
			next
		}
		expect = expect unescape(line, where) "\n"
	}
	END {
		if (inblock) {
			bad = bad page ":" NR ": .EX without .EE\n"
			if (!isex || cmd == "") {
				cmd = "true"
				cmdline = NR
			}
			flush_example()
		}
		print n_ex
	}' "$1"
}

# --- lint ------------------------------------------------------------------

npages=0
for p in "$root"/man/*.1 "$root"/man/*.5 "$root"/man/*.7; do
	[ -f "$p" ] || continue
	npages=$((npages + 1))
	name=${p#"$root"/}
	if command -v mandoc >/dev/null 2>&1; then
		if mandoc -T lint -W warning "$p" >"$work/lint" 2>&1; then
			pass "lint   $name (mandoc)"
		else
			fail "lint   $name (mandoc)"
			sed 's/^/       /' "$work/lint"
		fi
	fi
	if command -v groff >/dev/null 2>&1; then
		if groff -ww -man -z "$p" >"$work/lint" 2>&1 &&
		    [ ! -s "$work/lint" ]; then
			pass "lint   $name (groff)"
		else
			fail "lint   $name (groff)"
			sed 's/^/       /' "$work/lint"
		fi
	fi
done

# --- examples ----------------------------------------------------------------

if [ "$npages" -eq 0 ]; then
	echo "$0: no man pages in $root/man" >&2
	exit 1
fi
for tool in mandoc groff; do
	command -v "$tool" >/dev/null 2>&1 ||
		echo "skip   lint with $tool: not installed"
done
for p in "$root"/man/*.1 "$root"/man/*.5 "$root"/man/*.7; do
	[ -f "$p" ] || continue
	name=${p#"$root"/}
	n=$(extract "$p" "$name" "$examples") || exit 1
	examples=$((examples + n))
done

if command -v timeout >/dev/null 2>&1; then
	limit="timeout 120"
else
	limit=
fi

i=0
while [ "$i" -lt "$examples" ]; do
	i=$((i + 1))
	where=$(cat "$work/$i.where")
	what="$where: \$ $(head -n 1 "$work/$i.cmd")"
	if [ -f "$work/$i.bad" ]; then
		fail "$what"
		sed 's/^/       /' "$work/$i.bad"
		continue
	fi
	(
		cd "$root" || exit 125
		unset GPUBILL_DEFAULT_PRICES
		PATH="$bindir:$PATH" TZ=UTC $limit sh -c "$(cat "$work/$i.cmd")"
	) >"$work/$i.out" 2>"$work/$i.err" </dev/null
	if cmp -s "$work/$i.expect" "$work/$i.out"; then
		pass "$what"
	else
		fail "$what"
		echo "       standard output differs from the page (- page, + actual):"
		diff -u "$work/$i.expect" "$work/$i.out" | sed '1,2d; s/^/       /'
		if [ -s "$work/$i.err" ]; then
			echo "       standard error:"
			sed 's/^/       | /' "$work/$i.err"
		fi
	fi
done

echo "$passed passed, $failed failed"
if [ "$examples" -eq 0 ]; then
	echo "$0: no examples found in $root/man" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
