import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";

import { findExecutable, pipeByLevel, stderrLevel, type Level } from "../serverProcess";

describe("findExecutable", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ollama-lsp-path-"));
    const script = path.join(dir, "ollama-lsp");
    fs.writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
    const plain = path.join(dir, "not-executable");
    fs.writeFileSync(plain, "", { mode: 0o644 });

    it("finds a name on PATH, skipping directories that lack it", () => {
        assert.equal(findExecutable("ollama-lsp", { PATH: `/nonexistent:${dir}` }), script);
    });

    it("is undefined for a name on no PATH entry", () => {
        assert.equal(findExecutable("ollama-lsp", { PATH: "/nonexistent" }), undefined);
        assert.equal(findExecutable("ollama-lsp", {}), undefined);
    });

    it("checks a path as it is, and refuses a file without the executable bit", () => {
        assert.equal(findExecutable(script, { PATH: "" }), script);
        assert.equal(findExecutable(path.join(dir, "missing"), { PATH: dir }), undefined);
        assert.equal(findExecutable(plain, { PATH: "" }), undefined);
    });

    it("tries PATHEXT on Windows", () => {
        const seen: string[] = [];
        const found = findExecutable(
            "ollama-lsp",
            { PATH: "C:\\venv\\Scripts", PATHEXT: ".EXE;.CMD" },
            (file) => (seen.push(file), file.endsWith(".EXE")),
            "win32",
        );
        assert.equal(found, path.join("C:\\venv\\Scripts", "ollama-lsp") + ".EXE");
        assert.equal(seen.length, 2);
    });
});

describe("stderrLevel", () => {
    it("reads the level of the server's own log format", () => {
        assert.equal(stderrLevel("2026-12-03 17:09:35,123 INFO ollama_lsp.server: ready"), "info");
        assert.equal(stderrLevel("2026-12-03 17:09:35,123 WARNING pygls.protocol: odd"), "warn");
        assert.equal(stderrLevel("2026-12-03 17:09:35,123 DEBUG httpx: GET"), "debug");
        assert.equal(stderrLevel("2026-12-03 17:09:35,123 ERROR ollama_lsp: failed"), "error");
    });

    it("takes anything else for an error: a traceback, a shell's 'not found'", () => {
        assert.equal(stderrLevel("Traceback (most recent call last):"), "error");
        assert.equal(stderrLevel("  File \"x.py\", line 1, in <module>"), "error");
        assert.equal(stderrLevel("INFO without a timestamp"), "error");
    });
});

describe("pipeByLevel", () => {
    it("writes each line at its level", async () => {
        const input = new PassThrough();
        const seen: [Level, string][] = [];
        const log = {
            error: (m: string) => seen.push(["error", m]),
            warn: (m: string) => seen.push(["warn", m]),
            info: (m: string) => seen.push(["info", m]),
            debug: (m: string) => seen.push(["debug", m]),
        };
        pipeByLevel(input, log);
        const closed = new Promise((resolve) => input.on("end", resolve));
        input.end("2026-12-03 17:09:35,123 INFO ollama_lsp: a\nboom\n");
        await closed;
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(seen, [
            ["info", "2026-12-03 17:09:35,123 INFO ollama_lsp: a"],
            ["error", "boom"],
        ]);
    });
});
