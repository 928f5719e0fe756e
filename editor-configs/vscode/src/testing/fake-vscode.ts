/**
 * A stand-in for the `vscode` module, for the smoke test only: enough of the API for this
 * extension and vscode-languageclient 10.1.2 to load, start `ollama-lsp` and serve a document,
 * and nothing more. Every widget the extension shows is recorded in `recorded`; every answer a
 * user would give (a quick-pick choice, an input box's text) is queued in `answers`.
 *
 * It lives outside `src/test/` on purpose: `node --test out/test/` runs every `.js` file under
 * that folder as a test file. The smoke test makes `require("vscode")` resolve here.
 *
 * What vscode-languageclient touches was found by running it against a catch-all stand-in and
 * listing the names it read; a member missing here shows up as a TypeError in the smoke test,
 * never as a silent no-op.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

type Listener<T> = (event: T) => unknown;
type Event<T> = (listener: Listener<T>) => Disposable;

export class Disposable {
    constructor(private readonly onDispose?: () => void) {}

    static from(...items: { dispose(): unknown }[]): Disposable {
        return new Disposable(() => items.forEach((item) => item.dispose()));
    }

    dispose(): void {
        this.onDispose?.();
    }
}

export class EventEmitter<T> {
    private listeners: Listener<T>[] = [];

    readonly event: Event<T> = (listener) => {
        this.listeners.push(listener);
        return new Disposable(() => {
            this.listeners = this.listeners.filter((l) => l !== listener);
        });
    };

    fire(event: T): void {
        for (const listener of [...this.listeners]) {
            listener(event);
        }
    }

    dispose(): void {
        this.listeners = [];
    }
}

/** An event nothing in the smoke test fires. */
function never<T>(): Event<T> {
    return () => new Disposable();
}

export class Uri {
    private constructor(
        readonly scheme: string,
        readonly path: string,
    ) {}

    static file(path: string): Uri {
        return new Uri("file", path);
    }

    static parse(value: string): Uri {
        const match = /^([a-z][\w+.-]*):(?:\/\/)?(.*)$/i.exec(value);
        return match ? new Uri(match[1] as string, match[2] as string) : new Uri("file", value);
    }

    get fsPath(): string {
        return this.path;
    }

    toString(): string {
        return this.scheme === "file" ? `file://${this.path}` : `${this.scheme}:${this.path}`;
    }

    toJSON(): string {
        return this.toString();
    }
}

export class Position {
    constructor(
        readonly line: number,
        readonly character: number,
    ) {}
}

export class Range {
    readonly start: Position;
    readonly end: Position;

    constructor(start: Position | number, end: Position | number, endLine?: number, endCharacter?: number) {
        if (typeof start === "number" && typeof end === "number") {
            this.start = new Position(start, end);
            this.end = new Position(endLine ?? start, endCharacter ?? end);
        } else {
            this.start = start as Position;
            this.end = end as Position;
        }
    }
}

export class ThemeColor {
    constructor(readonly id: string) {}
}

export class SnippetString {
    constructor(readonly value: string = "") {}
}

export class CancellationError extends Error {}

export class CancellationTokenSource {
    private readonly emitter = new EventEmitter<void>();
    readonly token = {
        isCancellationRequested: false,
        onCancellationRequested: this.emitter.event,
    };

    cancel(): void {
        this.token.isCancellationRequested = true;
        this.emitter.fire();
    }

    dispose(): void {
        this.emitter.dispose();
    }
}

export class CompletionItem {
    constructor(readonly label: string) {}
}

export class InlineCompletionItem {
    constructor(
        readonly insertText: string | SnippetString,
        readonly range?: Range,
        readonly command?: { command: string; arguments?: unknown[] },
    ) {}
}

export class InlineCompletionList {
    constructor(readonly items: InlineCompletionItem[]) {}
}

/** Classes vscode-languageclient names in `instanceof` checks of features this server lacks. */
export class CallHierarchyItem {}
export class CodeAction {}
export class CodeLens {}
export class Diagnostic {}
export class DocumentLink {}
export class InlayHint {}
export class SymbolInformation {}
export class TypeHierarchyItem {}

export class CodeActionKind {
    static readonly Empty = new CodeActionKind("");
    static readonly QuickFix = new CodeActionKind("quickfix");
    static readonly Refactor = new CodeActionKind("refactor");
    static readonly RefactorExtract = new CodeActionKind("refactor.extract");
    static readonly RefactorInline = new CodeActionKind("refactor.inline");
    static readonly RefactorRewrite = new CodeActionKind("refactor.rewrite");
    static readonly Source = new CodeActionKind("source");
    static readonly SourceOrganizeImports = new CodeActionKind("source.organizeImports");

    constructor(readonly value: string) {}
}

export const version = "1.91.0";
export const StatusBarAlignment = { Left: 1, Right: 2 } as const;
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;
export const ViewColumn = { Active: -1, Beside: -2 } as const;
export const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 } as const;
export const InlineCompletionTriggerKind = { Invoke: 0, Automatic: 1 } as const;
export const LogLevel = { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 } as const;

// -- what the smoke test drives and reads --------------------------------------------------------

export interface FakeTextDocument {
    uri: Uri;
    languageId: string;
    version: number;
    isClosed: boolean;
    isUntitled: boolean;
    fileName: string;
    lineCount: number;
    getText(): string;
}

export interface FakeStatusBarItem {
    text: string;
    tooltip: unknown;
    command: unknown;
    backgroundColor: ThemeColor | undefined;
    name: string | undefined;
    /** Every text the item showed, in order, so a short-lived state cannot be missed. */
    readonly texts: string[];
    show(): void;
    hide(): void;
    dispose(): void;
}

export interface ProgressEntry {
    options: { location: unknown; title?: string; cancellable?: boolean };
    reports: { message?: string; increment?: number }[];
    done: boolean;
}

export interface ConfigUpdate {
    key: string;
    value: unknown;
    target: number;
}

/** What the user would answer, consumed in order; an empty queue answers "dismissed". */
export const answers = {
    quickPick: [] as string[],
    inputBox: [] as string[],
};

export const recorded = {
    statusItems: [] as FakeStatusBarItem[],
    progress: [] as ProgressEntry[],
    infos: [] as string[],
    warnings: [] as string[],
    errors: [] as string[],
    outputs: new Map<string, string[]>(),
    updates: [] as ConfigUpdate[],
    inlineProviders: [] as { selector: unknown; provider: InlineProvider }[],
    completionProviders: [] as { selector: unknown; provider: CompletionProvider }[],
    /** How often the whole `ollama` section was read: the client's sync and the server's pulls. */
    sectionReads: 0,
};

/** What vscode-languageclient registers as the inline completion provider. */
export interface InlineProvider {
    provideInlineCompletionItems(
        document: FakeTextDocument,
        position: Position,
        context: { triggerKind: number; selectedCompletionInfo: undefined },
        token: CancellationTokenSource["token"],
    ): Promise<InlineCompletionList | InlineCompletionItem[] | null | undefined>;
}

/** What vscode-languageclient registers as the completion (list) provider. */
export interface CompletionProvider {
    provideCompletionItems(
        document: FakeTextDocument,
        position: Position,
        context: { triggerKind: number; triggerCharacter?: string },
        token: CancellationTokenSource["token"],
    ): Promise<unknown>;
}

// -- configuration: package.json defaults < global < workspace, as VS Code layers them ---------

const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown }> }[] };
};
const defaults = new Map<string, unknown>();
for (const block of manifest.contributes.configuration) {
    for (const [key, spec] of Object.entries(block.properties)) {
        defaults.set(key, spec.default);
    }
}
const globalValues = new Map<string, unknown>();
const workspaceValues = new Map<string, unknown>();
const configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

/** Set a value as if settings.json (user or workspace) said so, before the extension starts. */
export function setSetting(key: string, value: unknown, layer: "global" | "workspace" = "global"): void {
    (layer === "global" ? globalValues : workspaceValues).set(key, value);
}

function effective(): Map<string, unknown> {
    return new Map([...defaults, ...globalValues, ...workspaceValues]);
}

function lookup(full: string): unknown {
    const values = effective();
    if (values.has(full)) {
        return values.get(full);
    }
    const nested: Record<string, unknown> = {};
    let found = false;
    for (const [key, value] of values) {
        if (!key.startsWith(`${full}.`)) {
            continue;
        }
        found = true;
        const parts = key.slice(full.length + 1).split(".");
        const last = parts.pop() as string;
        let node = nested;
        for (const part of parts) {
            node = (node[part] ??= {}) as Record<string, unknown>;
        }
        node[last] = value;
    }
    return found ? nested : undefined;
}

function getConfiguration(section?: string) {
    const full = (key: string) => (section ? `${section}.${key}` : key);
    return {
        get<T>(key: string, fallback?: T): T | undefined {
            if (full(key) === "ollama") {
                recorded.sectionReads += 1;
            }
            const value = lookup(full(key));
            return value === undefined ? fallback : (value as T);
        },
        has(key: string): boolean {
            return lookup(full(key)) !== undefined;
        },
        inspect(key: string) {
            const k = full(key);
            return {
                key: k,
                defaultValue: defaults.get(k),
                globalValue: globalValues.get(k),
                workspaceValue: workspaceValues.get(k),
                workspaceFolderValue: undefined,
            };
        },
        async update(key: string, value: unknown, target: number | boolean | undefined): Promise<void> {
            const k = full(key);
            const where = target === ConfigurationTarget.Workspace || target === false ? ConfigurationTarget.Workspace : ConfigurationTarget.Global;
            recorded.updates.push({ key: k, value, target: where });
            (where === ConfigurationTarget.Workspace ? workspaceValues : globalValues).set(k, value);
            configurationChanged.fire({
                affectsConfiguration: (s: string) => k === s || k.startsWith(`${s}.`) || s.startsWith(`${k}.`),
            });
        },
    };
}

// -- namespaces ----------------------------------------------------------------------------------

const textDocuments: FakeTextDocument[] = [];
let workspaceFolders: { uri: Uri; name: string; index: number }[] | undefined;

/** Open `text` as a document at `path` (before activation: the client sends didOpen at start). */
export function openDocument(path: string, languageId: string, text: string): FakeTextDocument {
    const document: FakeTextDocument = {
        uri: Uri.file(path),
        languageId,
        version: 1,
        isClosed: false,
        isUntitled: false,
        fileName: path,
        lineCount: text.split("\n").length,
        getText: () => text,
    };
    textDocuments.push(document);
    return document;
}

export function setWorkspaceFolder(path: string): void {
    workspaceFolders = [{ uri: Uri.file(path), name: path.split("/").pop() ?? path, index: 0 }];
}

export const workspace = {
    get textDocuments(): FakeTextDocument[] {
        return textDocuments;
    },
    notebookDocuments: [] as unknown[],
    get workspaceFolders() {
        return workspaceFolders;
    },
    getConfiguration,
    onDidChangeConfiguration: configurationChanged.event,
    onDidOpenTextDocument: never<FakeTextDocument>(),
    onDidCloseTextDocument: never<FakeTextDocument>(),
    onDidChangeTextDocument: never<unknown>(),
    onDidSaveTextDocument: never<FakeTextDocument>(),
    onWillSaveTextDocument: never<unknown>(),
    onDidChangeWorkspaceFolders: never<unknown>(),
    onDidCreateFiles: never<unknown>(),
    onDidDeleteFiles: never<unknown>(),
    onDidRenameFiles: never<unknown>(),
    onWillCreateFiles: never<unknown>(),
    onWillDeleteFiles: never<unknown>(),
    onWillRenameFiles: never<unknown>(),
    async openTextDocument(options: { language?: string; content?: string }): Promise<FakeTextDocument> {
        return openDocument(`/untitled-${textDocuments.length}`, options.language ?? "plaintext", options.content ?? "");
    },
};

function outputChannel(name: string) {
    const lines = (): string[] => {
        let list = recorded.outputs.get(name);
        if (!list) {
            list = [];
            recorded.outputs.set(name, list);
        }
        return list;
    };
    const appendLine = (line: string): void => {
        lines().push(line);
    };
    return {
        name,
        logLevel: LogLevel.Info,
        onDidChangeLogLevel: never<number>(),
        append: (text: string) => appendLine(text),
        appendLine,
        replace: (text: string) => {
            lines().splice(0, Infinity, text);
        },
        clear: () => {
            lines().splice(0, Infinity);
        },
        trace: appendLine,
        debug: appendLine,
        info: appendLine,
        warn: appendLine,
        error: (line: string | Error) => appendLine(String(line)),
        show: () => undefined,
        hide: () => undefined,
        dispose: () => undefined,
    };
}

function statusBarItem(): FakeStatusBarItem {
    let text = "";
    const item: FakeStatusBarItem = {
        get text() {
            return text;
        },
        set text(value: string) {
            text = value;
            item.texts.push(value);
        },
        tooltip: undefined,
        command: undefined,
        backgroundColor: undefined,
        name: undefined,
        texts: [],
        show: () => undefined,
        hide: () => undefined,
        dispose: () => undefined,
    };
    recorded.statusItems.push(item);
    return item;
}

type Pickable = { label: string };

export const window = {
    state: { focused: true },
    activeTextEditor: undefined,
    visibleTextEditors: [] as unknown[],
    tabGroups: { all: [] as unknown[], onDidChangeTabs: never<unknown>() },
    onDidChangeActiveTextEditor: never<unknown>(),
    onDidChangeVisibleTextEditors: never<unknown>(),
    createOutputChannel: outputChannel,
    createStatusBarItem: (..._args: unknown[]) => statusBarItem(),
    async showInformationMessage(message: string, ..._items: unknown[]): Promise<undefined> {
        recorded.infos.push(message);
        return undefined;
    },
    async showWarningMessage(message: string, ..._items: unknown[]): Promise<undefined> {
        recorded.warnings.push(message);
        return undefined;
    },
    async showErrorMessage(message: string, ..._items: unknown[]): Promise<undefined> {
        recorded.errors.push(message);
        return undefined;
    },
    async showQuickPick<T extends Pickable>(items: readonly T[] | Promise<readonly T[]>): Promise<T | undefined> {
        const list = await items;
        const wanted = answers.quickPick.shift();
        const picked = list.find((item) => item.label === wanted);
        if (wanted !== undefined && !picked) {
            throw new Error(`quick pick has no "${wanted}" among: ${list.map((i) => i.label).join(", ")}`);
        }
        return picked;
    },
    async showInputBox(): Promise<string | undefined> {
        return answers.inputBox.shift();
    },
    async showTextDocument(): Promise<unknown> {
        return {};
    },
    async withProgress<R>(
        options: ProgressEntry["options"],
        task: (progress: { report(value: { message?: string; increment?: number }): void }, token: CancellationTokenSource["token"]) => Promise<R>,
    ): Promise<R> {
        const entry: ProgressEntry = { options, reports: [], done: false };
        recorded.progress.push(entry);
        const source = new CancellationTokenSource();
        try {
            return await task({ report: (value) => entry.reports.push(value) }, source.token);
        } finally {
            entry.done = true;
        }
    },
};

const registeredCommands = new Map<string, (...args: unknown[]) => unknown>();

export const commands = {
    registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
        if (registeredCommands.has(id)) {
            throw new Error(`command '${id}' already exists`);
        }
        registeredCommands.set(id, handler);
        return new Disposable(() => registeredCommands.delete(id));
    },
    async executeCommand<T>(id: string, ...args: unknown[]): Promise<T> {
        const handler = registeredCommands.get(id);
        if (!handler) {
            throw new Error(`command '${id}' not found`);
        }
        return (await handler(...args)) as T;
    },
};

type Filter = { scheme?: string; language?: string };

export const languages = {
    match(selector: Filter | Filter[] | undefined, document: FakeTextDocument): number {
        const filters = Array.isArray(selector) ? selector : selector ? [selector] : [];
        const hit = filters.some(
            (f) => (f.scheme === undefined || f.scheme === document.uri.scheme) && (f.language === undefined || f.language === document.languageId),
        );
        return hit ? 10 : 0;
    },
    registerInlineCompletionItemProvider(selector: unknown, provider: InlineProvider): Disposable {
        const entry = { selector, provider };
        recorded.inlineProviders.push(entry);
        return new Disposable(() => {
            recorded.inlineProviders = recorded.inlineProviders.filter((e) => e !== entry);
        });
    },
    registerCompletionItemProvider(selector: unknown, provider: CompletionProvider): Disposable {
        const entry = { selector, provider };
        recorded.completionProviders.push(entry);
        return new Disposable(() => {
            recorded.completionProviders = recorded.completionProviders.filter((e) => e !== entry);
        });
    },
};

export const env = { language: "en", appName: "fake-vscode", machineId: "smoke", sessionId: "smoke", uiKind: 1 };
