/**
 * The model-predictive loop of TraceR1: observe → forecast K steps → ground the first (the
 * rest speculatively) → act → settle → observe → forecast anew. Every fact lands in the
 * EpisodeStore as it happens, so a killed process loses nothing that was finished.
 *
 * Speculative observation: after an action the planner is asked about the first frame the
 * observer captures once the screen looks quiet, while the settle is still being waited out;
 * a frame that something drew over before the settle has its request cancelled and the next
 * frame is asked about. Before acting, the forecast's frame must still be what the screen
 * shows (Observer.changesSince); a forecast made on a frame the screen no longer shows is
 * recorded as stale and not executed, and the screen is observed and forecast anew.
 */
import { describeAction, isTerminal, plannerPoint, type Forecast, type TerminalAction } from '../../common/actions.ts';
import type { Rect } from '../../common/coords.ts';
import { assertNever } from '../../common/assert.ts';
import { ForesightError, isForesightError, toErrorInfo, type ErrorInfo } from '../../common/errors.ts';
import { parseForecast } from '../../common/formats/index.ts';
import type {
  ApprovalPolicy,
  EpisodeEnd,
  EpisodeStore,
  ExecutionRecord,
  Grounder,
  Grounding,
  HistoryEntry,
  HumanGate,
  GateDecision,
  Input,
  MarkedScreenshot,
  Observation,
  Observer,
  Planner,
  PlanReply,
  SettleInfo,
} from '../../common/ports.ts';
import { DEFAULT_TYPING_DEBOUNCE_MS, SYSTEM_CLOCK, executeAction, needsPoint, resolveTarget, type Clock, type ExecutionTarget, type Pacing } from './executor.ts';
import { actionKey, cycleLength } from './repetition.ts';
import { needsReview, type ApprovedPlan } from './review.ts';

export interface AgentConfig {
  task: string;
  /** Forecast horizon K. The paper's ablation peaks near 10; 5 is cheaper per call. */
  horizon: number;
  maxSteps: number;
  approval: ApprovalPolicy;
  /** Malformed answers are re-asked with the parse error this many times. */
  maxParseRetries: number;
  /** Identical actions (or cycles) in a row that count as a loop. */
  maxRepeats: number;
  /** Failed actions in a row (grounding, execution) before the episode fails. */
  maxConsecutiveErrors: number;
  /** Rejections in a row before the episode stops. */
  maxRejections: number;
  /** After typed text, other input waits this long (then for the screen to settle); see Pacing. */
  typingDebounceMs: number;
  /**
   * Global logical pixels the agent never acts in: the app's own window. Read at every step, so
   * the entry point may replace the contents while the run goes on (the window moved).
   */
  noClickZones?: readonly Rect[];
  /** Ask the planner about a frame before the screen counts as settled (`--speculate on`). */
  speculate: boolean;
  /**
   * Speculative requests cancelled in one observation (the screen drew over their frame) before
   * the loop stops speculating and waits for the settle: a screen that keeps drawing in short
   * bursts would otherwise cost a request per burst.
   */
  maxSpeculativeCancels: number;
  /** Stale forecasts in a row that are observed and forecast anew; one more fails with SCREEN_UNSTABLE. */
  maxStaleRetries: number;
  settings?: Record<string, unknown>;
}

export const DEFAULT_AGENT_CONFIG: Omit<AgentConfig, 'task'> = {
  horizon: 5,
  maxSteps: 30,
  approval: 'never',
  maxParseRetries: 2,
  maxRepeats: 3,
  maxConsecutiveErrors: 3,
  maxRejections: 3,
  typingDebounceMs: DEFAULT_TYPING_DEBOUNCE_MS,
  speculate: true,
  maxSpeculativeCancels: 3,
  maxStaleRetries: 3,
};

export interface AgentDeps {
  observer: Observer;
  input: Input;
  planner: Planner;
  grounder: Grounder;
  store: EpisodeStore;
  gate: HumanGate;
  onEvent?: (e: AgentEvent) => void;
  /** Time for the pacing after typed text, `wait` actions and approval waits (default: the system's). */
  clock?: Clock;
}

export type AgentEvent =
  | { type: 'episode_start'; episodeId: string; task: string }
  | {
      type: 'observation';
      step: number;
      frameId: string;
      settle?: SettleInfo;
      /** Planner requests made on earlier frames of this observation and cancelled (speculation). */
      cancelledRequests: number;
      /** The planner was already asked about this frame before the screen counted as settled. */
      speculative: boolean;
    }
  | { type: 'forecast'; step: number; attempt: number; forecast: Forecast; latencyMs: number }
  | { type: 'stale'; step: number; what: string; inARow: number }
  | { type: 'parse_error'; step: number; attempt: number; error: ErrorInfo }
  | { type: 'grounding'; step: number; index: number; grounding?: Grounding; error?: ErrorInfo }
  | { type: 'review'; step: number; decision: GateDecision['kind']; reason?: string }
  | {
      type: 'action';
      step: number;
      description: string;
      target: ExecutionTarget;
      result: ExecutionRecord['result'];
      error?: ErrorInfo;
      durationMs: number;
    }
  | { type: 'episode_end'; episodeId: string; status: EpisodeEnd['status']; error?: ErrorInfo; answer?: string; steps: number; cancelledRequests: number; staleForecasts: number };

export interface EpisodeOutcome {
  episodeId: string;
  status: EpisodeEnd['status'];
  error?: ErrorInfo;
  answer?: string;
  /** Steps that reached execution (terminal actions included). */
  steps: number;
  /** Planner requests cancelled because the screen drew over their frame before it settled. */
  cancelledRequests: number;
  /** Forecasts not executed because the screen changed after their frame was captured. */
  staleForecasts: number;
}

/** A planner request made on a frame before the screen counted as settled. */
interface Speculation {
  observation: Observation;
  controller: AbortController;
  /** Has a handler attached: an aborted request's rejection is nobody's until it is adopted. */
  reply: Promise<PlanReply>;
  cancelled: boolean;
}

class EpisodeRun {
  private readonly history: HistoryEntry[] = [];
  private readonly executedKeys: string[] = [];
  private approvedPlan: ApprovedPlan | undefined;
  private attempts = 0;
  private executedSteps = 0;
  private readonly pacing: Pacing;
  private readonly clock: Clock;
  private consecutiveErrors = 0;
  /** Why the last action failed (grounding or execution): the code an episode of failures ends with. */
  private lastActionError: ErrorInfo | undefined;
  private cancelled = 0;
  private stale = 0;
  /** When the last action began (Date.now()), for the observation after it. */
  private actionStartedAt: number | undefined;
  /** Stale forecasts since the last one that was acted on, and when the first one's frame was captured. */
  private staleInARow = 0;
  private staleSince = 0;
  /** The Set-of-Marks annotation of the frame last asked about (Grounder.annotate). */
  private marks?: { frameId: string; marks: Promise<MarkedScreenshot> };

  constructor(
    private readonly config: AgentConfig,
    private readonly deps: AgentDeps,
    private readonly signal: AbortSignal,
    readonly episodeId: string,
  ) {
    this.clock = deps.clock ?? SYSTEM_CLOCK;
    this.pacing = { settle: (sig) => deps.observer.settle(sig), typingDebounceMs: config.typingDebounceMs, clock: this.clock };
  }

  private emit(e: AgentEvent): void {
    this.deps.onEvent?.(e);
  }

  private checkStopped(): void {
    if (this.signal.aborted) throw new ForesightError('STOPPED', 'Stopped by the kill switch');
  }

  /**
   * Runs steps until a terminal state; returns how the episode ends. A step whose forecast was
   * stale keeps its number (its observation is in the store) but not its place in the budget:
   * the budget counts forecasts acted on.
   */
  async run(): Promise<EpisodeEnd> {
    for (let step = 1, counted = 0; counted < this.config.maxSteps; step++) {
      this.checkStopped();
      const end = await this.step(step);
      if (end === 'stale') continue;
      counted++;
      if (end) return end;
    }
    return {
      status: 'failed',
      error: { code: 'STEP_BUDGET', message: `The task was not finished within ${this.config.maxSteps} steps` },
    };
  }

  private async step(step: number): Promise<EpisodeEnd | 'stale' | undefined> {
    const { observer, grounder, store } = this.deps;
    const { observation, settle, early, cancelled } = await this.observe(step);
    if (!early) grounder.perceive(observation); // OCR runs while the planner thinks (a speculation began it already)
    const stepId = store.beginStep(this.episodeId, step, observation, settle, { cancelledRequests: cancelled });
    this.attempts = 0;
    this.emit({ type: 'observation', step, frameId: observation.frameId, ...(settle ? { settle } : {}), cancelledRequests: cancelled, speculative: early !== undefined });

    let feedback: string | undefined;
    let rejections = 0;
    let reaskedForLoop = false;
    let asked = early;
    for (;;) {
      this.checkStopped();
      let forecast = await this.forecast(stepId, step, observation, feedback, asked);
      asked = undefined;
      let grounding = await this.ground(stepId, step, forecast, observation);
      let reviewed = false;

      if (needsReview(this.config.approval, this.approvedPlan, forecast)) {
        const t0 = this.clock.now();
        const decision = await this.deps.gate.review(
          { episodeId: this.episodeId, stepNumber: step, forecast, observation, ...(grounding.ok && grounding.value ? { grounding: grounding.value } : {}) },
          this.signal,
        );
        store.recordApproval(stepId, {
          policy: this.config.approval,
          decision: decision.kind,
          original: forecast,
          ...(decision.kind === 'edit' ? { edited: decision.forecast } : {}),
          ...(decision.kind === 'reject' ? { reason: decision.reason } : {}),
          waitedMs: this.clock.now() - t0,
        });
        this.emit({ type: 'review', step, decision: decision.kind, ...(decision.kind === 'reject' ? { reason: decision.reason } : {}) });
        this.checkStopped(); // the kill switch may fire while a person decides; a late approval acts on nothing
        reviewed = true;
        if (decision.kind === 'reject') {
          rejections++;
          if (rejections >= this.config.maxRejections) {
            return { status: 'stopped', error: { code: 'REJECTED', message: `A person rejected ${rejections} forecasts in a row: ${decision.reason}` } };
          }
          feedback = `A person rejected your forecast: ${decision.reason || 'no reason given'}`;
          continue;
        }
        if (decision.kind === 'edit') {
          forecast = decision.forecast;
          grounding = await this.ground(stepId, step, forecast, observation, true);
        }
        this.approvedPlan = { forecast, executedSince: 0 };
      }

      const first = forecast.steps[0]!;
      const action = first.action;
      // A forecast a person approved is acted on as approved: the person saw the screen as it is
      // now (and answering in a terminal on the same screen draws on it).
      if (!reviewed && (await this.isStale(stepId, step, forecast, observation))) return 'stale';
      if (isTerminal(action)) {
        store.recordExecution(stepId, { action, result: 'ok', durationMs: 0 });
        this.executedSteps++;
        this.emit({ type: 'action', step, description: describeAction(action), target: {}, result: 'ok', durationMs: 0 });
        return terminalEnd(action);
      }

      // Resolve the target first: the loop check needs the point, and an out-of-screen point
      // must be refused before anything moves.
      let target: ExecutionTarget | undefined;
      let targetError: ErrorInfo | undefined;
      if (!grounding.ok) targetError = grounding.error;
      else {
        try {
          target = resolveTarget(action, grounding.value, observation, await observer.displays(), this.config.noClickZones);
        } catch (e) {
          targetError = toErrorInfo(e);
        }
      }

      const key = actionKey(action, target?.globalPoint);
      // Waiting again and again is how one waits for something slow; the step budget bounds it.
      if (target && action.action_type !== 'wait' && cycleLength(this.executedKeys, key, this.config.maxRepeats) > 0) {
        if (!reaskedForLoop) {
          reaskedForLoop = true;
          feedback = `You are repeating "${describeAction(action)}" without progress. Choose a different action, or fail if the task cannot be done.`;
          continue;
        }
        return {
          status: 'failed',
          error: { code: 'LOOP_DETECTED', message: `The agent kept repeating "${describeAction(action)}" ${this.config.maxRepeats} times` },
        };
      }

      const outcome = await this.execute(stepId, step, action, target, targetError);
      if (outcome === 'stopped') throw new ForesightError('STOPPED', 'Stopped by the kill switch during an action');
      this.executedKeys.push(key);
      if (this.approvedPlan) this.approvedPlan.executedSince++;
      if (outcome === 'error') {
        this.consecutiveErrors++;
        if (this.consecutiveErrors >= this.config.maxConsecutiveErrors) {
          return {
            status: 'failed',
            error: { code: this.lastActionError?.code ?? 'INTERNAL', message: `${this.consecutiveErrors} actions in a row failed; last: ${this.history.at(-1)?.outcome ?? ''}` },
          };
        }
        this.approvedPlan = undefined;
        return undefined;
      }
      this.consecutiveErrors = 0;
      if (first.status === 'done') return { status: 'finished' };
      return undefined;
    }
  }

  /**
   * Observes the screen; after an action, with `speculate`, asks the planner about each frame
   * the observer offers before the screen counts as settled, cancelling the request of a frame
   * something drew over. Returns the settled observation, and the request made on it when there
   * is one (`early`, not yet awaited).
   */
  private async observe(step: number): Promise<{ observation: Observation; settle?: SettleInfo; early?: Promise<PlanReply>; cancelled: number }> {
    const afterAction = step > 1;
    let current: Speculation | undefined;
    let cancelled = 0;
    const cancel = (s: Speculation) => {
      if (s.cancelled) return;
      s.cancelled = true;
      s.controller.abort();
      cancelled++;
    };
    const onCandidate = (observation: Observation, invalidated: AbortSignal) => {
      if (this.signal.aborted) return;
      if (current) cancel(current);
      if (cancelled >= this.config.maxSpeculativeCancels) return; // it keeps drawing: wait for the settle
      this.deps.grounder.perceive(observation);
      const controller = new AbortController();
      const reply = this.ask(observation, undefined, AbortSignal.any([this.signal, controller.signal]));
      reply.catch(() => undefined);
      const spec: Speculation = { observation, controller, reply, cancelled: false };
      invalidated.addEventListener('abort', () => cancel(spec), { once: true });
      current = spec;
    };
    let adopted = false;
    try {
      const speculate = this.config.speculate && afterAction;
      const acted = this.actionStartedAt !== undefined ? { actionStartedAt: this.actionStartedAt } : {};
      const r = await this.deps.observer.observe(afterAction, this.signal, speculate ? { onCandidate, ...acted } : acted);
      const spec = current as Speculation | undefined; // assigned in the callback
      adopted = spec !== undefined && !spec.cancelled && spec.observation.frameId === r.observation.frameId;
      if (spec && !adopted) cancel(spec);
      this.cancelled += cancelled;
      return { ...r, ...(adopted && spec ? { early: spec.reply } : {}), cancelled };
    } finally {
      // Stopped while observing: nothing waits for the request any more.
      if (!adopted) (current as Speculation | undefined)?.controller.abort();
    }
  }

  /**
   * The one place a plan request is made. Its step number counts actions, not observations: a
   * stale forecast's observation has a step row of its own, but to the planner (a `script:` plan
   * goes by this number) the step is still the same one.
   */
  private async ask(observation: Observation, feedback: string | undefined, signal: AbortSignal): Promise<PlanReply> {
    const stepNumber = this.history.length + 1;
    const history = [...this.history];
    const marks = await this.marksFor(observation);
    return this.deps.planner.plan(
      { instruction: this.config.task, observation, history, horizon: this.config.horizon, stepNumber, ...(feedback ? { feedback } : {}), ...(marks ? { marks } : {}) },
      signal,
    );
  }

  /**
   * Set-of-Marks: the planner sees the screenshot with the grounder's numbered marks; the store
   * keeps the frame as captured (the marks are in each forecast's prompt text). Made once per
   * frame (a re-ask and a speculative request on the same frame share it), under the episode's
   * signal rather than a speculative request's, so a cancelled speculation does not spoil it.
   */
  private marksFor(observation: Observation): Promise<MarkedScreenshot> | undefined {
    const grounder = this.deps.grounder;
    if (!grounder.annotate) return undefined;
    if (this.marks?.frameId !== observation.frameId) {
      const marks = grounder.annotate(observation, this.signal);
      marks.catch(() => undefined); // awaited by the ask that needs it
      this.marks = { frameId: observation.frameId, marks };
    }
    return this.marks.marks;
  }

  /**
   * The check before acting: when the screen changed after the forecast's frame was captured,
   * the forecast is recorded as stale (its first action with the result 'stale', nothing sent)
   * and the step ends for a new observation — or the episode fails with SCREEN_UNSTABLE once
   * maxStaleRetries new observations were stale too.
   */
  private async isStale(stepId: string, step: number, forecast: Forecast, observation: Observation): Promise<boolean> {
    const change = await this.deps.observer.changesSince(observation, this.signal);
    this.checkStopped();
    if (!change.changed) {
      this.staleInARow = 0;
      return false;
    }
    const action = forecast.steps[0]!.action;
    const message = `Not executed: the screen changed after the forecast's frame was captured (${change.what})`;
    this.deps.store.recordExecution(stepId, { action, result: 'stale', error: { code: 'SCREEN_UNSTABLE', message }, durationMs: 0 });
    this.stale++;
    if (this.staleInARow++ === 0) this.staleSince = observation.capturedAt;
    this.emit({ type: 'stale', step, what: change.what, inARow: this.staleInARow });
    if (this.staleInARow > this.config.maxStaleRetries) {
      const seconds = ((this.clock.now() - this.staleSince) / 1000).toFixed(1);
      throw new ForesightError(
        'SCREEN_UNSTABLE',
        `The screen never held still: ${this.staleInARow} forecasts in a row were made on frames that changed before they could be acted on, for ${seconds} s; ` +
          `the last time ${change.what}. Nothing was done on the changing screen. Close or wait out what keeps drawing (an animation, a progress bar), then run the task again.`,
        { staleForecasts: this.staleInARow, seconds: Number(seconds), what: change.what, method: change.method },
      );
    }
    return true;
  }

  /**
   * Asks the planner, re-asking with the parse error when the answer is malformed. `early`: the
   * request already made on this observation (speculatively) is the first attempt.
   */
  private async forecast(stepId: string, step: number, observation: Observation, feedback: string | undefined, early?: Promise<PlanReply>): Promise<Forecast> {
    const { planner, store } = this.deps;
    const tries = this.config.maxParseRetries + 1;
    let lastError: ForesightError | undefined;
    let fb = feedback;
    for (let i = 0; i < tries; i++) {
      this.checkStopped();
      const attempt = ++this.attempts;
      const history = [...this.history];
      let reply;
      try {
        reply = i === 0 && early ? await early : await this.ask(observation, fb, this.signal);
      } catch (e) {
        const err = this.signal.aborted ? new ForesightError('STOPPED', 'Stopped while the planner was thinking') : e;
        store.recordForecast(stepId, { attempt, raw: '', error: toErrorInfo(err), latencyMs: 0, model: planner.id, history });
        throw err;
      }
      let forecast: Forecast;
      try {
        forecast = parseForecast(reply.raw, reply.format, {
          imageWidth: observation.geometry.imageWidth,
          imageHeight: observation.geometry.imageHeight,
        });
      } catch (caught) {
        // parseForecast already turns a reader's own failure into PARSE_ERROR; whatever else
        // escapes is still this answer's fault, not the episode's: keep the answer, ask again.
        const e = isForesightError(caught)
          ? caught
          : new ForesightError('PARSE_ERROR', `the answer could not be read (${caught instanceof Error ? caught.message : String(caught)})`, { raw: reply.raw.slice(0, 4000) });
        lastError = e;
        store.recordForecast(stepId, { attempt, raw: reply.raw, error: e.toInfo(), latencyMs: reply.latencyMs, model: reply.model, prompt: reply.prompt, history });
        this.emit({ type: 'parse_error', step, attempt, error: e.toInfo() });
        fb = e.message;
        continue;
      }
      store.recordForecast(stepId, { attempt, raw: reply.raw, forecast, latencyMs: reply.latencyMs, model: reply.model, prompt: reply.prompt, history });
      this.emit({ type: 'forecast', step, attempt, forecast, latencyMs: reply.latencyMs });
      return forecast;
    }
    throw new ForesightError(
      'PARSE_ERROR',
      `The planner's answer could not be used after ${tries} attempts: ${lastError?.message ?? 'unknown error'}`,
      lastError?.details,
    );
  }

  /**
   * Grounds the first step and, when the grounder only looks up perceived data, every later
   * pointed step too (speculatively, recorded for training and for the person watching).
   */
  private async ground(
    stepId: string,
    step: number,
    forecast: Forecast,
    observation: Observation,
    /** The forecast is a person's edit: a point on a step is where they put it, and the grounder is not asked. */
    edited = false,
  ): Promise<{ ok: true; value: Grounding | undefined } | { ok: false; error: ErrorInfo }> {
    const { grounder, store } = this.deps;
    const indices = forecast.steps
      .map((s, i) => (needsPoint(s.action) ? i : -1))
      .filter((i) => i >= 0 && (i === 0 || grounder.speculative === true));
    const results = await Promise.all(
      indices.map(async (i) => {
        try {
          const action = forecast.steps[i]!.action;
          const placed = edited ? plannerPoint(action) : undefined;
          const g: Grounding = placed
            ? { point: placed, confidence: 1, grounder: 'person', detail: 'the point the person approving put there', latencyMs: 0 }
            : await grounder.ground({ action, observation }, this.signal);
          store.recordGrounding(stepId, i, g);
          this.emit({ type: 'grounding', step, index: i, grounding: g });
          return { i, ok: true as const, g };
        } catch (e) {
          const error = toErrorInfo(e);
          store.recordGrounding(stepId, i, { error });
          this.emit({ type: 'grounding', step, index: i, error });
          return { i, ok: false as const, error };
        }
      }),
    );
    this.checkStopped();
    const first = results.find((r) => r.i === 0);
    if (!first) return { ok: true, value: undefined };
    // The grounder's endpoint failed after its retries, or the model worker crashed and the user
    // chose not to go on (or its retries ran out): that says nothing about the step, and asking
    // again for the next step would only wait out the same fault.
    if (!first.ok && (first.error.code === 'ENDPOINT_ERROR' || first.error.code === 'WORKER_CRASHED')) throw new ForesightError(first.error.code, first.error.message, first.error.details);
    return first.ok ? { ok: true, value: first.g } : { ok: false, error: first.error };
  }

  private async execute(
    stepId: string,
    step: number,
    action: Forecast['steps'][number]['action'],
    target: ExecutionTarget | undefined,
    targetError: ErrorInfo | undefined,
  ): Promise<ExecutionRecord['result']> {
    const t0 = performance.now();
    this.actionStartedAt = Date.now();
    let result: ExecutionRecord['result'] = 'ok';
    let error: ErrorInfo | undefined = targetError;
    // Write-ahead: the intent is committed before any input is sent, so after a crash this step
    // reads "started, outcome unknown", never as an action that was not attempted.
    const executionId = this.deps.store.beginExecution(stepId, {
      action,
      ...(target?.globalPoint ? { globalPoint: target.globalPoint } : {}),
      ...(target?.globalEndPoint ? { globalEndPoint: target.globalEndPoint } : {}),
    });
    if (target && !targetError) {
      try {
        await executeAction(action, target, this.deps.input, this.signal, this.pacing);
      } catch (e) {
        error = toErrorInfo(e);
      }
    }
    if (error) result = error.code === 'STOPPED' || this.signal.aborted ? 'stopped' : 'error';
    this.lastActionError = error;
    const durationMs = performance.now() - t0;
    this.deps.store.completeExecution(executionId, { result, ...(error ? { error } : {}), durationMs });
    this.executedSteps++;
    const description = describeAction(action);
    // Numbered by the actions taken, as the planner's step number is: a stale forecast's step row
    // is no step the model took (the history goes Step 1, Step 2, … whatever the rows are).
    this.history.push({ step: this.history.length + 1, action: description, outcome: error ? `failed: ${error.message}` : 'ok' });
    this.emit({ type: 'action', step, description, target: target ?? {}, result, ...(error ? { error } : {}), durationMs });
    return result;
  }

  get stepsExecuted(): number {
    return this.executedSteps;
  }

  get counts(): { cancelledRequests: number; staleForecasts: number } {
    return { cancelledRequests: this.cancelled, staleForecasts: this.stale };
  }
}

function terminalEnd(action: TerminalAction): EpisodeEnd {
  const why = action.step_instruction;
  switch (action.action_type) {
    case 'finished':
      return action.answer !== undefined ? { status: 'finished', answer: action.answer } : { status: 'finished' };
    case 'call_user':
      return { status: 'needs_user', error: { code: 'REJECTED', message: `The agent asks for a person: ${why}` } };
    case 'fail':
      return { status: 'failed', error: { code: 'TASK_FAILED', message: `The agent gave up: ${why}` } };
    default:
      return assertNever(action, 'terminal action');
  }
}

/** Runs one episode to its end. Never throws for anything the episode itself can record. */
export async function runEpisode(config: AgentConfig, deps: AgentDeps, signal: AbortSignal): Promise<EpisodeOutcome> {
  const episodeId = deps.store.createEpisode({
    task: config.task,
    mode: 'agent',
    planner: deps.planner.id,
    grounder: deps.grounder.id,
    settings: {
      horizon: config.horizon,
      maxSteps: config.maxSteps,
      approval: config.approval,
      maxParseRetries: config.maxParseRetries,
      speculate: config.speculate,
      maxStaleRetries: config.maxStaleRetries,
      ...config.settings,
    },
  });
  deps.onEvent?.({ type: 'episode_start', episodeId, task: config.task });
  const run = new EpisodeRun(config, deps, signal, episodeId);
  let end: EpisodeEnd;
  try {
    end = await run.run();
  } catch (e) {
    const error = toErrorInfo(e);
    end = { status: error.code === 'STOPPED' || signal.aborted ? 'stopped' : 'failed', error: signal.aborted ? { code: 'STOPPED', message: error.message } : error };
  }
  deps.store.finishEpisode(episodeId, end);
  const outcome: EpisodeOutcome = { episodeId, ...end, steps: run.stepsExecuted, ...run.counts };
  deps.onEvent?.({ type: 'episode_end', ...outcome });
  return outcome;
}
