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

/** Start a child whose output goes to our log; resolves once a line matches `ready`.
 * `options.stdin: "pipe"` keeps its stdin open for `steer`; `child.onLine` callbacks see each
 * whole line it writes to stdout. */
function start(name, command, args, options, ready, timeoutMs) {
    const { stdin = "ignore", ...spawnOptions } = options;
    const child = spawn(command, args, { ...spawnOptions, stdio: [stdin, "pipe", "pipe"] });
    children.push(child);
    child.onLine = new Set();
    let partial = "";
    child.stdout.on("data", (data) => {
        const lines = (partial + data.toString()).split("\n");
        partial = lines.pop();
        for (const line of lines) {
            for (const callback of [...child.onLine]) {
                callback(line);
            }
        }
    });
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

const GHOST_PARTS = [".ghost-text-decoration", ".ghost-text-decoration-preview", ".ghost-text"];
const GHOST = GHOST_PARTS.map((part) => `.monaco-editor ${part}`).join(", ");

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

async function fileLines(file = config.file) {
    return fs.readFileSync(path.join(config.workspace, file), "utf8").split("\n");
}

async function saveFile(page, before) {
    await page.keyboard.press("Control+S");
    return waitFor(async () => {
        const lines = await fileLines();
        return lines.join("\n") !== before ? lines : undefined;
    }, "the file to be saved", 5000);
}

/** Tell the steered double (steered_double.py) one change and wait for its acknowledgement. */
function steer(double, change, timeoutMs = 40000) {
    return new Promise((resolve, reject) => {
        const done = (error) => {
            clearTimeout(timer);
            double.onLine.delete(onLine);
            error ? reject(error) : resolve();
        };
        const onLine = (line) => {
            if (line.startsWith("steered ")) {
                done();
            } else if (line.startsWith("steer failed")) {
                done(new Error(`the double: ${line}`));
            }
        };
        const timer = setTimeout(() => done(new Error(`the double did not acknowledge ${JSON.stringify(change)}`)), timeoutMs);
        double.onLine.add(onLine);
        double.stdin.write(`${JSON.stringify(change)}\n`);
    });
}

/** A user's reaction time between two keys: the one wait that is not for a condition. */
function pause(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Quick Open (Ctrl+P) `file`. Asked again when no row comes: the first file search of a
 * workbench still starting up can stall on a busy machine. */
async function openFile(page, file) {
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: file }).first();
    await waitFor(async () => {
        await page.keyboard.press("Escape");
        await page.keyboard.press("Control+P");
        const input = page.locator(".quick-input-widget input.input");
        await input.waitFor({ state: "visible", timeout: 10000 });
        await input.fill(file);
        await row.waitFor({ timeout: 10000 });
        return true;
    }, `Quick Open to list ${file}`, 45000);
    await page.keyboard.press("Enter");
    await page.locator(".monaco-editor .view-lines").first().waitFor({ timeout: 10000 });
}

/** From now on, record every change of the ghost text in the page, with the text of its line
 * (ghost spans left out) and the time (page clock): what a user saw, frame by frame, which
 * polling would miss. `ghostSamples(page, since)` reads them. */
async function recordGhosts(page) {
    await page.evaluate(([selector, parts]) => {
        const read = () => {
            const ghosts = Array.from(document.querySelectorAll(selector));
            const text = ghosts.map((e) => e.textContent).join("").replace(/\u00a0/g, " ");
            const lineElement = ghosts.length ? ghosts[0].closest(".view-line") : null;
            let line = null;
            if (lineElement) {
                const copy = lineElement.cloneNode(true); // detached: no .monaco-editor above it
                copy.querySelectorAll(parts).forEach((e) => e.remove());
                line = copy.textContent.replace(/\u00a0/g, " ");
            }
            return { text, line };
        };
        window.__ghostObserver?.disconnect();
        window.__ghostSamples = [];
        let last;
        const observer = new MutationObserver(() => {
            const seen = read();
            if (seen.text !== last) {
                last = seen.text;
                window.__ghostSamples.push({ t: performance.now(), ...seen });
            }
        });
        observer.observe(document.querySelector(".monaco-workbench"), { subtree: true, childList: true, characterData: true });
        window.__ghostObserver = observer;
    }, [GHOST, GHOST_PARTS.join(", ")]);
}

async function suggestWidgetShown(page) {
    return page.locator(".monaco-editor .suggest-widget.visible").isVisible();
}

async function pageNow(page) {
    return page.evaluate(() => performance.now());
}

async function ghostSamples(page, since) {
    return page.evaluate((t) => (window.__ghostSamples || []).filter((s) => s.t >= t), since);
}

/** Save the active editor, and wait until the save has finished (its tab is no longer dirty:
 * VS Code writes the text as it is when the write happens, so a save still running could
 * write text typed after Ctrl+S) and `file` on disk satisfies `check(lines)`. */
async function saveUntil(page, file, check, what) {
    await page.keyboard.press("Control+S");
    return waitFor(async () => {
        if (await page.locator(".tabs-container .tab.active.dirty").count()) {
            return undefined;
        }
        const lines = await fileLines(file);
        return check(lines) ? lines : undefined;
    }, what, 5000);
}

// -- the scenario -------------------------------------------------------------------------

async function main() {
    const env = { ...process.env };
    const double = await start(
        "double",
        config.python,
        ["-m", "tests.editors.vscode.steered_double", "--port", String(OLLAMA_PORT), "--answer", config.answer, "--pull-tick-ms", String(config.pullTickMs)],
        { cwd: config.repo, env, stdin: "pipe" },
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

/** Issue 19, in circle.py: typing while a ghost shows (see test_vscode.py). Ends with
 * circle.py closed and calc.py active again. */
async function typingSteps(page, double) {
    const circle = config.circle;
    const onRow = (lines, text) => lines[circle.row - 1] === text;

    /** Line `circle.row` back to its bare indentation, saved, the cursor at its end. */
    async function resetLine() {
        await page.keyboard.press("Escape");
        await goTo(page, circle.row, 1);
        await page.keyboard.press("Shift+End");
        await page.keyboard.type(circle.indent);
        await page.keyboard.press("Escape");
        await saveUntil(page, circle.file, (l) => onRow(l, circle.indent), `line ${circle.row} to be "${circle.indent}" again`);
    }

    async function typeFirstKey() {
        await page.keyboard.type(circle.first);
        return waitFor(async () => {
            const ghost = await ghostText(page);
            return ghost === circle.ghost && ghost;
        }, `the ghost "${circle.ghost}" after "${circle.first}"`, 20000);
    }

    await step("tab_after_matching_key", async (record) => {
        await openFile(page, circle.file);
        await steer(double, { answer: circle.answer });
        // The server may still be starting: ask until it answers, as ghost_on_trigger does.
        await goTo(page, circle.row, circle.indent.length + 1);
        await waitFor(async () => {
            await palette(page, "Trigger Inline Suggestion");
            return becomes(async () => (await ghostText(page)) === circle.answer, 4000);
        }, "the first ghost in circle.py", 40000);
        await recordGhosts(page);
        record.trials = [];
        for (const delay of circle.tabDelaysMs) {
            await resetLine();
            const ghost = await typeFirstKey();
            const since = await pageNow(page);
            const keyAt = Date.now();
            await page.keyboard.press(circle.matching);
            let widget = null;
            if (delay > 0) {
                await pause(delay);
                widget = await suggestWidgetShown(page); // would take the Tab instead of the ghost
            }
            const tabAt = Date.now();
            await page.keyboard.press("Tab"); // VS Code applies the accept in the key's handler
            const lines = await saveUntil(page, circle.file, (l) => !onRow(l, circle.indent), "the accepted line to be saved");
            const samples = await ghostSamples(page, since);
            record.trials.push({ delay, ghost, widget, samples, keyAt, tabAt, line: lines[circle.row - 1], lines });
            log(`Tab ${delay} ms after "${circle.matching}": ${JSON.stringify(lines[circle.row - 1])}`);
        }
    });

    await step("contradicting_key", async (record) => {
        await resetLine();
        record.ghost = await typeFirstKey();
        const since = await pageNow(page);
        await page.keyboard.press(circle.contradicting);
        const typed = circle.indent + circle.first + circle.contradicting;
        const stale = async () => (await ghostSamples(page, since)).some((g) => g.text && g.line === typed);
        // Long enough for the key's own request to be answered (debounce 150 ms, the double at once).
        await becomes(stale, circle.observeMs);
        record.samples = await ghostSamples(page, since);
        record.ghostAfter = await ghostText(page);
        record.line = (await saveUntil(page, circle.file, (l) => onRow(l, typed), "the typed line to be saved"))[circle.row - 1];
    });

    await step("late_answer", async (record) => {
        await page.keyboard.press("Escape");
        await goTo(page, circle.lateRow, circle.indent.length + 1);
        await steer(double, { firstTokenMs: circle.slowFirstTokenMs });
        try {
            const since = await pageNow(page);
            await page.keyboard.type(circle.first);
            await steer(double, { awaitAsked: true }); // the request for "    r" is with the model
            const typedAt = await pageNow(page);
            await page.keyboard.press(circle.contradicting);
            await steer(double, { awaitIdle: true }); // every answer is given...
            await becomes(async () => (await ghostSamples(page, typedAt)).some((g) => g.text), circle.observeMs); // ...and has reached VS Code
            record.samples = await ghostSamples(page, since);
            record.typedAt = typedAt;
            const typed = circle.indent + circle.first + circle.contradicting;
            record.line = (await saveUntil(page, circle.file, (l) => l[circle.lateRow - 1] === typed, "the typed line to be saved"))[circle.lateRow - 1];
        } finally {
            await steer(double, { firstTokenMs: 0, answer: config.answer });
            await page.keyboard.press("Escape");
            await page.evaluate(() => window.__ghostObserver?.disconnect());
            await palette(page, "View: Close Editor"); // saved: no question; calc.py is back
        }
    });
}

async function scenario(page, double) {
    await step("open", async () => {
        await page.goto(`http://127.0.0.1:${CODE_PORT}/?folder=${encodeURIComponent(config.workspace)}`);
        await page.locator(".monaco-workbench").waitFor({ timeout: 30000 });
        await openFile(page, config.file);
        await waitFor(async () => (await statusBar(page)).some((t) => t.includes(config.model)), "the extension's status bar item", 30000);
        return { statusBar: await statusBar(page) };
    });

    await typingSteps(page, double);

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
