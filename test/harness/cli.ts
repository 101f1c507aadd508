/** Runs the real `foresight` command in a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const FORESIGHT_BIN = fileURLToPath(new URL('../../bin/foresight.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** Lines of stdout seen so far. */
  lines: string[];
  /** Resolves when a stdout line matches. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): CliRun {
  const child = spawn(process.execPath, [FORESIGHT_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const watchers: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    stdout += d;
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      for (const w of [...watchers]) {
        if (w.re.test(l)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  child.stderr!.on('data', (d: string) => (stderr += d));
  if (stdin !== undefined) child.stdin!.end(stdin);
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const waitForLine = (re: RegExp, timeoutMs = 60_000) => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`No line matching ${re} within ${timeoutMs} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
      watchers.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  };
  return { child, lines, waitForLine, done };
}

/** Runs a command to its end. A command that leaves handles open (and so would hang) fails. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliResult> {
  const res = await startCli(args, env, stdin).done;
  if (res.stderr.includes('handles were left open')) {
    throw new Error(`foresight ${args[0]} left handles open after finishing:\n${res.stderr}`);
  }
  return res;
}
