/**
 * The agent's side of the supervisor of `foresight run` (main/cli/supervisor.mjs, which explains
 * why it exists). Over the IPC channel the agent
 * - hands its kill-switch hotkey to the supervisor, whose hook watches it (arm),
 * - answers a stop at once, after aborting its run, so the supervisor knows its loop is free,
 * - tells the supervisor which episode it runs and how many steps it took, so that a killed
 *   agent's episode can still be reported and recorded as stopped.
 */
import { z } from 'zod';
import { ForesightError } from '../../common/errors.ts';
import { settleToolResult, toolResult } from '../desktop/tool-host.ts';
import type { ToolResult } from '../desktop/x11.ts';
import type { AgentEvent } from '../agent/loop.ts';
import type { KillSwitch } from '../desktop/kill-switch.ts';

/** Messages from the supervisor. */
const supervisorMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stop'), reason: z.string() }),
  z.object({ type: z.literal('armed'), error: z.string().optional() }),
  toolResult,
]);

/** Messages to the supervisor (supervisor.mjs reads them). */
export type AgentMessage =
  | { type: 'arm'; hotkey: KillSwitch['hotkeySpec'] }
  | { type: 'episode'; episodeId: string; db: string; json: boolean }
  | { type: 'steps'; steps: number }
  | { type: 'stopping' }
  | { type: 'run-tool'; id: number; tool: string; args: string[]; env: Record<string, string> };

/** True when this process is the agent of a supervisor (bin/foresight.mjs started it so). */
export function isSupervised(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.send !== undefined && env.FORESIGHT_SUPERVISOR_PID === String(process.ppid);
}

export class SupervisorLink {
  private armedWaiter: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private readonly tools = new Map<number, { tool: string; resolve: (r: ToolResult) => void; reject: (e: unknown) => void }>();
  private nextToolId = 1;
  private steps = 0;
  private closed = false;
  private kill: KillSwitch | undefined;

  private readonly onMessage = (raw: unknown) => {
    const parsed = supervisorMessage.safeParse(raw);
    if (!parsed.success) return; // not ours
    const m = parsed.data;
    if (m.type === 'stop') {
      this.kill?.trigger(m.reason);
      this.send({ type: 'stopping' });
    } else if (m.type === 'tool-result') {
      const t = this.tools.get(m.id);
      this.tools.delete(m.id);
      if (!t) return;
      try {
        t.resolve(settleToolResult(t.tool, m));
      } catch (e) {
        t.reject(e);
      }
    } else {
      const w = this.armedWaiter;
      this.armedWaiter = undefined;
      if (m.error === undefined) w?.resolve();
      else w?.reject(new ForesightError('INTERNAL', `The global hotkey could not be installed: ${m.error}`));
    }
  };

  // Without setpriv the agent is not killed with the supervisor: it stops when the channel goes.
  private readonly onDisconnect = () => {
    if (!this.closed) this.kill?.trigger('the supervisor exited');
    for (const t of this.tools.values()) t.reject(new ForesightError('STOPPED', 'The supervisor of this run is gone'));
    this.tools.clear();
  };

  constructor() {
    process.on('message', this.onMessage);
    process.on('disconnect', this.onDisconnect);
  }

  /** The kill switch a stop from the supervisor fires. */
  attach(kill: KillSwitch): void {
    this.kill = kill;
  }

  /**
   * Has the supervisor run an input tool (xdotool) as its own child, under the parent-death
   * signal: the supervisor is the process a user kills, and the kernel then kills the tool at
   * once, without waiting for this (larger, busier) process to be torn down first.
   */
  readonly runTool = (tool: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ToolResult> =>
    new Promise<ToolResult>((resolve, reject) => {
      const id = this.nextToolId++;
      const plainEnv: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) if (v !== undefined) plainEnv[k] = v;
      this.tools.set(id, { tool, resolve, reject });
      if (!this.send({ type: 'run-tool', id, tool, args: [...args], env: plainEnv })) {
        this.tools.delete(id);
        reject(new ForesightError('STOPPED', 'The supervisor of this run is gone'));
      }
    });

  /** Has the supervisor watch the hotkey; resolves when its hook is live. */
  arm(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.armedWaiter = { resolve, reject };
      if (!this.kill) return reject(new ForesightError('INTERNAL', 'No kill switch attached to the supervisor link'));
      if (!this.send({ type: 'arm', hotkey: this.kill.hotkeySpec })) {
        this.armedWaiter = undefined;
        reject(new ForesightError('INTERNAL', 'The supervisor of this run is gone'));
      }
    });
  }

  /** Passes on what a killed agent's supervisor needs to report the episode. */
  report(e: AgentEvent, db: string, json: boolean): void {
    if (e.type === 'episode_start') this.send({ type: 'episode', episodeId: e.episodeId, db, json });
    else if (e.type === 'action') this.send({ type: 'steps', steps: ++this.steps });
  }

  /** Lets go of the channel, so that it does not keep this process alive. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.off('message', this.onMessage);
    process.off('disconnect', this.onDisconnect);
    if (process.connected) process.disconnect();
  }

  private send(m: AgentMessage): boolean {
    if (!process.connected || !process.send) return false;
    try {
      process.send(m);
      return true;
    } catch {
      return false;
    }
  }
}
