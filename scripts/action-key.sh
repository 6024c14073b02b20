#!/usr/bin/env bash
# Which perfgate the composite action installs, and the cache key of that binary, as
# GITHUB_OUTPUT lines (ref=, repo=, key=) on stdout.
#
#   ACTION_REF, ACTION_REPO  github.action_ref and github.action_repository, which are empty in
#                            some composite-action contexts (actions/runner#2473)
#   GITHUB_ACTION_PATH       where the runner unpacked the action: …/_actions/OWNER/REPO/REF,
#                            which names both when the context does not; the action's own
#                            directory when it is used as `uses: ./`
#   RUNNER_OS, RUNNER_ARCH   the runner
#
# The key is the hash of the sources the binary is built from, so that a moving ref (a branch)
# never reuses the binary of an older commit, and one commit's binary is reused by every run.
set -euo pipefail

path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is required}"
ref="${ACTION_REF:-}"
repo="${ACTION_REPO:-}"
case "$path" in
    */_actions/*/*/*)
        rest="${path#*/_actions/}"
        owner="${rest%%/*}"
        rest="${rest#*/}"
        name="${rest%%/*}"
        repo="${repo:-$owner/$name}"
        ref="${ref:-${rest#*/}}"
        ;;
esac
sources="$(cd "$path" && { find Cargo.toml Cargo.lock build.rs src -type f 2>/dev/null || true; } | LC_ALL=C sort)"
if [ -z "$sources" ]; then
    echo "::error title=perfgate::no perfgate sources under $path" >&2
    exit 1
fi
if command -v sha256sum >/dev/null; then
    sum() { sha256sum; }
else
    sum() { shasum -a 256; }
fi
hash="$(cd "$path" && while IFS= read -r f; do
    printf '%s\n' "$f"
    sum <"$f"
done <<<"$sources" | sum | cut -c1-16)"
echo "ref=$ref"
echo "repo=$repo"
echo "key=perfgate-$hash-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}"
