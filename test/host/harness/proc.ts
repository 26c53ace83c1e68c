/**
 * Spawning a process and collecting its output, with a timeout. Every other
 * module goes through here so results look the same everywhere.
 */
import { spawn } from "node:child_process";

export interface CommandResult {
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ProcessOptions {
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Environment; defaults to a minimal one so the test runner's variables never leak in. */
  env?: NodeJS.ProcessEnv;
  /** Kill the process (SIGKILL) after this many ms. Default 120 s. */
  timeoutMs?: number;
}

export const MINIMAL_ENV: NodeJS.ProcessEnv = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
  HOME: "/root",
};

export function runProcess(argv: readonly string[], opts: ProcessOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("runProcess: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: opts.env ?? MINIMAL_ENV,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      err.push(Buffer.from(`\n[harness] killed after ${opts.timeoutMs ?? 120_000} ms: ${argv.join(" ")}\n`));
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        ...(signal ? { signal } : {}),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (opts.input !== undefined && child.stdin) {
      // A process that exits without reading its stdin must not crash the runner.
      child.stdin.on("error", () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** Like runProcess, but a non-zero exit becomes an error carrying the output. */
export async function runChecked(argv: readonly string[], opts: ProcessOptions = {}): Promise<string> {
  const r = await runProcess(argv, opts);
  if (r.code !== 0) throw new CommandError(argv, r);
  return r.stdout;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    super(
      `command failed (exit ${r2s(result)}): ${argv.join(" ").slice(0, 300)}\n` +
        `--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr ---\n${result.stderr.slice(-4000)}`,
    );
    this.name = "CommandError";
  }
}

function r2s(r: CommandResult): string {
  return r.code === null ? `signal ${r.signal ?? "?"}` : String(r.code);
}

/** Quote one word for POSIX sh: the package's own quoting, so tests quote exactly as the steps do. */
export { shellQuote as shQuote } from "../../../src/scripts/quote";
