// Plays the VS Code scenario: the Ollama double, code-server with the built extension, and
// Chromium driven by playwright-core — all started here, inside the network namespace that
// codeserver.py made, and all stopped before exit.
//
// It asserts little itself: each step records what a user would see (ghost text, a line of the
// file, quick-pick rows, status-bar text, notifications) into results.json, which the pytest
// side checks. A step that times out records its error and the scenario goes on, so one broken
// feature fails one test, not all of them. Waits are on conditions with deadlines, never fixed.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { chromium } = require(config.playwright);

const OLLAMA_PORT = 11434; // the namespace is private: Ollama's own default port is free
const CODE_PORT = 8080;
const results = { steps: {}, toastsSeen: [] };
const children = [];
const started = Date.now();

function log(...args) {
    console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args);
}

function save() {
    fs.writeFileSync(config.results, JSON.stringify(results, null, 2));
}

/** Start a child whose output goes to our log; resolves once a line matches `ready`. */
function start(name, command, args, options, ready, timeoutMs) {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} not ready in ${timeoutMs} ms`)), timeoutMs);
        const onData = (data) => {
            const text = data.toString();
            for (const line of text.split("\n")) {
                if (line.trim()) {
                    console.log(`  ${name}| ${line}`);
                }
            }
            if (ready && ready.test(text)) {
                clearTimeout(timer);
                resolve(child);
            }
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.on("exit", (code) => {
            clearTimeout(timer);
            if (ready) {
                reject(new Error(`${name} exited (${code}) before it was ready`));
            } else {
                resolve(child);
            }
        });
        if (!ready) {
            child.on("exit", () => undefined);
        }
    });
}

function run(name, command, args, options, timeoutMs) {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("exit", (code) => {
            clearTimeout(timer);
            console.log(`  ${name}| ${out.trim().split("\n").join(`\n  ${name}| `)}`);
            code === 0 ? resolve(out) : reject(new Error(`${name} exited with ${code}: ${out.slice(-500)}`));
        });
    });
}

/** Poll `probe` until it returns something truthy; its value, or an error naming `what`.
 * A poll on purpose: what is probed is the rendered workbench (ghost text, status bar, quick
 * pick rows), which announces no event a test could await. */
async function waitFor(probe, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        try {
            last = await probe();
            if (last) {
                return last;
            }
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** Whether a condition becomes true within `ms`: for "and nothing else happened" checks. */
async function becomes(probe, ms) {
    try {
        await waitFor(probe, "", ms);
        return true;
    } catch {
        return false;
    }
}

let currentPage;

async function step(name, body) {
    const t0 = Date.now();
    log(`step ${name}`);
    const record = { ok: false };
    results.steps[name] = record;
    try {
        Object.assign(record, (await body(record)) || {});
        record.ok = true;
    } catch (err) {
        record.error = String(err && err.stack ? err.stack : err);
        log(`step ${name} FAILED: ${record.error}`);
        if (currentPage) {
            await currentPage.screenshot({ path: path.join(config.shots, `failed-${name}.png`) }).catch(() => undefined);
        }
    }
    record.seconds = (Date.now() - t0) / 1000;
    save();
}

// -- the page --------------------------------------------------------------------------

const GHOST = ".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text-decoration-preview, .monaco-editor .ghost-text";

/** The ghost text shown, with the editor's non-breaking spaces read as spaces. */
async function ghostText(page) {
    const text = await page.$$eval(GHOST, (els) => els.map((e) => e.textContent).join(""));
    return text.replace(/\u00a0/g, " ");
}

async function toasts(page) {
    const texts = await page.$$eval(".notifications-toasts .notification-toast .notification-list-item-message", (els) =>
        els.map((e) => e.textContent.trim()),
    );
    for (const text of texts) {
        if (!results.toastsSeen.includes(text)) {
            results.toastsSeen.push(text);
        }
    }
    return texts;
}

async function statusBar(page) {
    return page.$$eval("footer .statusbar-item", (els) => els.map((e) => (e.getAttribute("aria-label") || e.textContent).trim()));
}

/** Run a command from the palette by its exact title (a click, not Enter: the first row may
 * be another command that also matches, "Select Chat Model" for "Select Model"). */
async function palette(page, title) {
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible", timeout: 5000 });
    await input.fill(`>${title}`);
    await pickRow(page, title);
}

/** Click the quick-input row whose label is exactly `label`. */
async function pickRow(page, label) {
    const rows = page.locator(".quick-input-list .monaco-list-row");
    const index = await waitFor(async () => {
        const labels = await rows.evaluateAll((els) =>
            els.map((e) => (e.querySelector(".label-name") || e).textContent.replace(/\u00a0/g, " ").trim()),
        );
        const i = labels.indexOf(label);
        return i >= 0 ? i + 1 : undefined;
    }, `the row "${label}"`, 5000);
    await rows.nth(index - 1).click();
}

async function clearNotifications(page) {
    await palette(page, "Notifications: Clear All Notifications");
    await waitFor(async () => (await toasts(page)).length === 0, "notifications to clear", 5000);
}

async function goTo(page, line, column) {
    await palette(page, "Go to Line/Column...");
    await page.keyboard.type(`${line}:${column}`);
    await page.keyboard.press("Enter");
}

async function fileLines() {
    return fs.readFileSync(path.join(config.workspace, config.file), "utf8").split("\n");
}

async function saveFile(page, before) {
    await page.keyboard.press("Control+S");
    return waitFor(async () => {
        const lines = await fileLines();
        return lines.join("\n") !== before ? lines : undefined;
    }, "the file to be saved", 5000);
}

// -- the scenario -------------------------------------------------------------------------

async function main() {
    const env = { ...process.env };
    const double = await start(
        "double",
        config.python,
        ["-m", "tests.ollama_double", "--port", String(OLLAMA_PORT), "--answer", config.answer, "--pull-tick-ms", String(config.pullTickMs)],
        { cwd: config.repo, env },
        /listening on/,
        20000,
    );
    await run(
        "install",
        "node",
        [config.entry, "--user-data-dir", config.userData, "--extensions-dir", config.extensions, "--install-extension", config.vsix],
        { env },
        60000,
    );
    const cfg = path.join(config.workdir, "code-server.yaml");
    fs.writeFileSync(cfg, `bind-addr: 127.0.0.1:${CODE_PORT}\nauth: none\ncert: false\n`);
    await start(
        "code-server",
        "node",
        [
            config.entry, "--config", cfg, "--user-data-dir", config.userData, "--extensions-dir", config.extensions,
            "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
            "--disable-getting-started-override", "--ignore-last-opened", config.workspace,
        ],
        { env },
        /HTTP server listening/,
        60000,
    );
    const browser = await chromium.launch({
        executablePath: config.chromium,
        headless: true,
        args: [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ], // playwright gives it a fresh profile of its own
    });
    try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
        currentPage = page;
        await scenario(page, double);
    } finally {
        await browser.close().catch(() => undefined);
    }
}

async function scenario(page, double) {
    await step("open", async () => {
        await page.goto(`http://127.0.0.1:${CODE_PORT}/?folder=${encodeURIComponent(config.workspace)}`);
        await page.locator(".monaco-workbench").waitFor({ timeout: 30000 });
        await page.keyboard.press("Control+P");
        await page.locator(".quick-input-widget input.input").waitFor({ state: "visible", timeout: 10000 });
        await page.keyboard.type(config.file);
        await page.locator(".quick-input-list .monaco-list-row", { hasText: config.file }).first().waitFor({ timeout: 10000 });
        await page.keyboard.press("Enter");
        await page.locator(".monaco-editor .view-lines").first().waitFor({ timeout: 10000 });
        await waitFor(async () => (await statusBar(page)).some((t) => t.includes(config.model)), "the extension's status bar item", 30000);
        return { statusBar: await statusBar(page) };
    });

    await step("ghost_on_trigger", async () => {
        await goTo(page, 2, 5);
        // The server may still be starting: ask again until it answers.
        const ghost = await waitFor(async () => {
            await palette(page, "Trigger Inline Suggestion");
            return becomes(async () => (await ghostText(page)).trim(), 4000).then((shown) => shown && ghostText(page));
        }, "ghost text after Trigger Inline Suggestion", 40000);
        // The editor's top and the status bar's model, where the eye goes.
        await page.screenshot({ path: path.join(config.shots, "vscode-ghost-text.png"), clip: { x: 348, y: 35, width: 640, height: 170 } });
        return { ghost };
    });

    await step("ghost_while_typing", async () => {
        await page.keyboard.type(config.typed, { delay: 120 });
        const ghost = await waitFor(async () => {
            const text = await ghostText(page);
            return text && config.answer.startsWith(config.typed + text) ? text : undefined;
        }, "ghost text to follow the typing", 10000);
        return { ghost };
    });

    await step("tab_accepts", async () => {
        const before = (await fileLines()).join("\n");
        await page.keyboard.press("Tab");
        const lines = await saveFile(page, before);
        return { line: lines[1] };
    });

    await step("ghost_automatic", async () => {
        // A new function at the end: Enter indents its body, where typing pauses.
        await page.keyboard.press("Control+End");
        await page.keyboard.type("def sub(a, b):", { delay: 60 });
        await page.keyboard.press("Enter");
        const ghost = await waitFor(async () => (await ghostText(page)).trim(), "ghost text without an explicit trigger", 15000);
        await page.keyboard.press("Escape");
        return { ghost };
    });

    await step("select_model", async (record) => {
        await palette(page, "Ollama: Select Model");
        await page.locator(".quick-input-title", { hasText: "Ollama: completion model" }).waitFor({ timeout: 15000 });
        const rows = page.locator(".quick-input-list .monaco-list-row");
        record.rows = await waitFor(async () => {
            const texts = await rows.evaluateAll((els) => els.map((e) => e.textContent.replace(/\u00a0/g, " ").trim()));
            return texts.some((t) => t.includes(config.select)) && texts;
        }, "the models in the quick pick", 15000);
        await page.screenshot({ path: path.join(config.shots, "vscode-model-picker.png") });
        await pickRow(page, config.select);
        record.statusBar = await waitFor(async () => {
            const items = await statusBar(page);
            return items.some((t) => t.includes(config.select)) && items;
        }, "the status bar to show the selected model", 15000);
        record.settings = await waitFor(() => {
            const text = fs.readFileSync(config.settingsFile, "utf8");
            return text.includes(config.select) && JSON.parse(text);
        }, "the selection to be saved to settings.json", 10000);
        record.toasts = await toasts(page);
    });

    await step("pull_and_cancel", async (record) => {
        await clearNotifications(page);
        await palette(page, "Ollama: Pull Model");
        const input = page.locator(".quick-input-widget input.input");
        await input.waitFor({ state: "visible", timeout: 5000 });
        await page.keyboard.type(config.pull);
        await page.keyboard.press("Enter");
        record.statusBar = await waitFor(async () => {
            const items = await statusBar(page);
            return items.some((t) => t.includes(`Pulling ${config.pull}`)) && items;
        }, "the status bar's Pulling item", 10000);
        // Window-location progress is a silent notification: open the list, as a click would.
        await palette(page, "Notifications: Show Notifications");
        const note = page.locator(".notifications-center .notification-list-item", { hasText: `Pulling ${config.pull}` }).first();
        await note.waitFor({ timeout: 10000 });
        const message = note.locator(".notification-list-item-message");
        record.progress = [];
        await waitFor(async () => {
            const text = ((await message.textContent()) || "").replace(/\u00a0/g, " ");
            if (!record.progress.includes(text)) {
                record.progress.push(text);
            }
            return /[1-9][\d.]* [KMG]B \/ /.test(text);
        }, "the pull's notification to count bytes", 20000);
        await note.locator(".monaco-button", { hasText: "Cancel" }).click({ timeout: 5000 });
        record.outcome = await waitFor(async () => {
            const texts = await page.$$eval(".notification-list-item-message", (els) => els.map((e) => e.textContent.trim()));
            return texts.find((t) => t.includes("cancelled"));
        }, "the pull's cancelled message", 15000);
        await page.keyboard.press("Escape");
    });

    await step("show_status", async () => {
        await palette(page, "Ollama: Show Status");
        const text = await waitFor(async () => {
            const t = await page.$$eval(".monaco-editor .view-line", (els) => els.map((e) => e.textContent).join("\n"));
            return t.replace(/\u00a0/g, " ").includes("Completions:") && t.replace(/\u00a0/g, " ");
        }, "the status report in the Ollama Status output", 15000);
        return { text };
    });

    await step("ollama_down", async (record) => {
        double.kill("SIGTERM");
        await new Promise((resolve) => (double.exitCode !== null ? resolve() : double.on("exit", resolve)));
        await clearNotifications(page);
        results.toastsSeen = [];
        await page.locator(".monaco-editor .view-lines").first().click();
        await page.keyboard.press("Control+End");
        const down = (t) => t.includes("not reachable");
        await waitFor(async () => {
            await palette(page, "Trigger Inline Suggestion");
            return becomes(async () => (await toasts(page)).some(down), 3000);
        }, "a message that Ollama is down", 30000);
        // More requests while it stays down: the message must not repeat.
        for (const text of ["x", "y"]) {
            await page.keyboard.type(text, { delay: 100 });
            await palette(page, "Trigger Inline Suggestion");
        }
        await becomes(async () => (await toasts(page)).filter(down).length > 1, 3000);
        record.toasts = results.toastsSeen.slice();
    });

    await step("server_missing", async (record) => {
        await clearNotifications(page);
        results.toastsSeen = [];
        // As a user would: the Settings editor, then the server path's text box.
        await palette(page, "Preferences: Open User Settings");
        const search = page.locator(".settings-editor .suggest-input-container textarea, .settings-editor .settings-header input").first();
        await search.waitFor({ timeout: 10000 });
        await page.keyboard.type("ollamaLsp.serverPath"); // the search box has the focus
        // A machine setting: in code-server (a remote window) it lives under the Remote tab.
        await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" }).first().click();
        const box = page.locator(".settings-editor .setting-item-contents", { hasText: "Server Path" }).locator("input").first();
        await box.waitFor({ timeout: 10000 });
        await box.fill(config.missingServer);
        await waitFor(() => fs.readFileSync(config.machineSettingsFile, "utf8").includes(config.missingServer), "the Remote settings file to change", 10000);
        await waitFor(async () => (await toasts(page)).some((t) => t.includes(config.missingServer)), "a message that the server is missing", 20000);
        await becomes(async () => (await toasts(page)).length > 1, 4000);
        record.toasts = results.toastsSeen.slice();
        record.statusBar = await statusBar(page);
    });
}

function stopChildren() {
    for (const child of children) {
        if (child.exitCode === null) {
            child.kill("SIGTERM");
        }
    }
}

main()
    .catch((err) => {
        results.fatal = String(err && err.stack ? err.stack : err);
        log(`FATAL ${results.fatal}`);
    })
    .finally(() => {
        results.seconds = (Date.now() - started) / 1000;
        save();
        stopChildren();
        log("done");
        setTimeout(() => process.exit(0), 2000).unref();
    });
