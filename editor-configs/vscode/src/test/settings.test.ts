import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
    SETTING_DEFAULTS,
    modelSettingKey,
    resolveServerPath,
    sectionOf,
    selectionTarget,
    serverArgs,
    settingsFor,
} from "../settings";

/** A WorkspaceConfiguration stand-in: `get` of section-relative dotted keys, like VS Code's. */
function config(values: Record<string, unknown>): { get(key: string): unknown } {
    return { get: (key: string) => values[key] };
}

describe("settingsFor", () => {
    it("nests dotted keys the way the server reads them", () => {
        const result = settingsFor(
            config({
                model: "codellama:13b-code",
                "completion.maxTokens": 64,
                "completion.multiline": "never",
                "cache.ttlSeconds": 30,
            }),
        );
        assert.deepEqual(result, {
            model: "codellama:13b-code",
            completion: { maxTokens: 64, multiline: "never" },
            cache: { ttlSeconds: 30 },
        });
    });

    it("sends every default when VS Code answers with its defaults, and leaves the null host out", () => {
        const result = settingsFor(config({ ...SETTING_DEFAULTS }));
        assert.equal("host" in result, false);
        assert.equal(result.model, "codellama:7b-code");
        assert.equal(result.keepAlive, "30m");
        assert.deepEqual(result.cache, { maxEntries: 512, ttlSeconds: 600 });
        assert.equal((result.completion as Record<string, unknown>).debounceMs, 150);
        assert.equal(Object.keys(result.completion as object).length, 11);
    });

    it("drops undefined values so the server keeps its own default", () => {
        assert.deepEqual(settingsFor(config({ unloadPrevious: undefined })), {});
    });

    it("treats a blank host as absent and passes a real one through", () => {
        assert.deepEqual(settingsFor(config({ host: "   " })), {});
        assert.deepEqual(settingsFor(config({ host: [] })), {});
        assert.deepEqual(settingsFor(config({ host: "http://gpu-box:11434" })), { host: "http://gpu-box:11434" });
    });

    it("passes a pool of hosts, the api and the TLS CA file through as they are", () => {
        const hosts = ["https://gpu-a.example", "https://gpu-b.example"];
        assert.deepEqual(settingsFor(config({ host: hosts, api: "openai", "tls.caFile": "~/team-ca.pem" })), {
            host: hosts,
            api: "openai",
            tls: { caFile: "~/team-ca.pem" },
        });
    });

    it("sends header values unexpanded: the server fills in ${env:NAME} from its own environment", () => {
        const headers = { Authorization: "Bearer ${env:OLLAMA_LSP_TOKEN}" };
        assert.deepEqual(settingsFor(config({ headers })), { headers });
    });

    it("passes values through unvalidated: the server names a bad key, the extension must not hide it", () => {
        assert.deepEqual(settingsFor(config({ "completion.maxTokens": -5, keepAlive: -1 })), {
            keepAlive: -1,
            completion: { maxTokens: -5 },
        });
    });

    it("accepts a flat record as well as a get()-style configuration", () => {
        const flat = sectionOf({ "ollama.model": "tinyllama", "ollama.completion.timeoutMs": 500, "editor.tabSize": 2 });
        assert.deepEqual(flat, { model: "tinyllama", "completion.timeoutMs": 500 });
        assert.deepEqual(settingsFor(flat), { model: "tinyllama", completion: { timeoutMs: 500 } });
    });

    it("ignores keys the server does not read (such as the extension's own ollamaLsp.* settings)", () => {
        assert.deepEqual(settingsFor({ serverPath: "/x/ollama-lsp", "completion.bogus": 1 }), {});
    });
});

describe("resolveServerPath", () => {
    const context = { home: "/home/ada", workspaceFolder: "/work/proj" };

    it("falls back to ollama-lsp on PATH when blank or not a string", () => {
        assert.equal(resolveServerPath("", context), "ollama-lsp");
        assert.equal(resolveServerPath(undefined, context), "ollama-lsp");
        assert.equal(resolveServerPath(42, context), "ollama-lsp");
    });

    it("expands ${workspaceFolder} and a leading ~/", () => {
        assert.equal(resolveServerPath("${workspaceFolder}/.venv/bin/ollama-lsp", context), "/work/proj/.venv/bin/ollama-lsp");
        assert.equal(resolveServerPath("~/.local/bin/ollama-lsp", context), "/home/ada/.local/bin/ollama-lsp");
    });

    it("leaves a placeholder it cannot fill, so the spawn error shows what was configured", () => {
        assert.equal(resolveServerPath("${workspaceFolder}/ollama-lsp", {}), "${workspaceFolder}/ollama-lsp");
        assert.equal(resolveServerPath("~user/bin/ollama-lsp", context), "~user/bin/ollama-lsp");
    });
});

describe("serverArgs", () => {
    it("keeps strings and drops anything else", () => {
        assert.deepEqual(serverArgs(["--log-level", "DEBUG", 3, null]), ["--log-level", "DEBUG"]);
        assert.deepEqual(serverArgs("--log-level DEBUG"), []);
    });
});

describe("selectionTarget", () => {
    const defaultValue = "codellama:7b-code";

    it("saves to the user settings when nothing but the default is set", () => {
        assert.equal(selectionTarget({ defaultValue }, "qwen2.5-coder:1.5b-base"), "global");
        assert.equal(selectionTarget(undefined, "qwen2.5-coder:1.5b-base"), "global");
    });

    it("overwrites a user value in the user settings", () => {
        assert.equal(selectionTarget({ defaultValue, globalValue: "codellama:13b-code" }, "qwen2.5-coder:1.5b-base"), "global");
    });

    it("saves to the workspace when the workspace sets the key, since it would shadow a user value", () => {
        assert.equal(selectionTarget({ defaultValue, workspaceValue: "codellama:13b-code" }, "qwen2.5-coder:1.5b-base"), "workspace");
        assert.equal(
            selectionTarget({ defaultValue, globalValue: "a", workspaceValue: "b" }, "qwen2.5-coder:1.5b-base"),
            "workspace",
        );
    });

    it("writes nothing when the settings already give the model", () => {
        assert.equal(selectionTarget({ defaultValue }, defaultValue), undefined);
        assert.equal(selectionTarget({ defaultValue, globalValue: "a" }, "a"), undefined);
        assert.equal(selectionTarget({ defaultValue, globalValue: "a", workspaceValue: "b" }, "b"), undefined);
    });

    it("still writes when only a shadowed layer has the model", () => {
        assert.equal(selectionTarget({ defaultValue, globalValue: "a", workspaceValue: "b" }, "a"), "workspace");
    });
});

describe("modelSettingKey", () => {
    it("names the setting each picker saves to", () => {
        assert.equal(modelSettingKey("completion"), "model");
        assert.equal(modelSettingKey("chat"), "chatModel");
        assert.ok(`${modelSettingKey("chat")}` in SETTING_DEFAULTS);
    });
});
