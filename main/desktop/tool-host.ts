/**
 * The agent's side of tool-host.mjs for agents without a supervisor (the supervisor of
 * `foresight run` runs tools the same way: main/cli/supervised.ts). Why tools are not started
 * from the agent itself: see tool-host.mjs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ForesightError } from '../../common/errors.ts';
import type { InputToolRunner } from './text-typer.ts';
import { toolMissing, type ToolResult } from './x11.ts';

export const toolResult = z.object({
  type: z.literal('tool-result'),
  id: z.number(),
  code: z.number().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

/** Turns a tool-result message into what runTool resolves or rejects with (one rule for both hosts). */
export function settleToolResult(tool: string, m: z.infer<typeof toolResult>): ToolResult {
  if (!m.error) return { code: m.code ?? 1, stdout: m.stdout ?? '', stderr: m.stderr ?? '' };
  if (m.error.code === 'TOOL_MISSING') throw toolMissing(tool);
  throw new ForesightError(m.error.code === 'STOPPED' ? 'STOPPED' : 'INTERNAL', m.error.message, { tool });
}

export class ToolHost {
  private readonly pending = new Map<number, { tool: string; resolve: (r: ToolResult) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private gone = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const m = toolResult.safeParse(raw);
      if (!m.success) return;
      const p = this.pending.get(m.data.id);
      this.pending.delete(m.data.id);
      if (!p) return;
      try {
        p.resolve(settleToolResult(p.tool, m.data));
      } catch (e) {
        p.reject(e);
      }
    });
    child.on('exit', () => this.lost('the tool host exited'));
    child.on('error', (e) => this.lost(`the tool host failed: ${e.message}`));
  }

  /** Starts the host: plain Node, no loader (it is a .mjs file), no stdin or stdout of ours. */
  static start(): ToolHost {
    const entry = fileURLToPath(new URL('./tool-host.mjs', import.meta.url));
    const child = fork(entry, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.unref();
    // The channel must not keep the agent alive either; a request in flight holds it (ref below).
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    return new ToolHost(child);
  }

  readonly runTool: InputToolRunner = (tool, args, env) => {
    this.ref(1);
    return new Promise<ToolResult>((resolve, reject) => {
      if (this.gone || !this.child.connected) return reject(new ForesightError('INTERNAL', `Cannot run ${tool}: the tool host is gone`, { tool }));
      const id = this.nextId++;
      const plainEnv: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) if (v !== undefined) plainEnv[k] = v;
      this.pending.set(id, { tool, resolve, reject });
      this.ref(1);
      this.child.send({ type: 'run-tool', id, tool, args: [...args], env: plainEnv }, (err) => {
        if (!err) return;
        this.pending.delete(id);
        reject(new ForesightError('INTERNAL', `Cannot run ${tool}: ${err.message}`, { tool }));
      });
    }).finally(() => this.ref(-1));
  };

  private inFlight = 0;
  /** Holds the channel (and so the process) open while a tool runs, lets go after. */
  private ref(delta: number): void {
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | undefined;
    const before = this.inFlight;
    this.inFlight += delta;
    if (before === 0 && this.inFlight > 0) channel?.ref?.();
    if (before > 0 && this.inFlight === 0) channel?.unref?.();
  }

  private lost(why: string): void {
    if (this.gone) return;
    this.gone = true;
    for (const p of this.pending.values()) p.reject(new ForesightError('INTERNAL', `${p.tool} did not finish: ${why}`, { tool: p.tool }));
    this.pending.clear();
  }

  /** Ends the host (its running tools with it). */
  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      if (this.child.connected) this.child.disconnect();
      setTimeout(() => this.child.kill('SIGKILL'), 1000).unref();
    });
  }
}
