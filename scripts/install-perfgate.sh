#!/usr/bin/env bash
# Installs the prebuilt perfgate of a release into DEST/bin, the checksum verified: what the
# composite action runs before falling back to building from source.
#
#   PERFGATE_REF   the release tag (the action's ref, e.g. v0.4.0)
#   PERFGATE_REPO  owner/name of the repository that publishes the releases
#   DEST           where to install (DEST/bin/perfgate)
#   GITHUB_API_URL the REST API (default https://api.github.com; a test points it at 127.0.0.1)
#   GITHUB_TOKEN   optional: sent to the API for a higher rate limit, never printed
#
# Exit status: 0 installed; 10 no release or no asset for this machine (the caller builds from
# source, with a notice); anything else a failure that must stop the job — above all a checksum
# that does not match, which is never papered over by building instead.
set -euo pipefail

dest="${DEST:?DEST (the install directory) is required}"
api="${GITHUB_API_URL:-https://api.github.com}"
api="${api%/}"

notice() { echo "::notice title=perfgate::$*"; }
fail() { echo "::error title=perfgate::$*" >&2; exit 1; }

# The action used from its own checkout (`uses: ./`) has no ref or repository to ask for.
ref="${PERFGATE_REF:-}"
repo="${PERFGATE_REPO:-}"
if [ -z "$ref" ] || [ -z "$repo" ]; then
    notice "no release to look for (the action's ref or repository is unknown); building perfgate from source"
    exit 10
fi

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) triple=x86_64-unknown-linux-musl ;;
    Linux-aarch64 | Linux-arm64) triple=aarch64-unknown-linux-musl ;;
    Darwin-arm64) triple=aarch64-apple-darwin ;;
    Darwin-x86_64) triple=x86_64-apple-darwin ;;
    *)
        notice "no prebuilt perfgate for $(uname -s) $(uname -m); building from source"
        exit 10
        ;;
esac
# A test can ask for another machine's asset.
triple="${PERFGATE_TRIPLE:-$triple}"
asset="perfgate-${ref}-${triple}.tar.gz"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The token goes in a header file, so that it is on no command line.
headers=("-H" "Accept: application/vnd.github+json")
if [ -n "${GITHUB_TOKEN:-}" ]; then
    printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN" >"$work/auth"
    headers+=("-H" "@$work/auth")
fi

status="$(curl -sS -o "$work/release.json" -w '%{http_code}' "${headers[@]}" \
    "$api/repos/$repo/releases/tags/$ref")" || fail "cannot reach $api for the release $ref"
if [ "$status" = 404 ]; then
    notice "no release $ref of $repo; building perfgate from source"
    exit 10
fi
[ "$status" = 200 ] || fail "the releases API answered $status for $repo $ref"

url_of() {
    jq -r --arg name "$1" '.assets[]? | select(.name == $name) | .browser_download_url' \
        "$work/release.json" | head -n 1
}
asset_url="$(url_of "$asset")"
sums_url="$(url_of SHA256SUMS)"
if [ -z "$asset_url" ]; then
    notice "release $ref has no $asset; building perfgate from source"
    exit 10
fi
[ -n "$sums_url" ] || fail "release $ref has $asset but no SHA256SUMS to verify it with"

curl -sSfL -o "$work/$asset" "$asset_url" || fail "cannot download $asset"
curl -sSfL -o "$work/SHA256SUMS" "$sums_url" || fail "cannot download SHA256SUMS"
want="$(awk -v n="$asset" '$2 == n || $2 == "*" n { print $1 }' "$work/SHA256SUMS" | head -n 1)"
[ -n "$want" ] || fail "SHA256SUMS of $ref does not list $asset"
if command -v sha256sum >/dev/null; then
    got="$(sha256sum "$work/$asset" | awk '{ print $1 }')"
else
    got="$(shasum -a 256 "$work/$asset" | awk '{ print $1 }')"
fi
[ "$got" = "$want" ] || fail "checksum mismatch for $asset: expected $want, got $got; not installed"

mkdir -p "$work/unpacked" "$dest/bin"
tar -xzf "$work/$asset" -C "$work/unpacked"
bin="$(find "$work/unpacked" -type f -name perfgate | head -n 1)"
[ -n "$bin" ] || fail "$asset holds no perfgate binary"
install -m 0755 "$bin" "$dest/bin/perfgate.tmp"
mv -f "$dest/bin/perfgate.tmp" "$dest/bin/perfgate"
echo "installed perfgate $ref ($triple) to $dest/bin"
