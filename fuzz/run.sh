#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after the other, one libFuzzer job each, and
# prints a table: target, seconds, executions, crashes. Exits 1 if any target crashed.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 120 s, every target)
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz if missing.
# Seeds (fuzz/seeds/<target>/, committed) are copied into fuzz/corpus/<target>/ (not committed),
# which grows from run to run. Crashing inputs land in fuzz/artifacts/<target>/, libFuzzer's
# output in fuzz/artifacts/logs/<target>.log.
set -uo pipefail

secs=${1:-120}
shift $(($# > 0 ? 1 : 0))
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi

cd "$(dirname "$0")"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || exit 2
fi

if (($# > 0)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Release build with debug assertions and overflow checks (-a): an arithmetic overflow on hostile
# input is a bug too, and `cargo test` would panic on it.
# Built once, then the binaries are run directly: a source file changed mid-run must not make
# `cargo fuzz run` rebuild inside a target's time.
cargo +nightly fuzz build --release --debug-assertions || exit 2
bin_dir=target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release

mkdir -p artifacts/logs
rows=()
crashed_inputs=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    if [[ -d seeds/$t ]]; then
        cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null
    fi
    marker=$(mktemp)
    log=artifacts/logs/$t.log
    echo "fuzzing $t for ${secs}s (log: fuzz/$log)" >&2
    start=$(date +%s)
    "$bin_dir/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$secs" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "corpus/$t" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [[ -z $execs ]]; then
        # No final stats (killed?): the last status line, "#N ...".
        execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    mapfile -t found < <(find "artifacts/$t" -maxdepth 1 -type f -newer "$marker" \
        \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | sort)
    rm -f "$marker"
    crashes=${#found[@]}
    if ((rc != 0 && crashes == 0)); then
        crashes="error (rc $rc)"
    fi
    if [[ $crashes != 0 ]]; then
        failed=1
        grep -E '^(SUMMARY|==[0-9]+==ERROR|thread .* panicked)' "$log" | head -n 3 >&2
        crashed_inputs+=("${found[@]/#/fuzz/}")
    fi
    rows+=("$t|$took|${execs:-?}|$crashes")
done

printf '\n%-12s %8s %12s  %s\n' target seconds executions crashes
for r in "${rows[@]}"; do
    IFS='|' read -r t took execs crashes <<<"$r"
    printf '%-12s %8s %12s  %s\n' "$t" "$took" "$execs" "$crashes"
done
if ((${#crashed_inputs[@]} > 0)); then
    echo
    echo "crashing inputs (replay one from fuzz/: cargo +nightly fuzz run -a TARGET FILE):"
    printf '  %s\n' "${crashed_inputs[@]}"
fi
exit "$failed"
