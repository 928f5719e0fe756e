/**
 * Entry point: start `ollama-lsp` over stdio and wire the palette and the status bar to it.
 *
 * Completion itself needs no code here: vscode-languageclient (10.x) registers VS Code's
 * stable inline completion provider when the server advertises `inlineCompletionProvider`,
 * and a completion provider for `completionProvider`. 10.x, not 9.x: 9.x sent VS Code's
 * trigger kind unmapped (Invoke = 0), which LSP 3.18 servers reject (Invoked = 1).
 */
import * as os from "node:os";

import * as vscode from "vscode";
import {
    ExecuteCommandRequest,
    LanguageClient,
    State,
    type LanguageClientOptions,
    type ServerOptions,
} from "vscode-languageclient/node";

import { Commands, type Server } from "./commands";
import { findExecutable, pipeByLevel } from "./serverProcess";
import { SECTION, SETTING_DEFAULTS, resolveServerPath, serverArgs, settingsFor } from "./settings";
import { ModelStatusBar } from "./statusBar";

/** How often the status bar re-asks `ollama.status` while the window has focus. */
const STATUS_REFRESH_MS = 60_000;

class Session implements Server, vscode.Disposable {
    private client: LanguageClient | undefined;
    private starting: Promise<void> | undefined;
    readonly statusBar: ModelStatusBar;
    readonly commands: Commands;
    // One log channel for every client this session starts, so restarts do not pile up channels.
    private readonly output = vscode.window.createOutputChannel("Ollama LSP", { log: true });

    constructor() {
        const model = vscode.workspace.getConfiguration(SECTION).get<string>("model");
        this.statusBar = new ModelStatusBar(model || String(SETTING_DEFAULTS.model));
        this.commands = new Commands(this, this.statusBar);
    }

    async execute<T>(command: string, ...args: unknown[]): Promise<T> {
        await this.starting;
        const client = this.client;
        if (!client || !client.isRunning()) {
            throw new Error("The ollama-lsp server is not running: run “Ollama: Restart Server” (see the “Ollama LSP” output).");
        }
        return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
    }

    /** Start a fresh client; settings such as the server path are read anew each time. */
    start(): Promise<void> {
        const starting = this.startClient();
        this.starting = starting;
        // Not awaited inside startClient: execute() waits for `starting`, so that would deadlock.
        void starting.then(() => this.commands.refreshStatus());
        return starting;
    }

    async restart(): Promise<void> {
        await this.stop();
        await this.start();
    }

    async stop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (client) {
            // dispose() stops the server and unregisters the server's `ollama.*` commands,
            // which the next client registers again.
            await client.dispose(2000).catch(() => undefined);
        }
    }

    dispose(): void {
        void this.stop();
        this.statusBar.dispose();
        this.output.dispose();
    }

    private async startClient(): Promise<void> {
        const config = vscode.workspace.getConfiguration("ollamaLsp");
        const command = resolveServerPath(config.get("serverPath"), {
            home: os.homedir(),
            workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
        });
        // No `transport` on purpose: TransportKind.stdio would make vscode-languageclient append
        // `--stdio` to the arguments, which ollama-lsp rejects; left out, the client still talks
        // over the process's stdin/stdout — what `ollama-lsp` serves by default.
        const serverOptions: ServerOptions = {
            command,
            args: serverArgs(config.get("serverArgs")),
        };
        if (findExecutable(command) === undefined) {
            // Found out here, not by the client: its own failure toast cannot be turned off,
            // and with ours that made two for one problem.
            const missing = command.includes("/") ? "does not exist or is not executable" : "is not on PATH";
            this.startFailed(command, new Error(`${command} ${missing}`), true);
            return;
        }
        const clientOptions: LanguageClientOptions = {
            documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
            initializationOptions: () => ({ [SECTION]: settingsFor(vscode.workspace.getConfiguration(SECTION)) }),
            synchronize: { configurationSection: SECTION },
            outputChannel: this.output,
            // The client's default writes every stderr line as [error]; keep the server's levels.
            stdioOptions: {
                stdout: (input, channel) => pipeByLevel(input, channel),
                stderr: (input, channel) => pipeByLevel(input, channel),
            },
            middleware: {
                // With inline suggestions on, the server's suggestion is the ghost text. VS Code
                // sends a completion request with every word typed (quick suggestions) and on
                // each trigger character; answered too, the two requests would supersede each
                // other in the server. Turn editor.inlineSuggest.enabled off to get the list.
                provideCompletionItem: (document, position, context, token, next) =>
                    inlineSuggestions(document) ? undefined : next(document, position, context, token),
            },
        };
        let client: LanguageClient;
        try {
            client = new LanguageClient("ollamaLsp", "Ollama LSP", serverOptions, clientOptions);
            this.client = client;
            await client.start();
        } catch (err) {
            this.startFailed(command, err, false); // the client has shown its own toast
            return;
        }
        client.onDidChangeState((event) => {
            if (this.client !== client) {
                return; // a client we stopped on purpose
            }
            if (event.newState === State.Stopped) {
                this.statusBar.setFailure("it stopped (see the “Ollama LSP” output)");
            } else if (event.newState === State.Running) {
                void this.commands.refreshStatus(); // vscode-languageclient restarted it after a crash
            }
        });
    }

    /**
     * Say why the server did not start and where to fix it, without holding up `starting`:
     * in the output and the status bar, and in a toast unless the client has shown one.
     */
    private startFailed(command: string, err: unknown, toast: boolean): void {
        const reason = err instanceof Error ? err.message : String(err);
        this.statusBar.setFailure(reason);
        this.output.error(
            `Could not start ${command}: ${reason}\n` +
                "Install the server (pip install ollama-lsp, or pip install . in its repository) " +
                "or set ollamaLsp.serverPath to the executable.",
        );
        if (!toast) {
            return;
        }
        void vscode.window
            .showErrorMessage(`Ollama LSP: could not start “${command}”. Is ollama-lsp installed?`, "Open Settings", "Show Output")
            .then((choice) => {
                if (choice === "Open Settings") {
                    void vscode.commands.executeCommand("workbench.action.openSettings", "ollamaLsp.serverPath");
                } else if (choice === "Show Output") {
                    this.output.show(true);
                }
            });
    }
}

/** Whether VS Code shows inline suggestions (ghost text) in `document`'s language. */
function inlineSuggestions(document: vscode.TextDocument): boolean {
    return vscode.workspace.getConfiguration("editor", document).get<boolean>("inlineSuggest.enabled", true);
}

let session: Session | undefined;

export function activate(context: vscode.ExtensionContext): void {
    session = new Session();
    const current = session;
    context.subscriptions.push(
        current,
        current.commands.register(),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration("ollamaLsp.serverPath") || event.affectsConfiguration("ollamaLsp.serverArgs")) {
                void current.restart();
            } else if (event.affectsConfiguration(`${SECTION}.model`)) {
                // The server lets a changed setting win over a palette selection; show it now.
                const model = vscode.workspace.getConfiguration(SECTION).get<string>("model");
                current.statusBar.setModel(model || String(SETTING_DEFAULTS.model));
            }
        }),
        refreshWhileFocused(current.commands),
    );
    void current.start(); // commands wait for it; activation need not
}

export async function deactivate(): Promise<void> {
    await session?.stop();
    session = undefined;
}

/** Keep the status bar's reachable/unreachable sign current without polling a hidden window. */
function refreshWhileFocused(commands: Commands): vscode.Disposable {
    const timer = setInterval(() => {
        if (vscode.window.state.focused) {
            void commands.refreshStatus();
        }
    }, STATUS_REFRESH_MS);
    return new vscode.Disposable(() => clearInterval(timer));
}
