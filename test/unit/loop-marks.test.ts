/**
 * Set-of-Marks in the agent loop (main/agent/loop.ts), in-process over the fakes of
 * test/harness/agent-fakes.ts and a real episode database: a grounder that annotates has the
 * planner see its marked screenshot and marks (each step its own, each re-ask the same), the
 * store keeps the frame as captured, "click mark N" reaches the desktop at that mark, and an
 * annotation that fails or is stopped ends the episode before anything is planned.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ForesightError } from '../../common/errors.ts';
import type { GroundRequest, Grounding, Mark, MarkedScreenshot, Observation } from '../../common/ports.ts';
import { DEFAULT_AGENT_CONFIG, runEpisode } from '../../main/agent/loop.ts';
import { clickAt, harness, LabelGrounder, LABELS, tracer1, type LoopHarness } from '../harness/agent-fakes.ts';
import { makePng, sha256 } from './fixtures/store-fixtures.ts';

/** Numbers the labels on the screen (in LABELS' order), draws "them" (a PNG of its own per frame), resolves "mark N". */
class MarkingGrounder extends LabelGrounder {
  readonly annotated: string[] = [];
  fail: Error | undefined;
  private readonly h: LoopHarness;

  constructor(h: LoopHarness) {
    super(h.observer, h.log, h.kill, true);
    this.h = h;
  }

  marksNow(): Mark[] {
    return Object.entries(this.h.observer.labels).map(([text, p], i) => ({
      id: i + 1,
      box: { x: p.x - 3, y: p.y - 1, width: 6, height: 2 },
      text,
      source: 'detector+text' as const,
      confidence: 0.9,
    }));
  }

  async annotate(observation: Observation, signal: AbortSignal): Promise<MarkedScreenshot> {
    if (signal.aborted) throw new ForesightError('STOPPED', 'Stopped while marking');
    this.h.log.push('annotate');
    this.annotated.push(observation.frameId);
    await new Promise<void>((r) => setImmediate(r));
    if (this.fail) throw this.fail;
    return { frameId: observation.frameId, png: makePng(8, 8, this.annotated.length), marks: this.marksNow() };
  }

  override async ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    const n = /mark (\d+)/.exec(req.action.step_instruction)?.[1];
    if (n === undefined) return super.ground(req, signal);
    const mark = this.marksNow().find((m) => m.id === Number(n));
    if (!mark) throw new ForesightError('GROUNDING_FAILED', `There is no mark ${n}`);
    this.h.log.push(`ground mark ${n}`);
    return { point: { space: 'screenshot', x: mark.box.x + 3, y: mark.box.y + 1 }, confidence: 0.9, grounder: 'fake-som', detail: `mark ${n}`, latencyMs: 1 };
  }
}

async function runWith(h: LoopHarness, grounder: LabelGrounder) {
  const outcome = await runEpisode(
    { ...DEFAULT_AGENT_CONFIG, task: 'Open the Edit menu, then save' },
    { observer: h.observer, input: h.input, planner: h.planner, grounder, store: h.store, gate: h.gate, clock: h.clock },
    h.kill.signal,
  );
  return { outcome, episode: h.store.getEpisode(outcome.episodeId) };
}

const clickMark = (n: number) => ({ action_type: 'click', step_instruction: `click mark ${n}` });

void describe('Set-of-Marks in the loop', () => {
  test('the planner sees each step\'s marked screenshot and marks; "click mark N" clicks that mark; the store keeps the captured frame', async () => {
    const h = harness({ planner: ['not an answer', tracer1(clickMark(2)), tracer1({ action: clickMark(6), status: 'done' })] });
    const g = new MarkingGrounder(h);
    const { episode } = await runWith(h, g);
    assert.equal(episode.status, 'finished');
    // 'Edit' is the second label, 'Save' the sixth
    assert.deepEqual(h.input.calls, [clickAt('Edit'), clickAt('Save')]);
    const [bad, retry, second] = h.planner.requests;
    assert.ok(bad?.marks && retry?.marks && second?.marks, 'every request carried marks');
    assert.equal(retry.marks, bad.marks, 'a re-ask shows the same marks');
    assert.deepEqual(
      [bad.marks.frameId, second.marks.frameId],
      [bad.observation.frameId, second.observation.frameId],
      'each step\'s marks are made for its own frame',
    );
    assert.notEqual(bad.observation.frameId, second.observation.frameId);
    assert.notEqual(sha256(bad.marks.png), bad.observation.frameId, 'the planner is given the drawn picture, not the capture');
    assert.deepEqual(
      bad.marks.marks.map((m) => `${m.id} ${m.text ?? ''}`),
      Object.keys(LABELS).map((t, i) => `${i + 1} ${t}`),
    );
    assert.deepEqual(
      episode.steps.map((s) => s.frameSha256),
      [bad.observation.frameId, second.observation.frameId],
      'the store keeps the frames as captured',
    );
    assert.deepEqual(g.annotated, [bad.observation.frameId, second.observation.frameId], 'one annotation per step');
    // Marked before the planner was asked about the frame. After an action the request goes out
    // speculatively, while the observer still waits for the settle (its 'observe' comes later).
    assert.deepEqual(
      h.log.filter((l) => /^(observe|annotate|plan)/.test(l)),
      ['observe', 'annotate', 'plan 1', 'plan 1', 'annotate', 'plan 2', 'observe'],
    );
  });

  test('a grounder without annotate: the planner gets the capture and no marks', async () => {
    const h = harness({ planner: [tracer1({ action: { action_type: 'click', step_instruction: "click on 'File'" }, status: 'done' })] });
    const { episode } = await h.run();
    assert.equal(episode.status, 'finished');
    assert.equal(h.planner.requests[0]?.marks, undefined);
    assert.deepEqual(h.input.calls, [clickAt('File')]);
  });

  test('an annotation that fails ends the episode with its code; the step and its screenshot are kept, nothing is planned', async () => {
    const h = harness({ planner: [tracer1(clickMark(1))] });
    const g = new MarkingGrounder(h);
    g.fail = new ForesightError('MODEL_INVALID', 'The element detector in /models/x does not match its manifest');
    const { episode } = await runWith(h, g);
    assert.equal(episode.status, 'failed');
    assert.deepEqual(episode.error, { code: 'MODEL_INVALID', message: 'The element detector in /models/x does not match its manifest' });
    assert.equal(episode.steps.length, 1);
    assert.equal(h.planner.requests.length, 0);
    assert.deepEqual(h.input.calls, []);
  });

  test('the kill switch while marking stops the episode before the planner is asked', async () => {
    const h = harness({ planner: [tracer1(clickMark(1))] });
    const g = new MarkingGrounder(h);
    g.fail = new ForesightError('STOPPED', 'Stopped while marking');
    const annotate = g.annotate.bind(g);
    g.annotate = (obs, signal) => {
      h.kill.trigger();
      return annotate(obs, signal);
    };
    const { episode } = await runWith(h, g);
    assert.equal(episode.status, 'stopped');
    assert.equal(episode.error?.code, 'STOPPED');
    assert.equal(h.planner.requests.length, 0);
    assert.deepEqual(h.input.calls, []);
  });
});
