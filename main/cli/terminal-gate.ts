/**
 * The human gate on a terminal: shows the forecast and asks approve / edit / reject / stop.
 * Reads lines from stdin, so it works on a TTY and with piped answers alike.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Forecast } from '../../common/actions.ts';
import { ForesightError } from '../../common/errors.ts';
import { parseForecast } from '../../common/formats/index.ts';
import type { GateDecision, GateRequest, HumanGate } from '../../common/ports.ts';
import { formatForecast } from './format.ts';

export class TerminalGate implements HumanGate {
  private rl: Interface | undefined;
  private readonly lines: string[] = [];
  private waiter: ((line: string | undefined) => void) | undefined;
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly onStop: () => void,
  ) {}

  private ensureOpen(): void {
    if (this.rl) return;
    this.rl = createInterface({ input: this.input, terminal: false });
    this.rl.on('line', (line) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(line);
      } else this.lines.push(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      this.waiter?.(undefined);
    });
  }

  private ask(question: string, signal: AbortSignal): Promise<string | undefined> {
    this.ensureOpen();
    this.output.write(question);
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new ForesightError('STOPPED', 'Stopped while waiting for approval'));
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (line) => {
        signal.removeEventListener('abort', onAbort);
        resolve(line);
      };
    });
  }

  async review(req: GateRequest, signal: AbortSignal): Promise<GateDecision> {
    this.output.write(`\nStep ${req.stepNumber}: the planner forecasts\n${formatForecast(req.forecast, '  ')}\n`);
    if (req.grounding) {
      const p = req.grounding.point;
      this.output.write(`  step 1 grounded at (${Math.round(p.x)}, ${Math.round(p.y)}) by ${req.grounding.grounder}\n`);
    }
    for (;;) {
      const answer = await this.ask('Approve? [a]pprove, [e]dit step 1, [r]eject, [s]top: ', signal);
      if (answer === undefined) {
        this.onStop();
        throw new ForesightError('STOPPED', 'Standard input closed while waiting for approval');
      }
      const a = answer.trim().toLowerCase();
      if (a === 'a' || a === 'approve' || a === 'y' || a === 'yes' || a === '') return { kind: 'approve' };
      if (a === 's' || a === 'stop' || a === 'q') {
        this.onStop();
        throw new ForesightError('STOPPED', 'Stopped by the person approving');
      }
      if (a === 'r' || a === 'reject') {
        const reason = (await this.ask('Reason (sent to the planner): ', signal)) ?? '';
        return { kind: 'reject', reason: reason.trim() };
      }
      if (a === 'e' || a === 'edit') {
        const line = await this.ask(
          'New step 1 as TraceR1 action JSON, e.g. {"action_type": "click", "step_instruction": "click on \'OK\'"}: ',
          signal,
        );
        try {
          return { kind: 'edit', forecast: editFirstStep(req.forecast, line ?? '') };
        } catch (e) {
          this.output.write(`  ${(e as Error).message}\n`);
          continue;
        }
      }
      this.output.write('  Please answer a, e, r or s.\n');
    }
  }

  close(): void {
    this.rl?.close();
  }
}

/** Replaces the first step's action with one a person typed, keeping the rest of the plan. */
export function editFirstStep(forecast: Forecast, actionJson: string): Forecast {
  const first = forecast.steps[0]!;
  const raw = `<answer>Step 1: "screenshot_abstraction": ${JSON.stringify(first.screenshot_abstraction)}, "action": ${actionJson.trim()}, "status": "${first.status}"</answer>`;
  const edited = parseForecast(raw, 'tracer1').steps[0]!;
  return { ...forecast, steps: [edited, ...forecast.steps.slice(1)] };
}
