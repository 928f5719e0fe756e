/**
 * The palette commands: each one asks the server (`workspace/executeCommand`) and shows the
 * answer with VS Code's own widgets.
 *
 * The ids are `ollamaLsp.*` because vscode-languageclient registers the server's `ollama.*`
 * commands (from `executeCommandProvider`) under their own names; two registrations of one
 * id would make the client fail to start. All wording comes from format.ts.
 */
import * as vscode from "vscode";

import {
    formatBytes,
    modelPickText,
    pullOutcome,
    selectOutcome,
    selectionNotSaved,
    sortModels,
    statusSummary,
    type ModelEntry,
    type PullResult,
    type Role,
    type SelectResult,
    type Status,
} from "./format";
import { SECTION, modelSettingKey, selectionTarget } from "./settings";
import type { ModelStatusBar } from "./statusBar";

/** What the commands need from the running client. */
export interface Server {
    /** Run a server command; rejects with the server's error (its message says what to do). */
    execute<T>(command: string, ...args: unknown[]): Promise<T>;
    restart(): Promise<void>;
}

/** A preset that fits almost anywhere: the placeholder that shows what a name looks like. */
const PULL_PLACEHOLDER = "codellama:7b-code-q4_K_M";

interface ModelPick extends vscode.QuickPickItem {
    entry: ModelEntry;
}

export class Commands {
    private statusChannel: vscode.OutputChannel | undefined;

    constructor(
        private readonly server: Server,
        private readonly statusBar: ModelStatusBar,
    ) {}

    /** Register every palette command; dispose the result to remove them. */
    register(): vscode.Disposable {
        const commands: [string, () => Promise<unknown>][] = [
            ["ollamaLsp.selectModel", () => this.selectModel("completion")],
            ["ollamaLsp.selectChatModel", () => this.selectModel("chat")],
            ["ollamaLsp.pullModel", () => this.pullModel()],
            ["ollamaLsp.deleteModel", () => this.deleteModel()],
            ["ollamaLsp.showStatus", () => this.showStatus()],
            ["ollamaLsp.chat", () => this.chat()],
            ["ollamaLsp.restartServer", () => this.server.restart()],
        ];
        return vscode.Disposable.from(
            ...commands.map(([id, run]) => vscode.commands.registerCommand(id, () => run().catch(showError))),
            { dispose: () => this.statusChannel?.dispose() },
        );
    }

    /** Ask the server for its status and update the status bar; never throws. */
    async refreshStatus(): Promise<Status | undefined> {
        try {
            const status = await this.server.execute<Status>("ollama.status");
            this.statusBar.setStatus(status);
            return status;
        } catch {
            return undefined; // the bar keeps what it showed; commands report their own errors
        }
    }

    async selectModel(role: Role): Promise<void> {
        const models = this.server.execute<ModelEntry[]>("ollama.listModels").then((list) =>
            sortModels(list, role).map((entry): ModelPick => ({ ...modelPickText(entry, role), entry })),
        );
        const picked = await vscode.window.showQuickPick(models, {
            title: role === "chat" ? "Ollama: chat model" : "Ollama: completion model",
            placeHolder: "Pick a model (not installed ones are pulled first)",
            matchOnDescription: true,
            matchOnDetail: true,
        });
        if (!picked) {
            return;
        }
        const name = picked.entry.name;
        if (picked.entry.installed === false && !(await this.pull(name))) {
            return;
        }
        await this.select(name, role);
    }

    async pullModel(): Promise<void> {
        const name = await vscode.window.showInputBox({
            title: "Ollama: pull a model",
            prompt: "A model name from the Ollama library, with its tag",
            placeHolder: PULL_PLACEHOLDER,
            ignoreFocusOut: true,
            validateInput: (value) =>
                /^\S+$/.test(value.trim()) ? undefined : "A model name such as " + PULL_PLACEHOLDER,
        });
        if (!name?.trim() || !(await this.pull(name.trim()))) {
            return;
        }
        const choice = await vscode.window.showInformationMessage(
            pullOutcome(name.trim(), { status: "success" }),
            "Use for Completion",
            "Use for Chat",
        );
        if (choice) {
            await this.select(name.trim(), choice === "Use for Chat" ? "chat" : "completion");
        }
    }

    async deleteModel(): Promise<void> {
        const models = this.server.execute<ModelEntry[]>("ollama.listModels").then((list) =>
            sortModels(list.filter((e) => e.installed !== false)).map(
                (entry): ModelPick => ({ ...modelPickText(entry), entry }),
            ),
        );
        const picked = await vscode.window.showQuickPick(models, {
            title: "Ollama: delete a model",
            placeHolder: "Pick an installed model to delete",
            matchOnDescription: true,
        });
        if (!picked) {
            return;
        }
        const { name, size } = picked.entry;
        const freed = formatBytes(size);
        const confirm = await vscode.window.showWarningMessage(
            `Delete ${name}?`,
            { modal: true, detail: `Ollama removes its files${freed ? `, freeing ${freed}` : ""}. Pull it again to get it back.` },
            "Delete",
        );
        if (confirm !== "Delete") {
            return;
        }
        await this.server.execute("ollama.deleteModel", name);
        void vscode.window.showInformationMessage(`Deleted ${name}.`);
        void this.refreshStatus();
    }

    async showStatus(): Promise<void> {
        const status = await this.server.execute<Status>("ollama.status");
        this.statusBar.setStatus(status);
        this.statusChannel ??= vscode.window.createOutputChannel("Ollama Status");
        this.statusChannel.clear();
        this.statusChannel.appendLine(statusSummary(status));
        this.statusChannel.show(true);
    }

    async chat(): Promise<void> {
        const editor = vscode.window.activeTextEditor;
        const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : "";
        const question = await vscode.window.showInputBox({
            title: "Ollama: chat",
            prompt: selection ? "Ask about the selected code" : "Ask the chat model",
            placeHolder: selection ? "What does this do?" : "How do I reverse a list in Python?",
            ignoreFocusOut: true,
        });
        if (!question?.trim()) {
            return;
        }
        const language = editor?.document.languageId ?? "";
        const content = selection ? `${question.trim()}\n\n\`\`\`${language}\n${selection}\n\`\`\`` : question.trim();
        const answer = await this.server.execute<{ model?: string; message?: { content?: string } }>("ollama.chat", {
            messages: [{ role: "user", content }],
        });
        const doc = await vscode.workspace.openTextDocument({
            language: "markdown",
            content: `## You\n\n${content}\n\n## ${answer.model ?? "Ollama"}\n\n${answer.message?.content ?? ""}\n`,
        });
        await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
    }

    /**
     * Make `name` the model for `role`. The server shows its own "Loading …" progress and any
     * memory warning, so this only reports the outcome and updates the status bar.
     */
    private async select(name: string, role: Role): Promise<void> {
        const result = await this.server.execute<SelectResult>("ollama.selectModel", name, role);
        if (result.model) {
            this.statusBar.setModel(result.model);
        }
        await this.remember(result.selected ?? (role === "chat" ? result.chatModel : result.model) ?? name, role);
        void vscode.window.showInformationMessage(selectOutcome(result));
        void this.refreshStatus();
    }

    /**
     * Save a selection to `ollama.model` / `ollama.chatModel`, so it outlives the server. The
     * resulting didChangeConfiguration tells the server the model it already has. A failed
     * write (a broken settings.json, say) is reported, but the selection itself stands.
     */
    private async remember(model: string, role: Role): Promise<void> {
        const key = modelSettingKey(role);
        const config = vscode.workspace.getConfiguration(SECTION);
        const target = selectionTarget(config.inspect(key), model);
        if (target === undefined) {
            return;
        }
        try {
            await config.update(
                key,
                model,
                target === "workspace" ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global,
            );
        } catch (err) {
            void vscode.window.showWarningMessage(selectionNotSaved(`${SECTION}.${key}`, model, err));
        }
    }

    /**
     * Pull `name`, keeping it on the status bar meanwhile. The byte counts and the Cancel
     * button are the server's own work-done progress, which vscode-languageclient draws.
     * True when the model is now there; a cancelled pull says so and returns false.
     */
    private async pull(name: string): Promise<boolean> {
        const done = this.statusBar.pulling(name);
        let result: PullResult;
        try {
            result = await this.server.execute<PullResult>("ollama.pullModel", name);
        } finally {
            done();
        }
        if (result.status !== "success") {
            void vscode.window.showInformationMessage(pullOutcome(name, result));
            return false;
        }
        return true;
    }
}

/** Server errors already say what to do (RequestFailed messages); show them as they are. */
export function showError(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(message);
}
