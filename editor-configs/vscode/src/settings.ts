/**
 * The `ollama` settings the server understands, and how VS Code's flat dotted keys become
 * the nested object it expects.
 *
 * VS Code stores settings as dotted keys (`ollama.completion.maxTokens`), while the server
 * reads one nested `ollama` object (`{completion: {maxTokens}}`). This module owns that
 * mapping so `initializationOptions` carry exactly what `workspace/configuration` would
 * later return. It imports nothing from `vscode`, so it is unit-tested under plain Node.
 */

/** A settings value as it travels over JSON. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The nested object the server reads (`{"ollama": <this>}` in initializationOptions). */
export interface OllamaSettings {
    [key: string]: JsonValue;
}

/**
 * Every key under `ollama.` that the server reads, relative to the section, with its default.
 * package.json's `contributes.configuration` must declare exactly these (a test checks it),
 * so the settings UI, the defaults and what the extension sends cannot drift apart.
 */
export const SETTING_DEFAULTS: Readonly<Record<string, JsonValue>> = {
    host: null,
    api: "ollama",
    headers: {},
    "tls.caFile": null,
    model: "codellama:7b-code",
    chatModel: "tinyllama:1.1b-chat-v1-q4_0",
    keepAlive: "30m",
    unloadPrevious: true,
    "completion.debounceMs": 150,
    "completion.adaptiveDebounce": false,
    "completion.maxDebounceMs": 300,
    "completion.maxTokens": 128,
    "completion.temperature": 0.2,
    "completion.multiline": "auto",
    "completion.fim": "auto",
    "completion.prefixLines": 200,
    "completion.suffixLines": 60,
    "completion.contextTokens": 4096,
    "completion.timeoutMs": 10000,
    "cache.maxEntries": 512,
    "cache.ttlSeconds": 600,
};

export const SETTING_KEYS: readonly string[] = Object.keys(SETTING_DEFAULTS);

/** The section name shared by package.json, synchronize.configurationSection and the server. */
export const SECTION = "ollama";

/**
 * Anything that answers `get("completion.maxTokens")` — VS Code's WorkspaceConfiguration for
 * section `ollama` fits, and so does a plain function in tests.
 */
export interface ConfigLike {
    get(key: string): unknown;
}

/**
 * Build the nested `ollama` object from `config`.
 *
 * Undefined values are dropped so the server keeps its own default; a null, blank or empty-list
 * `host` is dropped too, because "no host" means "use $OLLAMA_HOST", which only the server knows.
 * Header values go as written: `${env:NAME}` is filled in by the server, from its environment.
 * Values are passed as they are: validating them is the server's job (it names a bad key once
 * and keeps the previous value), and doing it twice would let the two disagree.
 */
export function settingsFor(config: ConfigLike | Readonly<Record<string, unknown>>): OllamaSettings {
    const get = isConfigLike(config) ? (key: string) => config.get(key) : (key: string) => config[key];
    const result: OllamaSettings = {};
    for (const key of SETTING_KEYS) {
        const value = get(key);
        if (value === undefined || (key === "host" && isBlankHost(value))) {
            continue;
        }
        setDotted(result, key, value as JsonValue);
    }
    return result;
}

/**
 * Read a flat record whose keys may carry the `ollama.` prefix (as in a settings.json file)
 * and present it as section-relative keys; keys from other sections are ignored.
 */
export function sectionOf(flat: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const prefix = `${SECTION}.`;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(flat)) {
        if (key.startsWith(prefix)) {
            out[key.slice(prefix.length)] = value;
        }
    }
    return out;
}

function isConfigLike(config: unknown): config is ConfigLike {
    return typeof (config as ConfigLike | undefined)?.get === "function";
}

function isBlankHost(value: unknown): boolean {
    return value === null || (typeof value === "string" && value.trim() === "") || (Array.isArray(value) && value.length === 0);
}

function setDotted(target: OllamaSettings, dotted: string, value: JsonValue): void {
    const parts = dotted.split(".");
    const last = parts.pop() as string;
    let node: OllamaSettings = target;
    for (const part of parts) {
        const next = node[part];
        if (typeof next !== "object" || next === null || Array.isArray(next)) {
            node[part] = {};
        }
        node = node[part] as OllamaSettings;
    }
    node[last] = value;
}

/** Where the server executable is, as far as `ollamaLsp.serverPath` can say. */
export interface PathContext {
    home?: string;
    workspaceFolder?: string;
}

/**
 * Expand `~/` and `${workspaceFolder}` in `ollamaLsp.serverPath`, so a per-project virtualenv
 * (`${workspaceFolder}/.venv/bin/ollama-lsp`) works without an absolute path in shared settings.
 * Blank falls back to `ollama-lsp` on PATH; a placeholder that cannot be filled is left as is,
 * so the spawn error names exactly what was configured.
 */
export function resolveServerPath(raw: unknown, context: PathContext = {}): string {
    const path = typeof raw === "string" ? raw.trim() : "";
    if (path === "") {
        return "ollama-lsp";
    }
    let resolved = path;
    if (context.workspaceFolder !== undefined) {
        resolved = resolved.split("${workspaceFolder}").join(context.workspaceFolder);
    }
    if (context.home !== undefined && (resolved === "~" || resolved.startsWith("~/"))) {
        resolved = context.home + resolved.slice(1);
    }
    return resolved;
}

/** `ollamaLsp.serverArgs` as strings; anything else in the array is a mistake we drop. */
export function serverArgs(raw: unknown): string[] {
    return Array.isArray(raw) ? raw.filter((a): a is string => typeof a === "string") : [];
}

/** The `ollama.*` key (section-relative) that holds the model for a palette role. */
export function modelSettingKey(role: "completion" | "chat"): "model" | "chatModel" {
    return role === "chat" ? "chatModel" : "model";
}

/** What VS Code's `WorkspaceConfiguration.inspect` says about one key (the layers we use). */
export interface InspectedSetting {
    defaultValue?: unknown;
    globalValue?: unknown;
    workspaceValue?: unknown;
}

/**
 * Where to save a palette selection of `model` so it survives a restart: the user settings,
 * unless the workspace already sets the key — then the workspace, since a user value would be
 * shadowed by it and the choice would silently not stick. `undefined` when the settings already
 * give `model`, so re-picking the current model writes nothing.
 * (The model keys are window-scoped, so there is no per-folder value to consider.)
 */
export function selectionTarget(inspected: InspectedSetting | undefined, model: string): "global" | "workspace" | undefined {
    const effective = inspected?.workspaceValue ?? inspected?.globalValue ?? inspected?.defaultValue;
    if (effective === model) {
        return undefined;
    }
    return inspected?.workspaceValue !== undefined ? "workspace" : "global";
}
