import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
    formatBytes,
    hostLines,
    modelPickText,
    pullOutcome,
    pullingText,
    selectOutcome,
    selectionNotSaved,
    sortModels,
    statusBarText,
    statusSummary,
    type ModelEntry,
    type Status,
} from "../format";

const codellama: ModelEntry = {
    name: "codellama:7b-code",
    size: 3_825_910_662,
    parameterSize: "7B",
    quantization: "Q4_0",
    family: "llama",
    installed: true,
    active: true,
    activeChat: false,
    loaded: true,
    fitsInMemory: true,
};

describe("formatBytes", () => {
    it("uses decimal units with one decimal from GB up, as Ollama states sizes", () => {
        assert.equal(formatBytes(3_825_910_662), "3.8 GB");
        assert.equal(formatBytes(637_000_000), "637 MB");
        assert.equal(formatBytes(7_400_000_000_000), "7.4 TB");
        assert.equal(formatBytes(12_345), "12 kB");
        assert.equal(formatBytes(512), "512 B");
        assert.equal(formatBytes(0), "0 B");
    });

    it("moves to the next unit instead of printing 1000", () => {
        assert.equal(formatBytes(999_960_000_000), "1.0 TB");
        assert.equal(formatBytes(999_700_000), "1.0 GB");
        assert.equal(formatBytes(999_999), "1 MB");
    });

    it("answers empty for what is not a size", () => {
        assert.equal(formatBytes(undefined), "");
        assert.equal(formatBytes(null), "");
        assert.equal(formatBytes(-1), "");
        assert.equal(formatBytes(Number.NaN), "");
    });
});

describe("modelPickText", () => {
    it("packs size, quantization and parameter count into the description", () => {
        assert.deepEqual(modelPickText(codellama), {
            label: "codellama:7b-code",
            description: "3.8 GB · Q4_0 · 7B",
            detail: "active",
        });
    });

    it("announces the download for a preset that is not installed", () => {
        const preset = { name: "codellama:13b-code", size: 7_400_000_000, quantization: "Q4_0", parameterSize: "13B", installed: false, fitsInMemory: false };
        assert.equal(modelPickText(preset).detail, "not installed — select to pull · may not fit in free memory");
    });

    it("judges 'active' by the role being picked", () => {
        const tiny: ModelEntry = { name: "tinyllama:1.1b-chat-v1-q4_0", installed: true, active: false, activeChat: true, loaded: false };
        assert.equal(modelPickText(tiny, "chat").detail, "active");
        assert.equal(modelPickText(tiny, "completion").detail, "");
        assert.equal(modelPickText({ ...codellama, active: false }, "chat").detail, "loaded");
    });

    it("leaves out what the server did not send", () => {
        assert.deepEqual(modelPickText({ name: "mystery" }), { label: "mystery", description: "", detail: "" });
    });

    it("shows the server's note", () => {
        assert.equal(modelPickText({ name: "x", installed: false, note: "prefix-only" }).detail, "not installed — select to pull · prefix-only");
    });
});

describe("sortModels", () => {
    it("puts the active model first, then installed, then presets, each alphabetical", () => {
        const list: ModelEntry[] = [
            { name: "b-preset", installed: false },
            { name: "z-installed", installed: true },
            { name: "a-preset", installed: false },
            { name: "m-active", installed: true, active: true },
            { name: "c-installed", installed: true, activeChat: true },
        ];
        assert.deepEqual(sortModels(list).map((e) => e.name), ["m-active", "c-installed", "z-installed", "a-preset", "b-preset"]);
        assert.deepEqual(sortModels(list, "chat").map((e) => e.name)[0], "c-installed");
        assert.equal(list[0]?.name, "b-preset", "the input is not reordered");
    });
});

describe("command outcomes", () => {
    it("says a cancelled pull was cancelled, not failed", () => {
        assert.equal(pullOutcome("codellama:7b-code", { name: "codellama:7b-code", status: "cancelled" }), "Pull of codellama:7b-code cancelled.");
        assert.equal(pullOutcome("codellama:7b-code", { name: "codellama:7b-code", status: "success" }), "Pulled codellama:7b-code.");
        assert.equal(pullOutcome("x", undefined), "Pull of x finished (no status).");
    });

    it("reports the selected model and what was unloaded, without repeating the server's warning", () => {
        const text = selectOutcome({
            model: "codellama:13b-code",
            chatModel: "tinyllama:1.1b-chat-v1-q4_0",
            selected: "codellama:13b-code",
            role: "completion",
            unloaded: "codellama:7b-code",
            warning: "codellama:13b-code needs about 10.5 GB",
        });
        assert.equal(text, "Completion model: codellama:13b-code. Unloaded codellama:7b-code.");
        assert.equal(selectOutcome({ chatModel: "tinyllama", role: "chat", unloaded: null }), "Chat model: tinyllama.");
    });

    it("says a selection that could not be saved still holds, and why it was not saved", () => {
        assert.equal(
            selectionNotSaved("ollama.model", "qwen2.5-coder:1.5b-base", new Error("settings.json has errors")),
            "Using qwen2.5-coder:1.5b-base, but could not save it to ollama.model (settings.json has errors); " +
                "it lasts until the server restarts.",
        );
    });

    it("lists pulls for the status bar, shortening a long list", () => {
        assert.equal(pullingText([]), "");
        assert.equal(pullingText(["a"]), "$(cloud-download) Pulling a…");
        assert.equal(pullingText(["a", "b", "c", "d"]), "$(cloud-download) Pulling a, b +2…");
    });
});

const status: Status = {
    host: "http://127.0.0.1:11434",
    reachable: true,
    version: "0.5.7",
    model: "codellama:7b-code",
    chatModel: "tinyllama:1.1b-chat-v1-q4_0",
    loaded: [{ name: "codellama:7b-code", size: 5_900_000_000, sizeVram: 0 }],
    memory: { rss: 81_000_000, available: 10_200_000_000, total: 24_000_000_000 },
    cache: { hits: 12, misses: 3, entries: 40, typedThrough: 5 },
    completions: { count: 20, modelCalls: 8, p50Ms: 231.6, accepted: 4 },
};

describe("statusBarText", () => {
    it("shows the model, with a warning sign when Ollama is unreachable", () => {
        assert.equal(statusBarText(status, "fallback"), "$(hubot) codellama:7b-code");
        assert.equal(statusBarText({ ...status, reachable: false }, "fallback"), "$(warning) codellama:7b-code");
        assert.equal(statusBarText(undefined, "codellama:7b-code"), "$(hubot) codellama:7b-code");
    });
});

describe("statusSummary", () => {
    it("reads as one fact per line", () => {
        assert.equal(
            statusSummary(status),
            [
                "Ollama: reachable at http://127.0.0.1:11434 (version 0.5.7)",
                "Completion model: codellama:7b-code",
                "Chat model: tinyllama:1.1b-chat-v1-q4_0",
                "Loaded in Ollama: codellama:7b-code (5.9 GB)",
                "Memory: 10.2 GB free of 24.0 GB (server uses 81 MB)",
                "Cache: 40 entries, 12 hits, 3 misses, 5 typed through",
                "Completions: 20 requests, 8 model calls, median 232 ms, 4 accepted",
            ].join("\n"),
        );
    });

    it("leads with what to do when Ollama is down", () => {
        const down = statusSummary({ host: "http://127.0.0.1:11434", reachable: false, version: null, loaded: [] });
        assert.match(down.split("\n")[0] ?? "", /NOT reachable at http:\/\/127\.0\.0\.1:11434 — start it with `ollama serve`/);
        assert.match(down, /Loaded in Ollama: none/);
    });

    it("shows what the user did with the suggestions", () => {
        const text = statusSummary({
            reachable: true,
            loaded: [],
            suggestions: { shown: 40, accepted: 10, partiallyAccepted: 2, dismissed: 25, acceptanceRate: 0.25 },
        });
        assert.match(text, /Suggestions: 40 shown, 10 accepted, 2 partly accepted, 25 dismissed \(acceptance 25%\)/);
    });

    it("copes with a sparse answer (bare loaded names, no p50 yet)", () => {
        const text = statusSummary({ reachable: true, loaded: ["tinyllama"], completions: { count: 0, p50Ms: null } });
        assert.match(text, /Loaded in Ollama: tinyllama/);
        assert.match(text, /median n\/a/);
        assert.match(text, /reachable at \(unknown host\)/);
    });
});

describe("hosts in statusSummary", () => {
    const a = "http://gpu-a:11434";
    const b = "http://gpu-b:11434";
    const refused = `Ollama is not reachable at ${b} — start it with \`ollama serve\``;

    it("lists each host of a pool with its state, a down one with why", () => {
        const text = statusSummary({
            host: a,
            reachable: true,
            version: "0.12.0",
            hosts: [
                { host: a, state: "up", error: null, served: 3 },
                { host: b, state: "down", error: refused, served: 1 },
            ],
        });
        assert.deepEqual(text.split("\n").slice(0, 5), [
            `Ollama: reachable at ${a} (version 0.12.0)`,
            "Hosts:",
            `  ${a}: up`,
            `  ${b}: down — ${refused}`,
            "Completion model: ?",
        ]);
    });

    it("says nothing more for one healthy host, and why for one that is down", () => {
        assert.deepEqual(hostLines([{ host: a, state: "up", error: null }]), []);
        assert.deepEqual(hostLines([]), []);
        assert.deepEqual(hostLines(undefined), []);
        assert.deepEqual(hostLines([{ host: b, state: "down", error: refused }]), ["Host:", `  ${b}: down — ${refused}`]);
    });

    it("shows a pool's hosts not yet asked as unknown, and a down one without an error plainly", () => {
        assert.deepEqual(hostLines([{ host: a, state: "unknown" }, { host: b, state: "down", error: null }, {}]), [
            "Hosts:",
            `  ${a}: unknown`,
            `  ${b}: down`,
            "  (unknown host): unknown",
        ]);
    });

    it("names the API of an OpenAI-compatible server instead of an Ollama version", () => {
        const url = "http://127.0.0.1:8000";
        const up = statusSummary({ host: url, api: "openai", reachable: true, version: null });
        assert.deepEqual(up.split("\n").slice(0, 2), [
            `OpenAI-compatible server: reachable at ${url}`,
            "API: openai (/v1/completions; pulling and deleting models need Ollama)",
        ]);
        const down = statusSummary({ host: url, api: "openai", reachable: false });
        assert.match(down.split("\n")[0] ?? "", /^OpenAI-compatible server: NOT reachable at http:\/\/127\.0\.0\.1:8000 — /);
        assert.doesNotMatch(down, /ollama serve/);
    });

    it("leaves the Ollama API unnamed (it is the default)", () => {
        const text = statusSummary({ host: a, api: "ollama", reachable: true });
        assert.doesNotMatch(text, /API:/);
    });
});
