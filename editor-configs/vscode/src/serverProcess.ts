/**
 * The server process as seen from the extension: is the executable there, and what level is
 * each line it writes to stderr. Plain Node (no `vscode`), so it is unit-tested directly.
 *
 * Why: a missing `ollama-lsp` made vscode-languageclient show its own error toast ("couldn't
 * create connection to server", forced, with no way to turn it off) next to ours, so we look
 * for the executable first and show one message that says how to fix it. And the client writes
 * every stderr line to the output channel as `[error]` (its default `stdioOptions`); the
 * server logs through `window/logMessage` once connected, but what it writes before that, and
 * other libraries' warnings, keep their level here instead of all reading as errors.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import type { Readable } from "node:stream";

/** The LogOutputChannel methods we write with. */
export interface LevelledLog {
    error(message: string): void;
    warn(message: string): void;
    info(message: string): void;
    debug(message: string): void;
}

export type Level = keyof LevelledLog;

function isExecutableFile(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/**
 * Where `command` would be run from: itself when it names a path (has a separator), else the
 * first executable match on `PATH` (with `PATHEXT` on Windows). Undefined when there is none.
 */
export function findExecutable(
    command: string,
    env: Readonly<Record<string, string | undefined>> = process.env,
    isExecutable: (file: string) => boolean = isExecutableFile,
    platform: NodeJS.Platform = process.platform,
): string | undefined {
    const sep = platform === "win32" ? ";" : ":";
    const extensions = platform === "win32" ? ["", ...(env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";")] : [""];
    const candidates = (base: string) => extensions.map((ext) => base + ext);
    if (command.includes("/") || (platform === "win32" && command.includes("\\"))) {
        return candidates(command).find(isExecutable);
    }
    for (const dir of (env.PATH ?? "").split(sep)) {
        if (dir === "") {
            continue;
        }
        const found = candidates(path.join(dir, command)).find(isExecutable);
        if (found) {
            return found;
        }
    }
    return undefined;
}

/** `2026-12-03 17:09:35,123 WARNING name: message`, the server's stderr format (logs.py). */
const LOG_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d+)? (DEBUG|INFO|WARNING|ERROR|CRITICAL) /;

/** The output-channel level for one stderr line; anything unrecognised (a traceback) is an error. */
export function stderrLevel(line: string): Level {
    switch (LOG_LINE.exec(line)?.[1]) {
        case "DEBUG":
            return "debug";
        case "INFO":
            return "info";
        case "WARNING":
            return "warn";
        default:
            return "error";
    }
}

/** Write `input` to `log` line by line, each at its own level (for `stdioOptions.stderr`). */
export function pipeByLevel(input: Readable, log: LevelledLog): void {
    readline
        .createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 })
        .on("line", (line) => log[stderrLevel(line)](line));
}
