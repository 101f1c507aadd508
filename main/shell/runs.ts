/**
 * Run control for the app: starts an agent run as a child process — the very `foresight run`
 * supervisor + agent the CLI uses (bin/foresight.mjs), so the kill switch, the input watchdog and
 * every safety check are the same — with `--gate app`, and keeps its state here, in the server:
 * the page is only a view of it, so a review waiting for a person survives a page reload.
 *
 * The wire is common/run-protocol.ts: the agent's events and gate requests arrive as JSON lines
 * on its stdout, decisions, pause and resume go to its stdin; stop is SIGINT to the supervisor,
 * what Ctrl+C does in a terminal. Every line is checked; one that does not fit is reported as a
 * `run.error` event and changes nothing.
 *
 * One run at a time: the agent owns the mouse and keyboard.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Rect } from '../../common/coords.ts';
import type { ModelChoice, RunStartRequest, RunState, RunStatus } from '../../common/contract.ts';
import { ForesightError, toErrorInfo, type ErrorInfo } from '../../common/errors.ts';
import { agentLineSchema, type AgentLine, type AppGateDecision, type ServerLine } from '../../common/run-protocol.ts';
import type { EventHub } from './events.ts';

export interface ResolvedModel {
  /** The `--planner` / `--grounder` spec. */
  spec: string;
  /** The endpoint's key, when it has one: passed in the environment, never on the command line. */
  apiKey?: string;
}

export interface RunManagerOptions {
  /** bin/foresight.mjs */
  foresightBin: string;
  dbPath: string;
  events: EventHub;
  resolveModel(choice: ModelChoice, role: 'planner' | 'grounder'): ResolvedModel;
  killKey(): string;
  /** The environment of the run (DISPLAY …); default: the server's. */
  env?: NodeJS.ProcessEnv;
  /** Extra `foresight run` options (tests: --settle-*). */
  extraArgs?: readonly string[];
  log?: (line: string) => void;
  now?: () => number;
}

const LOG_LINES = 50;
/** After SIGINT the supervisor ends the agent within ~0.3 s; past this, it is killed. */
const STOP_KILL_MS = 15_000;

class RunSession {
  readonly state: RunState;
  private readonly child: ChildProcessWithoutNullStreams;
  /** `frame` lines wait for the agent's `observation` line (the screenshot is stored by then). */
  private readonly frames = new Map<string, Extract<AgentLine, { type: 'frame' }>>();
  private stopTimer: NodeJS.Timeout | undefined;
  /** The agent said it is paused (it waits before its next observation). */
  private paused = false;
  readonly exited: Promise<void>;

  /** The state as an answer gives it: with the number of the last live event it includes. */
  snapshot(): RunState {
    return { ...this.state, seq: this.events.lastSeq };
  }

  constructor(
    private readonly opts: RunManagerOptions,
    req: RunStartRequest,
    planner: ResolvedModel,
    grounder: ResolvedModel,
  ) {
    const now = opts.now ?? Date.now;
    const runId = randomUUID();
    this.state = {
      runId,
      task: req.task,
      mode: req.mode,
      planner: planner.spec,
      grounder: grounder.spec,
      status: 'starting',
      step: 0,
      groundings: [],
      approvingRest: false,
      startedAt: now(),
      log: [],
    };
    const args = [
      opts.foresightBin,
      'run',
      '--json',
      '--gate',
      'app',
      '--approve',
      req.mode,
      '--planner',
      planner.spec,
      '--grounder',
      grounder.spec,
      '--db',
      opts.dbPath,
      '--kill-key',
      opts.killKey(),
      ...(req.maxSteps !== undefined ? ['--max-steps', String(req.maxSteps)] : []),
      ...(req.horizon !== undefined ? ['--horizon', String(req.horizon)] : []),
      ...(req.noClickZones ?? []).flatMap((r) => ['--keep-out', `${r.x},${r.y},${r.width},${r.height}`]),
      ...(opts.extraArgs ?? []),
      '--',
      req.task,
    ];
    const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
    delete env.FORESIGHT_API_KEY;
    delete env.FORESIGHT_SUPERVISOR_PID;
    // Each endpoint's own key (empty: the grounder has none, rather than the planner's).
    if (planner.apiKey !== undefined) env.FORESIGHT_API_KEY = planner.apiKey;
    env.FORESIGHT_GROUNDER_API_KEY = grounder.apiKey ?? '';
    this.child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    // The agent may be gone when we write (it ended between our check and the write).
    this.child.stdin.on('error', () => undefined);
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onStdout(line));
    createInterface({ input: this.child.stderr }).on('line', (line) => this.addLog(line));
    this.exited = new Promise<void>((resolve) => {
      this.child.once('error', (e) => {
        this.addLog(`the agent could not be started: ${e.message}`);
        this.end({ status: 'failed', steps: 0, error: { code: 'INTERNAL', message: `The agent could not be started: ${e.message}` } });
        resolve();
      });
      this.child.once('exit', (code, signal) => {
        clearTimeout(this.stopTimer);
        if (this.state.status !== 'ended') {
          const last = this.state.log.at(-1);
          this.end({
            status: code === 130 ? 'stopped' : code === 0 ? 'finished' : 'failed',
            steps: this.state.step,
            ...(code === 0 ? {} : { error: { code: code === 130 ? 'STOPPED' : 'INTERNAL', message: `The agent ended (${signal ?? `exit ${code}`})${last ? `: ${last}` : ''}` } }),
          });
        }
        resolve();
      });
    });
    opts.events.emit('run.started', this.state);
  }

  private get events(): EventHub {
    return this.opts.events;
  }

  private addLog(line: string): void {
    this.state.log.push(line.slice(0, 2000));
    if (this.state.log.length > LOG_LINES) this.state.log.shift();
  }

  private setStatus(status: RunStatus): void {
    if (this.state.status === status || this.state.status === 'ended') return;
    this.state.status = status;
    this.events.emit('run.status', { runId: this.state.runId, status });
  }

  private end(outcome: NonNullable<RunState['outcome']>): void {
    if (this.state.status === 'ended') return;
    this.state.status = 'ended';
    delete this.state.pending;
    this.state.outcome = outcome;
    this.state.endedAt = (this.opts.now ?? Date.now)();
    this.events.emit('run.ended', { runId: this.state.runId, ...(this.state.episodeId ? { episodeId: this.state.episodeId } : {}), outcome });
  }

  private protocolError(message: string): void {
    this.opts.log?.(`foresight app: run ${this.state.runId}: ${message}`);
    this.events.emit('run.error', { runId: this.state.runId, error: { code: 'INTERNAL', message } });
  }

  private onStdout(text: string): void {
    if (text.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.addLog(text); // not ours (a library printing on stdout): keep it for the log
      return;
    }
    const parsed = agentLineSchema.safeParse(raw);
    if (!parsed.success) {
      this.protocolError(`the agent wrote a line that does not fit the protocol: ${text.slice(0, 300)}`);
      return;
    }
    this.onLine(parsed.data);
  }

  private onLine(m: AgentLine): void {
    const runId = this.state.runId;
    switch (m.type) {
      case 'episode_start':
        this.state.episodeId = m.episodeId;
        this.setStatus('running');
        this.events.emit('run.episode', { runId, episodeId: m.episodeId });
        return;
      case 'frame':
        this.frames.set(m.frameId, m);
        return;
      case 'observation': {
        const f = this.frames.get(m.frameId);
        this.frames.clear();
        this.state.step = m.step;
        delete this.state.forecast;
        this.state.groundings = [];
        if (!f) return;
        this.state.frame = { step: m.step, frameId: m.frameId, geometry: f.geometry, capturedAt: f.capturedAt, observedAt: f.emittedAt };
        this.events.emit('run.observation', { runId, ...this.state.frame, ...(m.settle ? { settle: m.settle } : {}) });
        return;
      }
      case 'forecast':
        this.state.forecast = m.forecast;
        this.state.groundings = [];
        this.events.emit('run.forecast', { runId, step: m.step, attempt: m.attempt, forecast: m.forecast, latencyMs: m.latencyMs });
        return;
      case 'parse_error':
        this.events.emit('run.parseError', { runId, step: m.step, attempt: m.attempt, error: m.error });
        return;
      case 'grounding': {
        const g = { index: m.index, ...(m.grounding ? { grounding: m.grounding } : {}), ...(m.error ? { error: m.error } : {}) };
        this.state.groundings = [...this.state.groundings.filter((x) => x.index !== m.index), g];
        this.events.emit('run.grounding', { runId, step: m.step, ...g });
        return;
      }
      case 'gate_request':
        this.state.pending = {
          runId,
          reviewId: m.reviewId,
          episodeId: m.episodeId,
          step: m.step,
          forecast: m.forecast,
          ...(m.grounding ? { grounding: m.grounding } : {}),
          frameId: m.frameId,
          geometry: m.geometry,
          since: (this.opts.now ?? Date.now)(),
        };
        this.state.approvingRest = false;
        this.setStatus('waiting');
        this.events.emit('gate.waiting', this.state.pending);
        return;
      case 'gate_auto':
        this.events.emit('gate.decided', { runId, reviewId: m.reviewId, step: m.step, decision: 'approve_rest', auto: true });
        return;
      case 'review':
        // The agent recorded the decision; the gate.decided event went out when it was sent.
        return;
      case 'action':
        this.events.emit('run.action', {
          runId,
          step: m.step,
          description: m.description,
          ...(m.target.globalPoint ? { globalPoint: m.target.globalPoint } : {}),
          result: m.result,
          ...(m.error ? { error: m.error } : {}),
          durationMs: m.durationMs,
        });
        return;
      case 'paused':
        this.paused = m.paused;
        if (this.state.status !== 'stopping') this.setStatus(m.paused ? 'paused' : this.state.pending ? 'waiting' : 'running');
        return;
      case 'episode_end':
      case 'summary':
        this.state.episodeId ??= m.episodeId;
        this.end({ status: m.status, steps: m.steps, ...(m.error ? { error: m.error } : {}), ...(m.answer !== undefined ? { answer: m.answer } : {}) });
        return;
      case 'protocol_error':
        this.protocolError(`the agent refused a line of ours: ${m.message}`);
        return;
    }
  }

  private send(line: ServerLine): void {
    if (this.state.status === 'ended' || !this.child.stdin.writable) {
      throw new ForesightError('BAD_INPUT', 'This run has ended: start a new one');
    }
    this.child.stdin.write(`${JSON.stringify(line)}\n`);
  }

  decide(reviewId: string, decision: AppGateDecision): void {
    const pending = this.state.pending;
    if (this.state.status === 'ended') throw new ForesightError('NOT_FOUND', 'This run has ended; nothing waits for a decision');
    if (!pending || pending.reviewId !== reviewId) {
      throw new ForesightError('NOT_FOUND', `No review ${reviewId} is waiting (it was decided already, or the run moved on): reload the run view`, { reviewId });
    }
    this.send({ type: 'decision', reviewId, decision });
    delete this.state.pending;
    this.state.approvingRest = decision.kind === 'approve_rest';
    // Decided while paused: the step is done, then the agent waits for resume.
    this.setStatus(this.paused ? 'paused' : 'running');
    this.events.emit('gate.decided', {
      runId: this.state.runId,
      reviewId,
      step: pending.step,
      decision: decision.kind,
      ...(decision.kind === 'reject' ? { reason: decision.reason } : {}),
      auto: false,
    });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  setZones(rects: Rect[]): void {
    this.send({ type: 'no_click_zones', rects });
  }

  /** SIGINT to the supervisor: the kill switch. Killed outright if it has not ended within STOP_KILL_MS. */
  stop(): void {
    if (this.state.status === 'ended') return;
    this.setStatus('stopping');
    this.child.kill('SIGINT');
    this.stopTimer ??= setTimeout(() => this.child.kill('SIGKILL'), STOP_KILL_MS);
    this.stopTimer.unref();
  }
}

export class RunManager {
  private session: RunSession | undefined;

  constructor(private readonly opts: RunManagerOptions) {}

  start(req: RunStartRequest): RunState {
    if (this.session && this.session.state.status !== 'ended') {
      throw new ForesightError('BAD_INPUT', 'A run is going on: stop it (or let it end) before starting another — the agent owns the mouse and keyboard');
    }
    const planner = this.opts.resolveModel(req.planner, 'planner');
    const grounder = this.opts.resolveModel(req.grounder, 'grounder');
    this.session = new RunSession(this.opts, req, planner, grounder);
    return this.session.snapshot();
  }

  current(): RunState | null {
    return this.session?.snapshot() ?? null;
  }

  private get(runId: string): RunSession {
    const s = this.session;
    if (!s || s.state.runId !== runId) throw new ForesightError('NOT_FOUND', `There is no run ${runId} (the app was restarted, or another run replaced it): reload the run view`, { runId });
    return s;
  }

  decide(runId: string, reviewId: string, decision: AppGateDecision): RunState {
    const s = this.get(runId);
    s.decide(reviewId, decision);
    return s.snapshot();
  }

  pause(runId: string): RunState {
    const s = this.get(runId);
    s.pause();
    return s.snapshot();
  }

  resume(runId: string): RunState {
    const s = this.get(runId);
    s.resume();
    return s.snapshot();
  }

  stop(runId: string): RunState {
    const s = this.get(runId);
    s.stop();
    return s.snapshot();
  }

  setZones(runId: string, rects: Rect[]): RunState {
    const s = this.get(runId);
    s.setZones(rects);
    return s.snapshot();
  }

  /** Stops the run in progress (the app is closing) and waits for it to end. */
  async close(): Promise<void> {
    const s = this.session;
    if (!s) return;
    try {
      s.stop();
    } catch (e) {
      this.opts.log?.(`foresight app: stopping the run failed: ${toErrorInfo(e).message}`);
    }
    await s.exited;
  }
}

export type { ErrorInfo };
