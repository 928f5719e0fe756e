/**
 * package.json is code too: these tests keep it in step with settings.ts and commands.ts,
 * which is the drift nothing else would catch without running VS Code.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { SETTING_DEFAULTS } from "../settings";

const root = join(__dirname, "..", "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const properties: Record<string, { type: unknown; default: unknown; enum?: unknown[]; description?: string; markdownDescription?: string }> =
    Object.assign({}, ...manifest.contributes.configuration.map((c: { properties: object }) => c.properties));

/** The server's own command ids (its executeCommandProvider), which the client registers. */
const SERVER_COMMANDS = [
    "ollama.listModels",
    "ollama.pullModel",
    "ollama.selectModel",
    "ollama.deleteModel",
    "ollama.showModel",
    "ollama.status",
    "ollama.chat",
    "ollama.accepted",
];

describe("package.json configuration", () => {
    it("declares exactly the ollama.* keys the extension sends, with the same defaults", () => {
        const declared = Object.keys(properties).filter((k) => k.startsWith("ollama."));
        assert.deepEqual(declared.sort(), Object.keys(SETTING_DEFAULTS).map((k) => `ollama.${k}`).sort());
        for (const [key, value] of Object.entries(SETTING_DEFAULTS)) {
            assert.deepEqual(properties[`ollama.${key}`]?.default, value, `default of ollama.${key}`);
        }
    });

    it("gives every setting a type and a description, and multiline its enum", () => {
        for (const [key, spec] of Object.entries(properties)) {
            assert.ok(spec.type, `${key} has a type`);
            assert.ok(spec.description || spec.markdownDescription, `${key} has a description`);
        }
        assert.deepEqual(properties["ollama.completion.multiline"]?.enum, ["auto", "always", "never"]);
        assert.equal(properties["ollamaLsp.serverPath"]?.default, "ollama-lsp");
        assert.deepEqual(properties["ollamaLsp.serverArgs"]?.default, []);
    });

    it("lets host be null or a list, and keepAlive be a duration or a number", () => {
        assert.deepEqual(properties["ollama.host"]?.type, ["string", "array", "null"]);
        assert.deepEqual(properties["ollama.keepAlive"]?.type, ["string", "number"]);
    });

    it("declares the remote-host keys: api's choices, headers as strings, a nullable caFile", () => {
        assert.deepEqual(properties["ollama.api"]?.enum, ["ollama", "openai"]);
        const headers = properties["ollama.headers"] as { type: unknown; additionalProperties?: unknown };
        assert.equal(headers.type, "object");
        assert.deepEqual(headers.additionalProperties, { type: "string" });
        assert.match(properties["ollama.headers"]?.markdownDescription ?? "", /\$\{env:[A-Z_]+\}/);
        assert.deepEqual(properties["ollama.tls.caFile"]?.type, ["string", "null"]);
    });
});

describe("package.json against the server", () => {
    // The server describes every key once (ollama_lsp.settings.describe); ask it, when a
    // Python that imports it is at hand (as for the smoke test), instead of copying its list.
    const python = process.env.OLLAMA_LSP_PYTHON?.trim() || undefined;
    const repoRoot = join(root, "..", "..");

    it("gives every declared ollama.* key the server's own default", { skip: python ? false : "set OLLAMA_LSP_PYTHON" }, () => {
        const script = "import json; from ollama_lsp.settings import describe; print(json.dumps({d.name: d.default for d in describe()}))";
        const run = spawnSync(python as string, ["-c", script], { cwd: repoRoot, encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        const server: Record<string, unknown> = JSON.parse(run.stdout);
        for (const key of Object.keys(SETTING_DEFAULTS)) {
            assert.ok(`ollama.${key}` in server, `the server reads ollama.${key}`);
            assert.deepEqual(properties[`ollama.${key}`]?.default, server[`ollama.${key}`], `default of ollama.${key}`);
        }
    });
});

describe("package.json commands", () => {
    const contributed: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
    const source = readFileSync(join(root, "src", "commands.ts"), "utf8");
    const registered = [...source.matchAll(/\["(ollamaLsp\.\w+)"/g)].map((m) => m[1]);

    it("registers every contributed command, and contributes every registered one", () => {
        assert.deepEqual([...contributed].sort(), [...registered].sort());
        assert.equal(contributed.length, 7);
    });

    it("never reuses a server command id (the client registers those itself)", () => {
        for (const id of contributed) {
            assert.ok(!SERVER_COMMANDS.includes(id), `${id} collides with a server command`);
            assert.ok(id.startsWith("ollamaLsp."), `${id} is in the extension's namespace`);
        }
    });

    it("titles each command under the Ollama category", () => {
        const titles = manifest.contributes.commands.map((c: { category: string; title: string }) => `${c.category}: ${c.title}`);
        assert.deepEqual(titles, [
            "Ollama: Select Model",
            "Ollama: Select Chat Model",
            "Ollama: Pull Model",
            "Ollama: Delete Model",
            "Ollama: Show Status",
            "Ollama: Chat",
            "Ollama: Restart Server",
        ]);
    });
});

describe("package.json engine and client", () => {
    it("keeps vscode-languageclient on a line whose engine fits ours", () => {
        const lc = JSON.parse(readFileSync(join(root, "node_modules", "vscode-languageclient", "package.json"), "utf8"));
        const minor = (range: string): number => Number(/\^?1\.(\d+)/.exec(range)?.[1]);
        assert.ok(minor(lc.engines.vscode) <= minor(manifest.engines.vscode), `${lc.engines.vscode} fits ${manifest.engines.vscode}`);
        const types = JSON.parse(readFileSync(join(root, "node_modules", "@types", "vscode", "package.json"), "utf8"));
        assert.ok(minor(types.version) <= minor(manifest.engines.vscode), "@types/vscode is not newer than the engine");
    });
});
