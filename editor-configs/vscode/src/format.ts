/**
 * Words and numbers a person reads: sizes, quick-pick rows, command outcomes, the status report.
 *
 * The server answers plain JSON; turning it into text is the only logic the palette commands
 * have, so it lives here, free of `vscode`, where plain Node tests can pin it down. Every
 * field the server sends is treated as possibly missing: an older or newer server must never
 * make a command throw while formatting its answer.
 */

/** One row of `ollama.listModels`. */
export interface ModelEntry {
    name: string;
    size?: number | null;
    parameterSize?: string | null;
    quantization?: string | null;
    family?: string | null;
    modifiedAt?: string | null;
    installed?: boolean;
    active?: boolean;
    activeChat?: boolean;
    loaded?: boolean;
    fitsInMemory?: boolean;
    note?: string;
}

/** Which model a picker chooses: the server's `selectModel` role argument. */
export type Role = "completion" | "chat";

/** What a quick pick shows for one model (vscode.QuickPickItem without the import). */
export interface PickText {
    label: string;
    description: string;
    detail: string;
}

/** `ollama.selectModel`'s answer. */
export interface SelectResult {
    model?: string;
    chatModel?: string;
    selected?: string;
    role?: Role;
    unloaded?: string | null;
    warning?: string | null;
    estimatedBytes?: number | null;
}

/** `ollama.pullModel`'s answer. */
export interface PullResult {
    name?: string;
    status?: string;
}

/** One entry of `status.loaded` (Ollama's `/api/ps`), or a bare name from an older server. */
export type LoadedModel = string | { name?: string; size?: number | null; sizeVram?: number | null };

/** One host of `ollama.status`'s `hosts`: a pool lists several; the strings hold no secrets. */
export interface HostState {
    host?: string;
    /** "up", "down", or "unknown" (not asked yet); kept a string for a newer server's states. */
    state?: string;
    error?: string | null;
    served?: number;
}

/** `ollama.status`'s answer. */
export interface Status {
    host?: string;
    /** `"ollama"` (default) or `"openai"` (an OpenAI-compatible server). */
    api?: string;
    hosts?: HostState[];
    reachable?: boolean;
    version?: string | null;
    model?: string;
    chatModel?: string;
    loaded?: LoadedModel[];
    memory?: { rss?: number; available?: number; total?: number };
    cache?: { hits?: number; misses?: number; entries?: number; typedThrough?: number };
    completions?: { count?: number; modelCalls?: number; p50Ms?: number | null; accepted?: number };
    suggestions?: {
        shown?: number;
        accepted?: number;
        partiallyAccepted?: number;
        dismissed?: number;
        acceptanceRate?: number | null;
    };
}

const UNITS: readonly [number, string][] = [
    [1e12, "TB"],
    [1e9, "GB"],
    [1e6, "MB"],
    [1e3, "kB"],
];

/**
 * "3.8 GB", "637 MB", "512 B": decimal units, because that is how Ollama and its library
 * pages state model sizes, so the picker's numbers match what the user has read elsewhere.
 * GB and TB get one decimal (3.8 GB vs 4.1 GB matters); smaller units are whole numbers.
 * Not a size (missing, negative, NaN) gives "" so callers can simply leave it out.
 */
export function formatBytes(bytes: number | null | undefined): string {
    if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) {
        return "";
    }
    for (const [scale, unit] of UNITS) {
        if (bytes >= scale) {
            const value = bytes / scale;
            const decimals = scale >= 1e9 ? 1 : 0;
            const text = value.toFixed(decimals);
            // 999.96 GB rounds to "1000.0 GB": say "1.0 TB" instead.
            if (Number(text) >= 1000 && scale < 1e12) {
                return formatBytes(scale * 1000);
            }
            return `${text} ${unit}`;
        }
    }
    return `${Math.round(bytes)} B`;
}

/**
 * The quick-pick row for one model. The description packs what decides a choice — download
 * size, quantization, parameter count — and the detail says what picking it will do, so a
 * not-installed preset announces the download before the user commits to it.
 */
export function modelPickText(entry: ModelEntry, role: Role = "completion"): PickText {
    const description = [formatBytes(entry.size), entry.quantization, entry.parameterSize]
        .filter((part): part is string => typeof part === "string" && part !== "")
        .join(" · ");
    const active = role === "chat" ? entry.activeChat : entry.active;
    const notes: string[] = [];
    if (active) {
        notes.push("active");
    }
    if (entry.installed === false) {
        notes.push("not installed — select to pull");
    } else if (entry.loaded && !active) {
        notes.push("loaded");
    }
    if (entry.fitsInMemory === false) {
        notes.push("may not fit in free memory");
    }
    if (entry.note) {
        notes.push(entry.note);
    }
    return { label: entry.name, description, detail: notes.join(" · ") };
}

/**
 * Order for the picker: the active model first, then installed ones, then presets to pull;
 * alphabetical within each group so the list does not jump around between invocations.
 */
export function sortModels(entries: readonly ModelEntry[], role: Role = "completion"): ModelEntry[] {
    const rank = (e: ModelEntry): number => {
        if (role === "chat" ? e.activeChat : e.active) {
            return 0;
        }
        return e.installed === false ? 2 : 1;
    };
    return [...entries].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/**
 * The status-bar text while pulls run: "$(cloud-download) Pulling codellama:7b-code…".
 * The byte counts and the Cancel button live in the server's own progress notification
 * (drawn by vscode-languageclient); this item only keeps the pull visible and, when clicked,
 * opens the notification list where that notification is.
 */
export function pullingText(names: readonly string[]): string {
    if (names.length === 0) {
        return "";
    }
    const shown = names.length > 2 ? `${names.slice(0, 2).join(", ")} +${names.length - 2}` : names.join(", ");
    return `$(cloud-download) Pulling ${shown}…`;
}

/** What to tell the user after `ollama.pullModel`; cancelled is not an error, just news. */
export function pullOutcome(name: string, result: PullResult | null | undefined): string {
    if (result?.status === "cancelled") {
        return `Pull of ${name} cancelled.`;
    }
    if (result?.status === "success") {
        return `Pulled ${result.name ?? name}.`;
    }
    return `Pull of ${name} finished (${result?.status ?? "no status"}).`;
}

/**
 * What to tell the user after `ollama.selectModel`. The memory warning is left out on
 * purpose: the server already shows it with `window/showMessage`, and saying it twice
 * teaches people to dismiss both.
 */
export function selectOutcome(result: SelectResult): string {
    const chat = result.role === "chat";
    const chosen = result.selected ?? (chat ? result.chatModel : result.model) ?? "?";
    let text = `${chat ? "Chat" : "Completion"} model: ${chosen}.`;
    if (result.unloaded) {
        text += ` Unloaded ${result.unloaded}.`;
    }
    return text;
}

/** When saving a selection to settings failed: the selection holds until the server restarts. */
export function selectionNotSaved(setting: string, model: string, err: unknown): string {
    const reason = err instanceof Error ? err.message : String(err);
    return `Using ${model}, but could not save it to ${setting} (${reason}); it lasts until the server restarts.`;
}

/** The status-bar text: the completion model, or a warning sign when Ollama is unreachable. */
export function statusBarText(status: Pick<Status, "reachable" | "model"> | undefined, fallbackModel: string): string {
    const model = status?.model || fallbackModel;
    return status?.reachable === false ? `$(warning) ${model}` : `$(hubot) ${model}`;
}

/**
 * A plain-text report of `ollama.status` for an output channel: one fact per line, the most
 * actionable first (is Ollama there at all?), numbers with units a person reads.
 */
export function statusSummary(status: Status): string {
    const host = status.host ?? "(unknown host)";
    const lines: string[] = [];
    if (status.api === "openai") {
        lines.push(
            status.reachable
                ? `OpenAI-compatible server: reachable at ${host}`
                : `OpenAI-compatible server: NOT reachable at ${host} — start it or set ollama.host`,
        );
        lines.push("API: openai (/v1/completions; pulling and deleting models need Ollama)");
    } else if (status.reachable) {
        lines.push(`Ollama: reachable at ${host}${status.version ? ` (version ${status.version})` : ""}`);
    } else {
        lines.push(`Ollama: NOT reachable at ${host} — start it with \`ollama serve\` or set ollama.host`);
    }
    lines.push(...hostLines(status.hosts));
    lines.push(`Completion model: ${status.model ?? "?"}`);
    lines.push(`Chat model: ${status.chatModel ?? "?"}`);
    const loaded = (status.loaded ?? []).map(loadedText).filter((t) => t !== "");
    lines.push(`Loaded in Ollama: ${loaded.length ? loaded.join(", ") : "none"}`);
    const mem = status.memory;
    if (mem) {
        const parts = [
            mem.available !== undefined ? `${formatBytes(mem.available)} free` : "",
            mem.total !== undefined ? `of ${formatBytes(mem.total)}` : "",
            mem.rss !== undefined ? `(server uses ${formatBytes(mem.rss)})` : "",
        ].filter((p) => p !== "");
        lines.push(`Memory: ${parts.join(" ")}`);
    }
    const cache = status.cache;
    if (cache) {
        lines.push(
            `Cache: ${n(cache.entries)} entries, ${n(cache.hits)} hits, ${n(cache.misses)} misses, ` +
                `${n(cache.typedThrough)} typed through`,
        );
    }
    const done = status.completions;
    if (done) {
        const p50 = typeof done.p50Ms === "number" ? `${Math.round(done.p50Ms)} ms` : "n/a";
        lines.push(
            `Completions: ${n(done.count)} requests, ${n(done.modelCalls)} model calls, ` +
                `median ${p50}, ${n(done.accepted)} accepted`,
        );
    }
    const seen = status.suggestions;
    if (seen) {
        const rate =
            typeof seen.acceptanceRate === "number" ? `${Math.round(seen.acceptanceRate * 100)}%` : "n/a";
        lines.push(
            `Suggestions: ${n(seen.shown)} shown, ${n(seen.accepted)} accepted, ` +
                `${n(seen.partiallyAccepted)} partly accepted, ${n(seen.dismissed)} dismissed ` +
                `(acceptance ${rate})`,
        );
    }
    return lines.join("\n");
}

/**
 * "  http://gpu-a:11434: up" / "  http://gpu-b:11434: down — <why>": one line per host, only
 * when that is news beyond the first line — a pool (which of them is up), or a host that is
 * down (the server's error says why, and what to do). One healthy host adds nothing.
 */
export function hostLines(hosts: readonly HostState[] | null | undefined): string[] {
    const list = Array.isArray(hosts) ? hosts : [];
    if (list.length < 2 && !list.some((h) => h?.state === "down")) {
        return [];
    }
    const lines = list.map((h) => {
        const state = h?.state || "unknown";
        const why = state === "down" && h?.error ? ` — ${h.error}` : "";
        return `  ${h?.host ?? "(unknown host)"}: ${state}${why}`;
    });
    return [list.length > 1 ? "Hosts:" : "Host:", ...lines];
}

function loadedText(entry: LoadedModel): string {
    if (typeof entry === "string") {
        return entry;
    }
    const size = formatBytes(entry.size);
    return entry.name ? (size ? `${entry.name} (${size})` : entry.name) : "";
}

function n(value: number | undefined): string {
    return typeof value === "number" ? String(value) : "?";
}
