/**
 * In-memory fakes of the agent's ports (common/ports.ts), for running the real loop
 * (main/agent/loop.ts) in-process: a planner that answers from a script, a screen that shows
 * labelled text and a grounder that finds it (as OCR would), an input that records every call,
 * a person at the gate who answers from a script, a clock that never really sleeps, and a kill
 * switch that can fire while any one of the loop's awaits is pending. The store is the real
 * SqliteEpisodeStore on a file in a temporary folder, so tests read back what a user would.
 *
 * Every fake writes to one shared timeline (`log`: `plan 2`, `click 40,20`, `sleep 300`,
 * `settle`, `ABORT`, …), so a test can check the order of what happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Direction } from '../../common/actions.ts';
import type { Display, Point } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type {
  GateDecision,
  GateRequest,
  Grounder,
  GroundRequest,
  Grounding,
  HumanGate,
  Input,
  MouseButton,
  Observation,
  ObserveOptions,
  Observer,
  PlanReply,
  Planner,
  PlanRequest,
  ScreenChange,
  SettleInfo,
} from '../../common/ports.ts';
import type { Clock } from '../../main/agent/executor.ts';
import { DEFAULT_AGENT_CONFIG, runEpisode, type AgentConfig, type AgentEvent, type EpisodeOutcome } from '../../main/agent/loop.ts';
import { SqliteEpisodeStore, type StoredEpisode } from '../../store/index.ts';
import { makePng, sha256 } from '../unit/fixtures/store-fixtures.ts';

// ---------------------------------------------------------------- TraceR1 answers

/** An action as a planner writes it: plain JSON, valid under any typing of Action. */
export type PlainAction = { action_type: string; step_instruction: string } & Record<string, unknown>;

export interface PlannedStep {
  action: PlainAction;
  status?: 'done' | 'not done';
  /** The screenshot abstraction (what the planner expects to see before the step). */
  screen?: string;
}

/** A TraceR1 answer (`<think>…</think><answer>Step 1: … </answer>`), as a model writes it. */
export function tracer1(...steps: ReadonlyArray<PlainAction | PlannedStep>): string {
  const lines = steps.map((s, i) => {
    const step: PlannedStep = 'action' in s && typeof s.action === 'object' ? (s as PlannedStep) : { action: s as PlainAction };
    const screen = step.screen ?? `the screen before step ${i + 1}`;
    return `Step ${i + 1}: "screenshot_abstraction": ${JSON.stringify(screen)}, "action": ${JSON.stringify(step.action)}, "status": ${JSON.stringify(step.status ?? 'not done')}`;
  });
  return `<think>I look at the screen and plan ${steps.length} step(s).</think>\n<answer>\n${lines.join('\n')}\n</answer>`;
}

// ---------------------------------------------------------------- the kill switch

/** Where the loop awaits a port; the kill switch can fire while any of them is pending. */
export type AwaitPoint = 'observe' | 'displays' | 'plan' | 'ground' | 'review' | 'input' | 'settle' | 'sleep';

export interface KillPlan {
  at: AwaitPoint;
  /** Which call of that port (1-based; default the first). */
  call?: number;
  /**
   * What the port does once the switch fired: `reject` as the real adapters do (they listen to
   * the signal), or `resolve` as if its answer was already on its way: the loop alone must stop.
   */
  then: 'reject' | 'resolve';
}

/** The abort controller of an episode, which fires by itself at a planned await. */
export class FakeKillSwitch {
  readonly controller = new AbortController();
  private readonly calls = new Map<AwaitPoint, number>();
  private plan: KillPlan | undefined;

  constructor(private readonly log: string[]) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(plan: KillPlan): void {
    this.plan = plan;
  }

  trigger(): void {
    if (this.controller.signal.aborted) return;
    this.log.push('ABORT');
    this.controller.abort();
  }

  /**
   * Called by a fake port when the loop starts awaiting it (after the port checked that the
   * signal had not fired yet, as the real ones do). When this is the planned call, the switch
   * fires while the call is pending (after a turn of the event loop), and then the call rejects
   * with `stopped()` or goes on, as planned.
   */
  async reach(point: AwaitPoint, stopped: () => Error): Promise<void> {
    const n = (this.calls.get(point) ?? 0) + 1;
    this.calls.set(point, n);
    const plan = this.plan;
    if (!plan || plan.at !== point || (plan.call ?? 1) !== n) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.trigger();
    if (plan.then === 'reject') throw stopped();
  }
}

const stoppedError = (what: string) => () => new ForesightError('STOPPED', `Stopped while ${what}`);

// ---------------------------------------------------------------- clock

/** Time that passes only when something sleeps: a sleep returns at once, the clock moved on. */
export class FakeClock implements Clock {
  t = 1_760_000_000_000;
  readonly sleeps: number[] = [];

  constructor(
    private readonly log: string[],
    private readonly kill: FakeKillSwitch,
  ) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  async sleep(ms: number, signal: AbortSignal, stopped: () => Error): Promise<void> {
    if (signal.aborted) throw stopped();
    await this.kill.reach('sleep', stopped);
    this.log.push(`sleep ${ms}`);
    this.sleeps.push(ms);
    this.t += ms;
  }
}

// ---------------------------------------------------------------- screen

/** A 1280x800 desktop; the frames the planner sees are 128x80 (one screenshot pixel is 10 global pixels). */
export const DISPLAY: Display = { id: 'primary', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true };
export const FRAME = { width: 128, height: 80 } as const;

/** Where a label at screenshot point p is clicked, in global pixels. */
export function globalOf(p: Point): Point {
  return { x: (p.x / FRAME.width) * DISPLAY.bounds.width, y: (p.y / FRAME.height) * DISPLAY.bounds.height };
}

/** What the screen does while one observation after an action settles (speculation tests). */
export interface SettleScript {
  /**
   * Frames that look quiet (offered to the loop before the settle, when it speculates) and are
   * then drawn over before the screen settles: `what` the drawing was, in words.
   */
  drawnOver?: number;
  /** The settle ends without the screen holding still (settled: false, as at the timeout). */
  timedOut?: boolean;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The screen: labelled text at screenshot points (what an OCR grounder would read), drawn anew
 * whenever it is told it changed (every input does), so each step has a frame of its own.
 *
 * Speculation: each observation after an action follows the next of `settleScripts` (default:
 * the first quiet frame is the settled one): with `onCandidate` the frames are offered before
 * the settle as the desktop observer offers them, 30 ms of fake time apart. `draw(what)` is
 * drawing after the last frame was captured (a dialog opening while the planner thinks): the
 * stale check reports it; `animating` draws all the time.
 */
export class FakeObserver implements Observer {
  labels: Record<string, Point>;
  private frame = 1;
  settleInfo: SettleInfo = { settled: true, waitedMs: 140, frames: 2, method: 'damage' };
  readonly settleScripts: SettleScript[] = [];
  /** Something keeps drawing (a spinner): every check finds the frame changed. */
  animating: string | undefined;
  private readonly frameOf = new Map<string, number>();
  private lastDrawing = '';
  /** Every stale check, in order: whether it found the screen changed. */
  readonly checks: boolean[] = [];

  constructor(
    labels: Record<string, Point>,
    private readonly log: string[],
    private readonly kill: FakeKillSwitch,
    private readonly clock: FakeClock,
  ) {
    this.labels = { ...labels };
  }

  /** The screen changed (an app drew something): the next observation is a new frame. */
  screenChanged(labels?: Record<string, Point>): void {
    this.frame++;
    if (labels) this.labels = { ...labels };
  }

  /** Something other than the agent drew (a window appeared): the last frame is out of date. */
  draw(what: string, labels?: Record<string, Point>): void {
    this.lastDrawing = what;
    this.log.push(`drawn: ${what}`);
    this.screenChanged(labels);
  }

  async changesSince(observation: Observation, signal: AbortSignal): Promise<ScreenChange> {
    if (signal.aborted) throw stoppedError('checking the screen')();
    if (this.animating) this.draw(this.animating);
    const changed = this.frameOf.get(observation.frameId) !== this.frame;
    this.checks.push(changed);
    if (changed) this.log.push('check: changed');
    return changed ? { changed: true, method: 'damage', what: this.lastDrawing, drawingMs: 40 } : { changed: false, method: 'damage' };
  }

  private capture(): Observation {
    const png = makePng(FRAME.width, FRAME.height, this.frame);
    const observation: Observation = {
      frameId: sha256(png),
      png,
      geometry: { display: DISPLAY, imageWidth: FRAME.width, imageHeight: FRAME.height },
      raw: { width: FRAME.width, height: FRAME.height, channels: 4, order: 'bgra', data: new Uint8Array(FRAME.width * FRAME.height * 4) },
      capturedAt: this.clock.now(),
    };
    this.frameOf.set(observation.frameId, this.frame);
    return observation;
  }

  async displays(): Promise<Display[]> {
    await this.kill.reach('displays', stoppedError('listing the displays'));
    return [DISPLAY];
  }

  async settle(signal: AbortSignal): Promise<SettleInfo> {
    if (signal.aborted) throw stoppedError('waiting for the screen to settle')();
    await this.kill.reach('settle', stoppedError('waiting for the screen to settle'));
    this.log.push('settle');
    return { ...this.settleInfo };
  }

  async observe(afterAction: boolean, signal: AbortSignal, opts: ObserveOptions = {}): Promise<{ observation: Observation; settle?: SettleInfo }> {
    if (signal.aborted) throw stoppedError('looking at the screen')();
    await this.kill.reach('observe', stoppedError('looking at the screen'));
    if (!afterAction) {
      this.log.push('observe');
      return { observation: this.capture() };
    }
    const script = this.settleScripts.shift() ?? {};
    const offer = opts.onCandidate;
    for (let i = 0; i < (script.drawnOver ?? 0); i++) {
      if (offer) {
        const invalidated = new AbortController();
        offer(this.capture(), invalidated.signal);
        await tick(); // the planner starts on it
        this.clock.advance(30);
        this.draw(`redraw ${i + 1} before the settle`);
        invalidated.abort();
        await tick();
      } else {
        this.draw(`redraw ${i + 1} before the settle`);
      }
    }
    const observation = this.capture();
    if (offer) {
      offer(observation, new AbortController().signal);
      await tick();
    }
    if (signal.aborted) throw stoppedError('waiting for the screen to settle')();
    this.log.push('observe');
    const settle = script.timedOut ? { ...this.settleInfo, settled: false, waitedMs: 1500 } : { ...this.settleInfo };
    return { observation, settle };
  }
}

// ---------------------------------------------------------------- grounder

/**
 * Grounds as the OCR grounder does: finds the text quoted in the step instruction ('Save') on
 * the screen; GROUNDING_FAILED when the screen does not show it.
 */
export class LabelGrounder implements Grounder {
  readonly id = 'fake-ocr';
  readonly requests: GroundRequest[] = [];
  readonly perceived: string[] = [];

  constructor(
    private readonly observer: FakeObserver,
    private readonly log: string[],
    private readonly kill: FakeKillSwitch,
    readonly speculative: boolean,
  ) {}

  perceive(observation: Observation): void {
    this.perceived.push(observation.frameId);
  }

  async ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    this.requests.push(req);
    if (signal.aborted) throw stoppedError('grounding')();
    await this.kill.reach('ground', stoppedError('grounding'));
    this.log.push(`ground ${req.action.step_instruction}`);
    const quoted = /['"‘“]([^'"’”]+)['"’”]/.exec(req.action.step_instruction)?.[1];
    const at = quoted === undefined ? undefined : this.observer.labels[quoted];
    if (!at) {
      throw new ForesightError('GROUNDING_FAILED', `No text ${JSON.stringify(quoted ?? req.action.step_instruction)} on the screen`);
    }
    return { point: { space: 'screenshot', x: at.x, y: at.y }, confidence: 0.9, grounder: this.id, detail: quoted, latencyMs: 5 };
  }
}

// ---------------------------------------------------------------- planner

/** A raw answer, an error to throw, or a function that makes one (it may take its time). */
export type PlannerTurn = string | Error | ((req: PlanRequest) => string | Error | Promise<string | Error>);

/**
 * Answers each request with the next turn of its script: a raw answer, or an error it throws.
 * When the script has run out, `otherwise` answers (by default: an error saying so).
 */
export class ScriptedPlanner implements Planner {
  readonly id = 'script:test';
  readonly format = 'tracer1' as const;
  readonly requests: PlanRequest[] = [];
  /** Requests aborted while the model was still working on them. */
  cancelled = 0;
  private next = 0;

  constructor(
    private readonly turns: readonly PlannerTurn[],
    private readonly log: string[],
    private readonly kill: FakeKillSwitch,
    /** Answers once the turns have run out; may be set after the harness is made. */
    public otherwise?: PlannerTurn,
  ) {}

  async plan(req: PlanRequest, signal: AbortSignal): Promise<PlanReply> {
    this.requests.push({ ...req, history: [...req.history] });
    // An endpoint's client throws its own abort error; the loop must call that STOPPED.
    if (signal.aborted) throw Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
    await this.kill.reach('plan', () => Object.assign(new Error('Request was aborted.'), { name: 'AbortError' }));
    this.log.push(`plan ${req.stepNumber}`);
    const turn = this.turns[this.next++] ?? this.otherwise ?? new Error(`The test's planner script has only ${this.turns.length} turns`);
    // As an endpoint's client does: an abort ends the request at once, whatever the model does.
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.cancelled++;
        this.log.push(`cancel plan ${req.stepNumber}`);
        reject(Object.assign(new Error('Request was aborted.'), { name: 'AbortError' }));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    let answer: string | Error;
    try {
      answer = typeof turn === 'function' ? await Promise.race([Promise.resolve(turn(req)), aborted]) : turn;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (answer instanceof Error) throw answer;
    return {
      raw: answer,
      format: 'tracer1',
      model: 'scripted',
      prompt: { template: 'test', version: '1', system: 'You are a GUI agent.', user: req.instruction },
      latencyMs: 250,
    };
  }
}

// ---------------------------------------------------------------- input

export type InputCall =
  | { kind: 'move'; point: Point }
  | { kind: 'click'; point: Point; button: MouseButton; count: 1 | 2 }
  | { kind: 'longPress'; point: Point; durationMs: number }
  | { kind: 'drag'; from: Point; to: Point }
  | { kind: 'scroll'; at?: Point; direction: Direction; amount: number }
  | { kind: 'type'; text: string }
  | { kind: 'hotkey'; keys: string[] }
  | { kind: 'releaseAll' };

function describeCall(c: InputCall): string {
  switch (c.kind) {
    case 'move':
      return `move ${c.point.x},${c.point.y}`;
    case 'click':
      return `${c.button === 'left' ? '' : c.button + ' '}${c.count === 2 ? 'double-' : ''}click ${c.point.x},${c.point.y}`;
    case 'longPress':
      return `long-press ${c.point.x},${c.point.y}`;
    case 'drag':
      return `drag ${c.from.x},${c.from.y} → ${c.to.x},${c.to.y}`;
    case 'scroll':
      return `scroll ${c.direction} x${c.amount}`;
    case 'type':
      return `type ${JSON.stringify(c.text)}`;
    case 'hotkey':
      return `keys ${c.keys.join('+')}`;
    case 'releaseAll':
      return 'release all';
  }
}

/** Records every input; `fail` makes a call throw (a lost display, a missing tool) instead. */
export class RecordingInput implements Input {
  readonly calls: InputCall[] = [];
  /** Calls that began after the kill switch fired: the loop must never make one. */
  readonly callsAfterAbort: InputCall[] = [];
  fail: ((call: InputCall) => Error | undefined) | undefined;

  constructor(
    private readonly observer: FakeObserver,
    private readonly log: string[],
    private readonly kill: FakeKillSwitch,
  ) {}

  private async send(call: InputCall, signal?: AbortSignal): Promise<void> {
    if (this.kill.signal.aborted) this.callsAfterAbort.push(call);
    if (signal?.aborted) throw stoppedError('typing')();
    await this.kill.reach('input', stoppedError('acting'));
    const error = this.fail?.(call);
    if (error) {
      this.log.push(`failed ${describeCall(call)}`);
      throw error;
    }
    this.calls.push(call);
    this.log.push(describeCall(call));
    this.observer.screenChanged();
  }

  move(point: Point): Promise<void> {
    return this.send({ kind: 'move', point });
  }
  click(point: Point, button: MouseButton, count: 1 | 2): Promise<void> {
    return this.send({ kind: 'click', point, button, count });
  }
  longPress(point: Point, durationMs: number): Promise<void> {
    return this.send({ kind: 'longPress', point, durationMs });
  }
  drag(from: Point, to: Point): Promise<void> {
    return this.send({ kind: 'drag', from, to });
  }
  scroll(at: Point | undefined, direction: Direction, amount: number): Promise<void> {
    return this.send(at ? { kind: 'scroll', at, direction, amount } : { kind: 'scroll', direction, amount });
  }
  type(text: string, signal?: AbortSignal): Promise<void> {
    return this.send({ kind: 'type', text }, signal);
  }
  hotkey(keys: readonly string[]): Promise<void> {
    return this.send({ kind: 'hotkey', keys: [...keys] });
  }
  releaseAll(): Promise<void> {
    this.calls.push({ kind: 'releaseAll' });
    this.log.push('release all');
    return Promise.resolve();
  }
}

// ---------------------------------------------------------------- the person at the gate

/** A decision, or `stop` (the person presses [s]top: the gate fires the kill switch). */
export type GateTurn = GateDecision | 'stop' | ((req: GateRequest) => GateDecision | 'stop');

/** Answers reviews from a script (approve when it has run out); `thinkMs` of fake time pass per review. */
export class ScriptedGate implements HumanGate {
  readonly requests: GateRequest[] = [];
  thinkMs = 0;
  private next = 0;

  constructor(
    private readonly turns: readonly GateTurn[],
    private readonly log: string[],
    private readonly kill: FakeKillSwitch,
    private readonly clock: FakeClock,
  ) {}

  async review(req: GateRequest, signal: AbortSignal): Promise<GateDecision> {
    this.requests.push(req);
    if (signal.aborted) throw stoppedError('waiting for approval')();
    await this.kill.reach('review', stoppedError('waiting for approval'));
    this.clock.advance(this.thinkMs);
    const turn = this.turns[this.next++] ?? { kind: 'approve' };
    const decision = typeof turn === 'function' ? turn(req) : turn;
    this.log.push(`review ${decision === 'stop' ? 'stop' : decision.kind}`);
    if (decision === 'stop') {
      this.kill.trigger();
      throw new ForesightError('STOPPED', 'Stopped by the person approving');
    }
    return decision;
  }
}

// ---------------------------------------------------------------- the harness

export interface LoopHarnessOptions {
  /** The planner's turns, in order. */
  planner: readonly PlannerTurn[];
  /** Answers once the turns have run out (default: an error). */
  plannerOtherwise?: PlannerTurn;
  /** The person's decisions, in order (approve once they have run out). */
  gate?: readonly GateTurn[];
  /** Text on the screen, in screenshot pixels of the 128x80 frame. */
  labels?: Record<string, Point>;
  /** Whether the grounder grounds every forecast step (a cheap OCR lookup) or only the first. */
  speculative?: boolean;
}

/** Labels of a Mousepad-like window, in screenshot pixels. */
export const LABELS: Record<string, Point> = {
  File: { x: 4, y: 2 },
  Edit: { x: 12, y: 2 },
  View: { x: 20, y: 2 },
  'Save As…': { x: 8, y: 20 },
  Name: { x: 60, y: 30 },
  Save: { x: 110, y: 70 },
  Next: { x: 100, y: 60 },
};

let shared: { dir: string; store: SqliteEpisodeStore } | undefined;

/**
 * One real episode database per test process, in a temporary folder removed at exit. Each test
 * reads back only its own episode (by id); sharing the file saves the open, the migrations and
 * the synced screenshot files (the same frames recur) of a database per test.
 */
function sharedStore(): { dir: string; store: SqliteEpisodeStore } {
  if (shared) return shared;
  const dir = mkdtempSync(join(tmpdir(), 'foresight-loop-'));
  shared = { dir, store: SqliteEpisodeStore.open(join(dir, 'episodes.db')) };
  process.once('exit', () => {
    shared?.store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return shared;
}

/** A click on a label, as a planner writes it. */
export function click(label: string): PlainAction {
  return { action_type: 'click', step_instruction: `click on '${label}'` };
}

/** The input a click on a label of LABELS makes. */
export function clickAt(label: string): InputCall {
  const at = LABELS[label];
  if (!at) throw new Error(`No label ${label} in LABELS`);
  return { kind: 'click', point: globalOf(at), button: 'left', count: 1 };
}

/** Everything one episode needs, wired as the CLI wires the real adapters. */
export class LoopHarness {
  readonly log: string[] = [];
  readonly events: AgentEvent[] = [];
  /** A temporary folder for the test's own files (shared by the tests of one process). */
  readonly dir: string;
  readonly store: SqliteEpisodeStore;
  readonly kill: FakeKillSwitch;
  readonly clock: FakeClock;
  readonly observer: FakeObserver;
  readonly grounder: LabelGrounder;
  readonly planner: ScriptedPlanner;
  readonly input: RecordingInput;
  readonly gate: ScriptedGate;

  constructor(opts: LoopHarnessOptions) {
    ({ dir: this.dir, store: this.store } = sharedStore());
    this.kill = new FakeKillSwitch(this.log);
    this.clock = new FakeClock(this.log, this.kill);
    this.observer = new FakeObserver(opts.labels ?? LABELS, this.log, this.kill, this.clock);
    this.grounder = new LabelGrounder(this.observer, this.log, this.kill, opts.speculative ?? false);
    this.planner = new ScriptedPlanner(opts.planner, this.log, this.kill, opts.plannerOtherwise);
    this.input = new RecordingInput(this.observer, this.log, this.kill);
    this.gate = new ScriptedGate(opts.gate ?? [], this.log, this.kill, this.clock);
  }

  /** Runs one episode to its end and reads it back from the store. */
  async run(config: Partial<AgentConfig> = {}): Promise<{ outcome: EpisodeOutcome; episode: StoredEpisode }> {
    const outcome = await runEpisode(
      { ...DEFAULT_AGENT_CONFIG, task: 'Save the document as /tmp/report.txt', ...config },
      {
        observer: this.observer,
        input: this.input,
        planner: this.planner,
        grounder: this.grounder,
        store: this.store,
        gate: this.gate,
        clock: this.clock,
        onEvent: (e) => this.events.push(e),
      },
      this.kill.signal,
    );
    return { outcome, episode: this.store.getEpisode(outcome.episodeId) };
  }
}

export function harness(opts: LoopHarnessOptions): LoopHarness {
  return new LoopHarness(opts);
}
