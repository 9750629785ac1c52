#!/usr/bin/env bash
# Runs Valkey's own Tcl test suite (../shared/valkey-tests, through ../shared/tools/valkey-suite.sh)
# against ferrokey and against Valkey 9.1, and writes docs/compat.md: the per-file ok/err counts of both.
#
# Usage: scripts/compat.sh [--ferrokey-only] [--doc-only] [--spawn "FILE ..." [--spawn-only]] [FILE ...]
#   FILE ...         external-mode files (default: valkey-suite.sh's DEFAULT_FILES, the unit files that run
#                    against an already-running server).
#   --ferrokey-only  does not rerun Valkey: reuses its saved counts in docs/compat/valkey-9.1-*.tsv.
#                    Valkey's figures only change when the suite or the Valkey binary changes.
#   --doc-only       runs nothing: rewrites docs/compat.md from the saved counts (after editing
#                    docs/compat/why.tsv, the "why" column, or docs/compat/triage.md, appended as is).
#   --spawn "F ..."  also runs these files in spawn mode (the suite starts each server itself, with
#                    tests/assets/default.conf): integration/*, unit/info, unit/acl, ... Spawned servers use
#                    ports 17440-17499. With --spawn-only, the external runs are skipped.
# Both servers run on loopback (Valkey on 17401, ferrokey on 17402), started with --enable-debug-command yes;
# the suite's own test-server port is in 17408-17439.
# A server that a file kills, aborts or hangs is restarted before the next file (SERVER_CMD below).
# ferrokey is $FERROKEY_BIN if set, else target/release/ferrokey-server after `cargo build --release`
# (a no-op when it is up to date), so the commit in the doc is the one the binary was built from.
#
# Environment: FILE_TIMEOUT (s per file, default 900: bounded but generous on a shared machine; Valkey's
# slowest files (unit/hyperloglog, unit/type/list-3) take ~50 s, and the suite itself cuts a hung test at 120 s), FERROKEY_ARGS / VALKEY_ARGS (extra server arguments, e.g. '--io-threads 4'),
# COMPAT_OUT (raw logs, default target/compat).
# Output: docs/compat.md; docs/compat/<server>-<mode>.tsv (valkey-suite.sh's summary.tsv) and .meta (when,
# which commit, which command, how long);
# docs/compat/<server>-<mode>-failures.txt (every [err]/[exception]/[TIMEOUT] line, per file);
# raw logs in $COMPAT_OUT/<server>-<mode>/<file>.log.
set -uo pipefail

# Internal: (re)start one server for valkey-suite.sh's SERVER_CMD. Stops the previous one by its recorded
# pid first (it may hang rather than have died), then execs the server so the pid file names it.
if [ "${1:-}" = __serve ]; then
  pidfile=$2; shift 2
  if [ -s "$pidfile" ]; then
    old=$(cat "$pidfile")
    if [ -r "/proc/$old/cmdline" ] && tr '\0' ' ' <"/proc/$old/cmdline" | grep -qF -- "$1"; then
      kill -9 "$old" 2>/dev/null
      for _ in $(seq 50); do [ -e "/proc/$old" ] || break; sleep 0.1; done
    fi
  fi
  echo $$ >"$pidfile"
  exec "$@"
fi

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
SELF=$ROOT/scripts/compat.sh
TOOLS=$ROOT/../shared/tools
[ -x "$TOOLS/valkey-suite.sh" ] || TOOLS=/work/shared/tools
SUITE_SH=$TOOLS/valkey-suite.sh
export FILE_TIMEOUT=${FILE_TIMEOUT:-900}
OUTROOT=${COMPAT_OUT:-$ROOT/target/compat}
DATA=$ROOT/docs/compat
VK_PORT=17401 FK_PORT=17402

cmdline="scripts/compat.sh${*:+ $(printf '%q ' "$@")}"; cmdline=${cmdline% }
ferrokey_only=0 doc_only=0 spawn_only=0 spawn_files= ext_files=()
while [ $# -gt 0 ]; do
  case $1 in
    --ferrokey-only) ferrokey_only=1 ;;
    --doc-only) doc_only=1 ;;
    --spawn-only) spawn_only=1 ;;
    --spawn) spawn_files=$2; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) ext_files+=("$1") ;;
  esac
  shift
done

mkdir -p "$DATA" "$OUTROOT"
if [ $doc_only = 0 ]; then
  VALKEY=$("$TOOLS/reference-servers.sh" | awk '$1 == "valkey-server" {print $2}')
  [ -x "$VALKEY" ] || { echo "compat: no Valkey 9.1 binary (reference-servers.sh)"; exit 2; }
  if [ -n "${FERROKEY_BIN:-}" ]; then
    FK=$(readlink -f "$FERROKEY_BIN"); fk_commit="binary $FERROKEY_BIN"
  else
    # The commit is read before building: the build compiles the tree as it is now.
    fk_commit=$(git rev-parse --short HEAD)
    git diff --quiet HEAD -- src Cargo.toml Cargo.lock || fk_commit+=" plus uncommitted changes"
    cargo build --release -q || exit 2
    FK=$ROOT/target/release/ferrokey-server
  fi
fi

started=()
cleanup() {
  local p
  for p in "${started[@]}"; do
    [ -s "$p" ] || continue
    local pid; pid=$(cat "$p")
    # Only our own server: the pid file is rewritten by every restart, and the cmdline must still match.
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qE 'ferrokey-server|valkey-server'; then
      kill "$pid" 2>/dev/null
    fi
  done
}
trap cleanup EXIT

# run NAME BIN PORT EXTRA_ARGS: external mode over the file list.
run_external() {
  local name=$1 bin=$2 port=$3 extra=$4 out=$OUTROOT/$1-external t; t=$(date +%s)
  rm -rf "$out"; mkdir -p "$out/dir"
  local pidfile=$out/server.pid
  started+=("$pidfile")
  # shellcheck disable=SC2089
  local cmd="exec '$SELF' __serve '$pidfile' '$bin' --port $port --bind 127.0.0.1 --save '' --appendonly no"
  cmd+=" --daemonize no --enable-debug-command yes --dir '$out/dir' $extra"
  echo "compat: $name external mode on 127.0.0.1:$port, logs in $out"
  # valkey-suite.sh starts the server itself (SERVER_CMD) when nothing answers PING on the port.
  # The suite's test server listens on a port in [baseport-32, baseport): keep it in our range, away from
  # the suite's default (21079), which another concurrent run would also pick.
  RUNTEST_ARGS="--baseport 17440 --portcount 60 ${RUNTEST_ARGS:-}" SERVER_CMD=$cmd \
    "$SUITE_SH" external "$port" "$out" "${ext_files[@]}" | tail -n 1
  cp "$out/summary.tsv" "$DATA/$name-external.tsv"
  failures "$out" >"$DATA/$name-external-failures.txt"
  meta "$name" external "$5" $(( $(date +%s) - t )) "$6" >"$DATA/$name-external.meta"
}

# meta NAME MODE BUILD SECONDS [ARGS]: how a saved summary was made (read back by the doc writer).
meta() {
  printf 'date\t%s\nbuild\t%s\nseconds\t%s\ncommand\t%s\nfile_timeout\t%s\nargs\t%s\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$3" "$4" "$cmdline" "$FILE_TIMEOUT" "${5:-}"
}

run_spawn() {
  local name=$1 bin=$2 out=$OUTROOT/$1-spawn t; t=$(date +%s)
  rm -rf "$out"; mkdir -p "$out"
  echo "compat: $name spawn mode, logs in $out"
  # shellcheck disable=SC2086
  RUNTEST_ARGS="--baseport 17440 --portcount 60 ${RUNTEST_ARGS:-}" "$SUITE_SH" spawn "$bin" "$out" $spawn_files | tail -n 1
  cp "$out/summary.tsv" "$DATA/$name-spawn.tsv"
  failures "$out" >"$DATA/$name-spawn-failures.txt"
  meta "$name" spawn "$3" $(( $(date +%s) - t )) >"$DATA/$name-spawn.meta"
}

# Every failing test of every file, with the assertion that failed (the indented lines after [err]),
# and the last lines of a file that stopped before its end.
failures() {
  local f log
  tail -n +2 "$1/summary.tsv" | while IFS=$'\t' read -r f _; do
    log="$1/$(echo "$f" | tr / _).log"
    [ -f "$log" ] || continue
    if grep -aqE '^\[(err|exception|TIMEOUT)\]' "$log" || ! grep -aq 'The End' "$log"; then
      echo "== $f"
      # The [err] line, then the assertion or error (Tcl repeats an error message
      # truncated first: a line that ends the next one is dropped), not the stack trace.
      awk '/^\[(err|exception|TIMEOUT)\]/ {if (prev != "") print "    " prev; prev = ""; p = 1; n = 0; print; next}
           p && (/^\[(ok|skip|ignore)\]|^=== |while executing|invoked from within|^\(procedure/ || n >= 3) {
             if (prev != "") print "    " prev; prev = ""; p = 0; next }
           p && NF { if (prev != "" && index($0, prev) == 0) print "    " prev; prev = $0; n++ }
           END { if (prev != "") print "    " prev }' "$log" |
        sed -E 's#[^ ]*/valkey-suite\.[A-Za-z0-9]+/##g' | cut -c1-400
      if ! grep -aq 'The End' "$log"; then
        echo "    (stopped before its end; last lines:)"
        tail -n 4 "$log" | cut -c1-300 | sed 's/^/      /'
      fi
    fi
  done
}

if [ $doc_only = 0 ]; then
  if [ $ferrokey_only = 0 ]; then
    [ $spawn_only = 0 ] &&
      run_external valkey-9.1 "$VALKEY" $VK_PORT "${VALKEY_ARGS:-}" "Valkey 9.1.2 ($VALKEY)" "${VALKEY_ARGS:-}"
    [ -n "$spawn_files" ] && run_spawn valkey-9.1 "$VALKEY" "Valkey 9.1.2 ($VALKEY)"
  fi
  [ $spawn_only = 0 ] && run_external ferrokey "$FK" $FK_PORT "${FERROKEY_ARGS:-}" "$fk_commit" "${FERROKEY_ARGS:-}"
  [ -n "$spawn_files" ] && run_spawn ferrokey "$FK" "$fk_commit"
  cleanup; trap - EXIT
fi

python3 - "$DATA" "$ROOT/docs/compat.md" <<'PY'
import csv, os, re, sys
data, doc = sys.argv[1:]

def path(name):
    return os.path.join(data, name)

# Why ferrokey fails a file: docs/compat/why.tsv (file<TAB>reason for external mode, spawn:file<TAB>reason
# for spawn mode), kept by hand; update it when a cause is fixed or found.
WHY = {}
if os.path.exists(path("why.tsv")):
    for line in open(path("why.tsv")):
        if line.strip() and not line.startswith("#"):
            f, _, why = line.rstrip("\n").partition("\t")
            WHY[f] = why

def load(name):
    if not os.path.exists(path(name)):
        return None, []
    rows = list(csv.DictReader(open(path(name)), delimiter="\t"))
    return {r["file"]: r for r in rows}, [r["file"] for r in rows]

def meta(name):
    m = {}
    if os.path.exists(path(name)):
        for line in open(path(name)):
            k, _, v = line.rstrip("\n").partition("\t")
            m[k] = v
    return m

def block_aborts(name):
    """Files where a server block's setup failed ([err] lines naming no test): its tests never ran."""
    out, cur = set(), None
    if os.path.exists(path(name)):
        for line in open(path(name)):
            if line.startswith("== "):
                cur = line[3:].strip()
            elif line.startswith("[err]: ") and not re.search(r" in tests/\S+\.tcl$", line.strip()):
                out.add(cur)
    return out

def mins(m):
    s = int(m.get("seconds", "0") or 0)
    return f"{s // 60} min {s % 60:02d} s"

out = []
w = out.append
w("# Compatibility: Valkey's own test suite\n")
w("Valkey's Tcl tests (`../shared/valkey-tests`, Valkey's tree of 2024-10-25, between 8.0 and 8.1), run one file "
  "at a time by `../shared/tools/valkey-suite.sh` against ferrokey and against Valkey 9.1.2 on the same machine "
  "(2 cores, shared with other builds). Every later issue is judged partly on these counts.\n")
w("Regenerate: `scripts/compat.sh --ferrokey-only` reruns ferrokey (building `target/release/ferrokey-server` "
  "first) and reuses Valkey's saved counts (`docs/compat/valkey-9.1-external.tsv`: they change only with the "
  "suite or the Valkey binary); `scripts/compat.sh` reruns both; `scripts/compat.sh --doc-only` only rewrites "
  "this page (after editing `docs/compat/why.tsv`, the last column, or `docs/compat/triage.md`, the section "
  "after the tables). Raw logs stay in `target/compat/`.\n")

def table(mode):
    fk, forder = load(f"ferrokey-{mode}.tsv")
    vk, vorder = load(f"valkey-9.1-{mode}.tsv")
    if fk is None and vk is None:
        return
    fm, vm = meta(f"ferrokey-{mode}.meta"), meta(f"valkey-9.1-{mode}.meta")
    aborted = block_aborts(f"ferrokey-{mode}-failures.txt")
    order = forder + [f for f in vorder if f not in forder]
    w(f"## {mode.capitalize()} mode\n")
    for who, m in (("ferrokey", fm), ("Valkey 9.1", vm)):
        if m:
            w(f"- {who}: {m.get('build', '?')}, run {m.get('date', '?')} by `{m.get('command', '?')}` "
              f"in {mins(m)} (FILE_TIMEOUT={m.get('file_timeout', '?')}"
              f"{', extra server arguments `' + m['args'] + '`' if m.get('args') else ''}).")
    if mode == "external":
        w("- Each server is started as `<server> --port P --bind 127.0.0.1 --save '' --appendonly no "
          "--daemonize no --enable-debug-command yes --dir D` (Valkey on 17401, ferrokey on 17402) by "
          "valkey-suite.sh's `SERVER_CMD`, which also restarts it before the next file when a file killed or "
          "hung it; the suite runs as `SERVER_CMD=... RUNTEST_ARGS='--baseport 17440 --portcount 60' "
          "FILE_TIMEOUT=900 ../shared/tools/valkey-suite.sh external P OUTDIR` over its default file list. "
          "unit/info, unit/acl and unit/auth are skipped by the suite in external mode (`--spawn` runs them).")
    w("- ok / err: the suite's `[ok]` and `[err]` lines. exc/timeout: `exception` or `timeout` when the file "
      "stopped before its end, `block aborted` when a server block's setup failed (an `[err]` naming no test: "
      "the rest of that block never ran); `(N not reached)` counts the tests Valkey ran there that ferrokey "
      "never reached, neither ok nor err.")
    w(f"- Every failing test with its failed assertion: `docs/compat/ferrokey-{mode}-failures.txt` "
      f"(Valkey's: `valkey-9.1-{mode}-failures.txt`); raw logs in `target/compat/<server>-{mode}/`.\n")
    w("| file | ferrokey ok | ferrokey err | ferrokey exc/timeout | Valkey 9.1 ok | Valkey 9.1 err | why ferrokey fails here |")
    w("|---|--:|--:|---|--:|--:|---|")
    t = dict(fok=0, ferr=0, fstop=0, vok=0, verr=0, vstop=0, missing=0)
    for f in order:
        a, b = (fk or {}).get(f), (vk or {}).get(f)
        n = lambda r, k: int(r[k]) if r else 0
        notes = []
        if not a:
            notes.append("not run")
        elif a["timed_out"] == "1":
            notes.append("timeout")
        elif a["exception"] == "1":
            notes.append("exception")
        if a and f in aborted:
            notes.append("block aborted")
        missing = max(0, n(b, "ok") + n(b, "err") - n(a, "ok") - n(a, "err")) if a and b else 0
        if missing and notes:
            notes.append(f"({missing} not reached)")
        stopped = bool(a) and (a["exception"] == "1" or f in aborted)
        t["fok"] += n(a, "ok"); t["ferr"] += n(a, "err"); t["fstop"] += stopped
        t["vok"] += n(b, "ok"); t["verr"] += n(b, "err"); t["vstop"] += bool(b) and b["exception"] == "1"
        t["missing"] += missing if notes else 0
        vok = (b["ok"] + (" (exception)" if b["exception"] == "1" else "")) if b else "-"
        w(f"| {f} | {a['ok'] if a else '-'} | {a['err'] if a else '-'} | {' '.join(notes)} | {vok} | "
          f"{b['err'] if b else '-'} | {WHY.get(f'{mode}:{f}', WHY.get(f, '') if mode == 'external' else '')} |")
    w(f"| **total** | **{t['fok']}** | **{t['ferr']}** | **{t['fstop']} files stopped early "
      f"({t['missing']} tests not reached)** | **{t['vok']}** | **{t['verr']}** | "
      f"{'Valkey: ' + str(t['vstop']) + ' files stopped early' if t['vstop'] else ''} |\n")

table("external")
table("spawn")
# The hand-written triage (causes, tests, where the fixes live) follows the tables.
if os.path.exists(path("triage.md")):
    w(open(path("triage.md")).read())
open(doc, "w").write("\n".join(out))
PY
echo "compat: wrote docs/compat.md"
