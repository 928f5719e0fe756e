/**
 * End to end, without VS Code: the compiled extension and the real vscode-languageclient,
 * loaded under plain Node with `require("vscode")` answered by testing/fake-vscode.ts, start
 * the real `ollama-lsp` against the repository's Ollama double (tests/ollama_double).
 *
 * It needs a Python that imports `ollama_lsp` and `tests.ollama_double` from the repository
 * root: set OLLAMA_LSP_PYTHON to it (ci.sh does when the venv is active). Without it, skipped.
 *
 * The steps share one extension session, in order: status, inline completion, Select Model,
 * Select Chat Model, a pull, then Ollama stopped. Every wait is bounded and says what it
 * waited for; every process started here is killed in `after`, whatever happened.
 */
import assert from "node:assert/strict";
import childProcess, { type ChildProcess } from "node:child_process";
import Module from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import type * as vscodeTypes from "vscode";

import * as fake from "../testing/fake-vscode";

const PYTHON = process.env.OLLAMA_LSP_PYTHON?.trim() || undefined;
const REPO_ROOT = join(__dirname, "..", "..", "..", "..");
const ANSWER = "return sum(values) / len(values)";
const PULLED = "codellama:7b-code-q4_K_M"; // in the double's library, not installed by default
const WAIT_MS = 15_000;

/** Poll `condition` every 25 ms until it holds; fail after `ms` naming what never happened. */
async function until(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    const started = Date.now();
    while (!condition()) {
        if (Date.now() - started > ms) {
            throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
    }
}

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    try {
        return await Promise.race([promise, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

function exited(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.resolve();
    }
    return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Stop `child` politely, then for sure. */
async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    child.kill("SIGTERM");
    try {
        await within(exited(child), `pid ${child.pid} to exit`, 3000);
    } catch {
        child.kill("SIGKILL");
        await within(exited(child), `pid ${child.pid} to die`, 3000).catch(() => undefined);
    }
}

interface Double {
    process: ChildProcess;
    port: number;
    log: string[];
}

/** Start the Ollama double on a free port (`--port 0`) and read the port from its log line. */
async function startDouble(python: string): Promise<Double> {
    const child = childProcess.spawn(
        python,
        ["-m", "tests.ollama_double", "--port", "0", "--answer", ANSWER, "--pull-tick-ms", "10"],
        { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    const log: string[] = [];
    const port = new Promise<number>((resolve, reject) => {
        child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
            log.push(chunk);
            const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log.join(""));
            if (match) {
                resolve(Number(match[1]));
            }
        });
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`the Ollama double exited (${code}):\n${log.join("")}`)));
    });
    try {
        return { process: child, port: await within(port, "the Ollama double to listen"), log };
    } catch (err) {
        await kill(child);
        throw err;
    }
}

type Extension = typeof import("../extension");

/**
 * `it`, but a failure carries what a CI log needs to explain it: the messages shown, and the
 * tail of the server's log and the double's request log.
 */
function step(name: string, body: () => Promise<void>, logs: () => readonly string[]): void {
    it(name, async () => {
        try {
            await body();
        } catch (err) {
            if (err instanceof Error) {
                const tail = (lines: readonly string[] | undefined) => (lines ?? []).join("").split("\n").slice(-25).join("\n");
                err.message +=
                    `\n--- messages: ${JSON.stringify({ errors: fake.recorded.errors, warnings: fake.recorded.warnings, infos: fake.recorded.infos })}` +
                    `\n--- Ollama LSP output (tail):\n${tail((fake.recorded.outputs.get("Ollama LSP") ?? []).map((l) => (l.endsWith("\n") ? l : `${l}\n`)))}` +
                    `\n--- Ollama double log (tail):\n${tail(logs())}`;
            }
            throw err;
        }
    });
}

describe("smoke: extension + vscode-languageclient + ollama-lsp + Ollama double", {
    skip: PYTHON ? false : "set OLLAMA_LSP_PYTHON to a python that imports ollama_lsp and tests.ollama_double",
    timeout: 60_000, // a safety net: every wait inside is bounded on its own
}, () => {
    const spawned: ChildProcess[] = [];
    const subscriptions: { dispose(): unknown }[] = [];
    const moduleInternals = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
    const originalResolve = moduleInternals._resolveFilename;
    const originalSpawn = childProcess.spawn;
    const fakePath = require.resolve("../testing/fake-vscode");
    let double: Double | undefined;
    let extension: Extension | undefined;
    let document: fake.FakeTextDocument;
    const originalHost = process.env.OLLAMA_HOST;
    const statusItem = (): fake.FakeStatusBarItem => {
        const item = fake.recorded.statusItems[0];
        assert.ok(item, "the extension created no status-bar item");
        return item;
    };
    const check = (name: string, body: () => Promise<void>) => step(name, body, () => double?.log ?? []);

    before(async () => {
        const python = PYTHON as string;
        // Only this test process: `vscode` is the stand-in, and every process vscode-languageclient
        // spawns (the server) is remembered, so `after` can kill it even if stopping fails.
        moduleInternals._resolveFilename = function (request: string, ...rest: unknown[]): string {
            return request === "vscode" ? fakePath : originalResolve.call(this, request, ...rest);
        };
        childProcess.spawn = ((...args: Parameters<typeof originalSpawn>) => {
            const child = originalSpawn(...args);
            spawned.push(child);
            return child;
        }) as typeof originalSpawn;

        double = await startDouble(python);
        process.env.OLLAMA_HOST = `127.0.0.1:${double.port}`; // the server inherits it
        fake.setWorkspaceFolder(REPO_ROOT); // vscode-languageclient runs the server there
        fake.setSetting("ollamaLsp.serverPath", python);
        fake.setSetting("ollamaLsp.serverArgs", ["-m", "ollama_lsp"]);
        fake.setSetting("ollama.chatModel", "tinyllama:1.1b-chat-v1-q4_0", "workspace");
        document = fake.openDocument(join(REPO_ROOT, "stats.py"), "python", "def mean(values):\n    \n");

        extension = require("../extension") as Extension;
        extension.activate({ subscriptions } as unknown as vscodeTypes.ExtensionContext);
    });

    after(async () => {
        const failures: unknown[] = [];
        if (extension) {
            await within(extension.deactivate(), "the extension to deactivate", 5000).catch((err) => failures.push(err));
        }
        for (const item of subscriptions.splice(0)) {
            item.dispose(); // what VS Code does after deactivate; stops the status refresh timer
        }
        // Deactivating stops the server (shutdown, exit); one still running is a bug, killed anyway.
        const servers = spawned.filter((child) => child !== double?.process);
        for (const server of servers) {
            await within(exited(server), `the server (pid ${server.pid}) to exit after deactivate`, 5000).catch((err) => failures.push(err));
        }
        for (const child of [...spawned, ...(double ? [double.process] : [])]) {
            await kill(child);
        }
        childProcess.spawn = originalSpawn;
        moduleInternals._resolveFilename = originalResolve;
        if (originalHost === undefined) {
            delete process.env.OLLAMA_HOST;
        } else {
            process.env.OLLAMA_HOST = originalHost;
        }
        assert.deepEqual(failures, [], "clean shutdown");
    });

    check("starts the server and shows the completion model from ollama.status", async () => {
        await until(
            () => String(fake.recorded.statusItems[0]?.tooltip).includes("Chat model: tinyllama:1.1b-chat-v1-q4_0"),
            "the status bar to show the server's status",
        );
        assert.equal(statusItem().text, "$(hubot) codellama:7b-code");
        assert.equal(statusItem().command, "ollamaLsp.selectModel");
        assert.equal(fake.recorded.inlineProviders.length, 1, "vscode-languageclient registered one inline completion provider");
        assert.equal(spawned.filter((c) => c !== double?.process).length, 1, "one server process, seen by the spawn hook");
    });

    check("answers an inline completion request with the model's text", async () => {
        const entry = fake.recorded.inlineProviders[0];
        assert.ok(entry, "no inline completion provider");
        const token = new fake.CancellationTokenSource().token;
        const result = await within(
            entry.provider.provideInlineCompletionItems(
                document,
                new fake.Position(1, 4),
                { triggerKind: fake.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
                token,
            ),
            "the inline completion",
        );
        const items = Array.isArray(result) ? result : (result?.items ?? []);
        assert.equal(items.length, 1, `one suggestion, got ${JSON.stringify(result)}`);
        const text = items[0]?.insertText;
        assert.equal(typeof text === "string" ? text : text?.value, ANSWER);
        assert.equal(items[0]?.command?.command, "ollama.accepted");
    });

    check("asks for no completion-list items while inline suggestions are on", async () => {
        const entry = fake.recorded.completionProviders[0];
        assert.ok(entry, "no completion provider");
        // VS Code's default. Its completion request (sent on every word and on Enter) would
        // supersede the inline one in the server, so none is sent. (With the setting off the
        // request goes through; converting its answer needs more of VS Code than the stand-in has.)
        const result = await within(
            entry.provider.provideCompletionItems(document, new fake.Position(1, 4), { triggerKind: 0 }, new fake.CancellationTokenSource().token),
            "the completion list",
        );
        assert.equal(result, undefined);
    });

    check("Select Model: picking an installed model changes the status bar and is saved to the user settings", async () => {
        const reads = fake.recorded.sectionReads;
        fake.answers.quickPick.push("qwen2.5-coder:1.5b-base");
        await within(fake.commands.executeCommand("ollamaLsp.selectModel"), "Ollama: Select Model");
        assert.deepEqual(fake.recorded.errors, []);
        assert.equal(statusItem().text, "$(hubot) qwen2.5-coder:1.5b-base");
        assert.deepEqual(fake.recorded.updates, [
            { key: "ollama.model", value: "qwen2.5-coder:1.5b-base", target: fake.ConfigurationTarget.Global },
        ]);
        assert.ok(fake.recorded.infos.some((m) => m.startsWith("Completion model: qwen2.5-coder:1.5b-base.")), String(fake.recorded.infos));
        // The change reaches the server (the client's didChangeConfiguration, then the server
        // re-reads the section), and the server keeps the model it was given.
        await until(() => fake.recorded.sectionReads >= reads + 2, "the server to re-read the ollama section");
        await within(fake.commands.executeCommand("ollamaLsp.showStatus"), "Ollama: Show Status");
        const report = fake.recorded.outputs.get("Ollama Status") ?? [];
        assert.match(report.join("\n"), /Completion model: qwen2\.5-coder:1\.5b-base/);
        assert.equal(statusItem().text, "$(hubot) qwen2.5-coder:1.5b-base");
    });

    check("Select Chat Model: saves to the workspace when the workspace sets ollama.chatModel", async () => {
        fake.answers.quickPick.push("qwen2.5-coder:1.5b-base");
        await within(fake.commands.executeCommand("ollamaLsp.selectChatModel"), "Ollama: Select Chat Model");
        assert.deepEqual(fake.recorded.errors, []);
        assert.deepEqual(fake.recorded.updates.at(-1), {
            key: "ollama.chatModel",
            value: "qwen2.5-coder:1.5b-base",
            target: fake.ConfigurationTarget.Workspace,
        });
        assert.equal(statusItem().text, "$(hubot) qwen2.5-coder:1.5b-base", "the completion model is unchanged");
    });

    check("pulls a library model, with the server's progress drawn by vscode-languageclient", async () => {
        fake.answers.inputBox.push(PULLED);
        await within(fake.commands.executeCommand("ollamaLsp.pullModel"), `Ollama: Pull Model ${PULLED}`);
        assert.deepEqual(fake.recorded.errors, []);
        const entry = fake.recorded.progress.find((p) => p.options.title === `Pulling ${PULLED}`);
        assert.ok(entry, `no progress titled "Pulling ${PULLED}": ${JSON.stringify(fake.recorded.progress.map((p) => p.options))}`);
        assert.equal(entry.options.location, fake.ProgressLocation.Window);
        assert.equal(entry.options.cancellable, true);
        assert.ok(entry.done, "the progress ended");
        const messages = entry.reports.map((r) => r.message ?? "");
        assert.ok(messages.some((m) => /pulling .*\d/.test(m)), `byte counts in the messages: ${JSON.stringify(messages)}`);
        const percent = entry.reports.reduce((sum, r) => sum + (r.increment ?? 0), 0);
        assert.ok(percent > 50, `the progress bar advanced (${percent}%)`);
        assert.ok(statusItem().texts.includes(`$(cloud-download) Pulling ${PULLED}…`), "the status bar showed the pull");
        assert.equal(statusItem().text, "$(hubot) qwen2.5-coder:1.5b-base", "and went back to the model after it");
        assert.ok(fake.recorded.infos.includes(`Pulled ${PULLED}.`), String(fake.recorded.infos));
    });

    check("shows the warning sign once Ollama is down", async () => {
        assert.ok(double, "no double");
        await kill(double.process);
        await within(fake.commands.executeCommand("ollamaLsp.showStatus"), "Ollama: Show Status with Ollama down");
        assert.equal(statusItem().text, "$(warning) qwen2.5-coder:1.5b-base");
        assert.equal(statusItem().backgroundColor?.id, "statusBarItem.warningBackground");
        assert.match(String(statusItem().tooltip), /Ollama is not reachable at http:\/\/127\.0\.0\.1:\d+/);
        assert.match((fake.recorded.outputs.get("Ollama Status") ?? []).join("\n"), /NOT reachable/);
    });
});
