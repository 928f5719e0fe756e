#!/usr/bin/env bash
# Install what the real-VS-Code test (tests/editors/vscode) needs into DIR (default: .ci-vscode
# at the repository root, git-ignored), and build the extension's .vsix into DIR/ollama-lsp.vsix.
#
#   code-server 4.100.3  real VS Code 1.100.3 in a browser; the last release that runs on
#                        Node 20 (4.103+ declare Node 22/24)
#   playwright-core      drives Debian's chromium (no browser download: executablePath)
#   @vscode/vsce         packages the extension
#
# Needs Debian's chromium, libkrb5-dev (code-server's `kerberos` builds against it) and ripgrep
# (see .ci/run). Versions are pinned by package-lock.json beside this script.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
dir="${1:-$repo/.ci-vscode}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
cp "$here/package.json" "$here/package-lock.json" "$dir/"

# @vscode/ripgrep's postinstall downloads ripgrep from GitHub, which is out of reach; it first
# looks in its cache, so put Debian's rg there, packed the way it would have downloaded it.
export TMPDIR="$dir/tmp"
cache="$TMPDIR/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
rg_tar="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [[ ! -s "$rg_tar" ]]; then
    stage="$(mktemp -d)"
    cp "$(command -v rg)" "$stage/rg"
    tar -C "$stage" -czf "$rg_tar" rg
    rm -rf "$stage"
fi

# As root, code-server's postinstall refuses to run without unsafe-perm; node-pty's postinstall
# runs `npx node-gyp` (yes: no prompt); node-gyp takes Node's headers from /usr/include/node
# instead of downloading them.
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)

# The .vsix, built from the extension's sources exactly as a user would.
ext="$repo/editor-configs/vscode"
(cd "$ext" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent compile &&
    "$dir/node_modules/.bin/vsce" package --skip-license --allow-missing-repository \
        --no-rewrite-relative-links --out "$dir/ollama-lsp.vsix" >/dev/null)
echo "install.sh: code-server, playwright-core and $dir/ollama-lsp.vsix are ready"
