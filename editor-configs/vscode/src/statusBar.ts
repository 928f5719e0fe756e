/**
 * The status-bar item: which model completes, whether Ollama answers, which pulls are running.
 *
 * It is the one place a user sees the server's state without asking, so it is kept honest:
 * it shows what `ollama.status` last said, a warning when Ollama is unreachable, and an error
 * when the server itself is not running — each with a click that leads to the fix.
 */
import * as vscode from "vscode";

import { hostLines, pullingText, statusBarText, type Status } from "./format";

export class ModelStatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem("ollamaLsp.model", vscode.StatusBarAlignment.Right, 100);
    private status: Status | undefined;
    private model: string;
    private failure: string | undefined;
    private readonly pulls = new Set<string>();

    constructor(model: string) {
        this.model = model;
        this.item.name = "Ollama model";
        this.render();
        this.item.show();
    }

    /** The latest `ollama.status` answer. */
    setStatus(status: Status): void {
        this.status = status;
        this.failure = undefined;
        if (status.model) {
            this.model = status.model;
        }
        this.render();
    }

    /** The completion model changed (a selection, or the `ollama.model` setting). */
    setModel(model: string): void {
        this.model = model;
        if (this.status) {
            this.status = { ...this.status, model };
        }
        this.render();
    }

    /** The server could not be started or stopped running; `reason` goes into the tooltip. */
    setFailure(reason: string): void {
        this.failure = reason;
        this.render();
    }

    /** Show `name` as being pulled until the returned function is called. */
    pulling(name: string): () => void {
        this.pulls.add(name);
        this.render();
        return () => {
            this.pulls.delete(name);
            this.render();
        };
    }

    dispose(): void {
        this.item.dispose();
    }

    private render(): void {
        const item = this.item;
        item.backgroundColor = undefined;
        if (this.failure !== undefined) {
            item.text = "$(error) ollama-lsp";
            item.tooltip = `The ollama-lsp server is not running: ${this.failure}\nClick to restart it.`;
            item.command = "ollamaLsp.restartServer";
            item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
            return;
        }
        if (this.pulls.size > 0) {
            item.text = pullingText([...this.pulls]);
            item.tooltip = "Click to open the notifications, where the pull shows its progress and a Cancel button.";
            item.command = "notifications.showList";
            return;
        }
        item.text = statusBarText(this.status, this.model);
        const unreachable = this.status?.reachable === false;
        // A pool (or a host that is down) lists each host's state, as Show Status does.
        const hosts = hostLines(this.status?.hosts).join("\n");
        item.tooltip = (unreachable
            ? `Ollama is not reachable at ${this.status?.host ?? "its host"}: start it with \`ollama serve\`.`
            : `Completion model: ${this.model}${this.status?.chatModel ? `\nChat model: ${this.status.chatModel}` : ""}`)
            + (hosts ? `\n${hosts}` : "") + "\nClick to pick a model.";
        item.command = "ollamaLsp.selectModel";
        if (unreachable) {
            item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        }
    }
}
