#!/usr/bin/env bash
# Compares the outputs of two kubereach binaries, byte for byte: the check that a change meant to
# make kubereach faster (or to reorganise it) changes nothing it prints.
#
#   scripts/same-output.sh OLD_BINARY NEW_BINARY [DIR...]
#
# Without DIRs it runs both binaries on the repository's example, every rule fixture, every
# repository of ../shared/corpus (when present) and every generated benchmark repository under
# target/bench-repos (when present; the benchmark's marker files are not manifests and are
# ignored by kubereach). For each it compares `check` in the json, sarif, txt and markdown
# formats, and `graph` in the json, txt, dot and mermaid formats, standard error included. It
# prints one line per difference and exits 1 if there was any, 0 otherwise.
#
# Each binary has a render cache of its own, empty at the start: a cache filled by other builds
# must not decide what either binary prints.
#
# Set SAME_OUTPUT_QUICK=1 to compare only `check --format json` and `graph --format json`. The
# million-object repository (generated only on request) is compared only when named, as it takes
# minutes per run.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 OLD_BINARY NEW_BINARY [DIR...]" >&2
    exit 2
fi
old=$1
new=$2
shift 2

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -gt 0 ]; then
    dirs=("$@")
else
    dirs=("$root"/examples/shop "$root"/fixtures/*/)
    for d in "$root"/../shared/corpus/*/ "$root"/target/bench-repos/*/; do
        [ -d "$d" ] && [ "$(basename "$d")" != 1000000 ] && dirs+=("$d")
    done
fi

if [ "${SAME_OUTPUT_QUICK:-0}" = 1 ]; then
    runs=("check --fail-on never --format json" "graph --format json")
else
    runs=("check --fail-on never --format json" "check --fail-on never --format sarif"
        "check --fail-on never --format txt" "check --fail-on never --format markdown"
        "graph --format json" "graph --format txt" "graph --format dot" "graph --format mermaid")
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
differences=0
compared=0
for dir in "${dirs[@]}"; do
    dir=${dir%/}
    for run in "${runs[@]}"; do
        # Word splitting of $run is wanted: it is a subcommand and its flags.
        # shellcheck disable=SC2086
        (cd "$root" && KUBEREACH_CACHE_DIR="$scratch/cache-old" "$old" $run "$dir" >"$scratch/old.out" 2>"$scratch/old.err")
        old_status=$?
        # shellcheck disable=SC2086
        (cd "$root" && KUBEREACH_CACHE_DIR="$scratch/cache-new" "$new" $run "$dir" >"$scratch/new.out" 2>"$scratch/new.err")
        new_status=$?
        compared=$((compared + 1))
        if [ $old_status != $new_status ] || ! cmp -s "$scratch/old.out" "$scratch/new.out" \
            || ! cmp -s "$scratch/old.err" "$scratch/new.err"; then
            echo "DIFFERS: kubereach $run $dir (exit $old_status, then $new_status)"
            differences=$((differences + 1))
        fi
    done
done
echo "$compared runs compared, $differences differ"
[ $differences = 0 ]
