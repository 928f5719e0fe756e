#!/usr/bin/env bash
# Build and test the VS Code extension from a clean checkout: install exactly what
# package-lock.json pins, type-check and compile with tsc, run the unit tests and the smoke
# test (src/test/smoke.test.ts: the compiled extension and the real vscode-languageclient,
# under plain Node with a stand-in `vscode`, against the real ollama-lsp and the repository's
# Ollama double). VS Code itself is not run (see README.md).
#
# The smoke test needs OLLAMA_LSP_PYTHON, a python that imports ollama_lsp and
# tests.ollama_double from the repository root. A caller's value is used as it is; otherwise
# the python on PATH (the venv .ci/run activates) if it can; otherwise the smoke test skips.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
repo_root="$(cd ../.. && pwd)"

if [[ -z "${OLLAMA_LSP_PYTHON:-}" ]] && python="$(command -v python)" &&
    (cd "$repo_root" && "$python" -c "import ollama_lsp, tests.ollama_double") >/dev/null 2>&1; then
    export OLLAMA_LSP_PYTHON="$python"
fi
if [[ -n "${OLLAMA_LSP_PYTHON:-}" ]]; then
    export OLLAMA_LSP_PYTHON
    echo "ci.sh: smoke test runs with OLLAMA_LSP_PYTHON=$OLLAMA_LSP_PYTHON"
else
    echo "ci.sh: no OLLAMA_LSP_PYTHON, and no python on PATH imports ollama_lsp: the smoke test is skipped"
fi

rm -rf out
npm ci --no-audit --no-fund
npm run compile
npm test
