#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 30), on
# the nightly toolchain, starting from the corpora kept in fuzz/corpus/.
# New inputs go to a temporary directory (the kept corpora are not
# changed); a crash leaves its input in fuzz/artifacts/<target>/ and makes
# the script exit non-zero once all targets have run.
#
#   scripts/fuzz.sh [SECONDS]
#
# FUZZ_SANITIZER=none|address (default address) picks the build: address
# checks the unsafe code too, none runs several times faster.
set -euo pipefail

secs="${1:-30}"
case "$secs" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
sanitizer="${FUZZ_SANITIZER:-address}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: installing the nightly toolchain" >&2
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build -s "$sanitizer"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
for t in $targets; do
    mkdir -p "$work/$t" "corpus/$t" "artifacts/$t"
    log="$work/$t.log"
    echo "fuzz: $t for ${secs}s"
    if cargo +nightly fuzz run -s "$sanitizer" "$t" "$work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        echo "fuzz: $t ok, ${runs:-?} executions"
        passed=$((passed + 1))
    else
        echo "fuzz: $t FAILED; the end of its log:" >&2
        tail -n 60 "$log" >&2
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
