#!/usr/bin/env bash
# Captures what Valkey's valkey-check-aof prints for each case of
# cases.txt into expected/<name>.out: stdout with log-line prefixes
# normalized (PID:M DATE), "rc=N", then "changed <file> <size>" for each file the tool changed
# (--fix and --truncate-to-timestamp truncate them). Each case runs on a fresh
# copy of files/, from inside it, with argv[0] "valkey-check-aof".
#
#   tests/data/check-aof/capture.sh /path/to/valkey-server
#
# Valkey's server binary is the checker when called as valkey-check-aof.
# Cases listed in OURS keep a hand-checked expected file: the transcript of
# Valkey 9.1.2 goes to expected/<name>.valkey-9.1.2.out for reference.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server=$(readlink -f "$1")
OURS=" valkey-rdb-multipart huge-bulk "
bin=$(mktemp -d); trap 'rm -rf "$bin" "$work"' EXIT
ln -s "$server" "$bin/valkey-check-aof"
work=$(mktemp -d)
mkdir -p "$here/expected"
while IFS='|' read -r name stdin args; do
  name=$(echo "$name" | xargs); stdin=$(echo "$stdin" | xargs); args=$(echo "$args" | xargs)
  case $name in ''|'#'*) continue ;; esac
  rm -rf "$work/files"; cp -r "$here/files" "$work/files"
  out=$here/expected/$name.out
  [[ $OURS == *" $name "* ]] && out=$here/expected/$name.valkey-9.1.2.out
  # shellcheck disable=SC2086
  rc=0; (cd "$work/files" && printf "$stdin" | PATH="$bin:$PATH" valkey-check-aof $args) >"$work/raw" 2>/dev/null || rc=$?
  {
    sed -E -e '/^[0-9]+:M [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9:.]{12} \* Cleaning slot migration log/d' \
           -e 's/^[0-9]+:M [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9:.]{12} /PID:M DATE /' "$work/raw"
    echo "rc=$rc"
    (cd "$work/files" && find . -type f | LC_ALL=C sort | while read -r f; do
      cmp -s "$f" "$here/files/$f" || echo "changed $f $(stat -c %s "$f")"; done)
  } >"$out"
done <"$here/cases.txt"

# valkey-rdb-multipart, as Valkey would print it if it took its own VALKEY080
# base for RDB (valkey-io/valkey#4739): valkey-check-rdb's report on the
# base, and the INCR file's analysis (the RDB adds no lines to the count).
ln -s "$server" "$bin/valkey-check-rdb"
d=valkey-rdb/appendonlydir
base=appendonly.aof.2.base.rdb incr=appendonly.aof.2.incr.aof
size=$(stat -c %s "$here/files/$d/$base")
{
  echo "Start checking Multi Part AOF"
  echo "Start to check BASE AOF (RDB format)."
  (cd "$here/files" && PATH="$bin:$PATH" valkey-check-rdb "$d/$base" | sed '/Cleaning slot migration log/d')
  echo "RDB preamble is OK, proceeding with AOF tail..."
  echo "AOF analyzed: filename=$base, size=$size, ok_up_to=$size, ok_up_to_line=1, diff=0"
  echo "BASE AOF $base is valid"
  echo "Start to check INCR files."
  (cd "$here/files/$d" && PATH="$bin:$PATH" valkey-check-aof "$incr" | grep '^AOF analyzed')
  echo "INCR AOF $incr is valid"
  echo "All AOF files and manifest are valid"
  echo "rc=0"
} >"$here/expected/valkey-rdb-multipart.out"

# huge-bulk: Valkey allocates the announced 1 TB up front and aborts (out of
# memory); we count the bytes instead. Its report for the same bulk with an
# allocatable length of the same width ($000000000099) is the expected one,
# with the byte count put back.
rm -rf "$work/files"; cp -r "$here/files" "$work/files"
sed -i 's/\$999999999999/$000000000099/' "$work/files/huge-bulk.aof"
rc=0; (cd "$work/files" && PATH="$bin:$PATH" valkey-check-aof huge-bulk.aof) >"$work/raw" 2>/dev/null || rc=$?
{ sed 's/Expected to read 101 bytes/Expected to read 1000000000001 bytes/' "$work/raw"; echo "rc=$rc"; } >"$here/expected/huge-bulk.out"
