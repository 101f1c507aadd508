/**
 * The app keeps out of the agent's way: a rectangle given as a no-click zone (the app's own
 * window, `--keep-out` / the app's `no_click_zones` line) is never clicked into — the point is
 * refused before anything moves, recorded as OUT_OF_SCREEN with a message saying why — while
 * points elsewhere act as usual; the zones may change while the run goes on. And a point a
 * person dragged in an edit is where the action goes, without asking the grounder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rect } from '../../common/coords.ts';
import { click, clickAt, globalOf, harness, LABELS, tracer1 } from '../harness/agent-fakes.ts';
import { applyStepEdit } from '../../common/contract.ts';

/** The app's window, in global pixels, over the label "Save" (global (1100, 700)). */
const APP_WINDOW: Rect = { x: 1000, y: 600, width: 280, height: 200 };

test('a click into the app window is refused before anything moves; clicks elsewhere act', async () => {
  const finished = { action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' as const };
  const h = harness({ planner: [tracer1(click('Save')), tracer1(click('File')), tracer1(finished)] });
  const { episode } = await h.run({ noClickZones: [APP_WINDOW] });
  assert.equal(episode.status, 'finished');
  assert.deepEqual(h.input.calls, [clickAt('File')], 'nothing reached the app window');
  const refused = episode.steps[0]!.executions[0]!;
  assert.equal(refused.result, 'error');
  assert.equal(refused.error?.code, 'OUT_OF_SCREEN');
  assert.match(refused.error?.message ?? '', /Foresight's own window/);
  assert.equal(refused.error?.details?.reason, 'no_click_zone');
  assert.deepEqual(refused.error?.details?.zone, APP_WINDOW);
});

test('the zones are read at every step: a window that moved over a target protects it from then on', async () => {
  const zones: Rect[] = [];
  const finished = { action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' as const };
  const h = harness({
    planner: [
      tracer1(click('File')),
      () => {
        // The app window moved over the File menu between the steps.
        const f = globalOf(LABELS.File!);
        zones.push({ x: f.x - 20, y: f.y - 10, width: 40, height: 20 });
        return tracer1(click('File'));
      },
      tracer1(finished),
    ],
  });
  const { episode } = await h.run({ noClickZones: zones });
  assert.deepEqual(h.input.calls, [clickAt('File')], 'the second click on File, now under the window, was refused');
  assert.equal(episode.steps[1]!.executions[0]!.error?.code, 'OUT_OF_SCREEN');
});

test('a point a person dragged in an edit is where the click goes; the grounder is not asked for it', async () => {
  const finished = { action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' as const };
  const dragged = { x: 100, y: 60 }; // screenshot pixels of the 128×80 frame: the "Next" label's place
  const h = harness({
    planner: [tracer1(click('Save')), tracer1(finished)],
    gate: [
      (req) => {
        const edited = applyStepEdit(req.forecast, 0, { point: dragged });
        assert.ok(edited.ok);
        return { kind: 'edit', forecast: edited.forecast };
      },
    ],
  });
  const { episode } = await h.run({ approval: 'each' });
  assert.equal(episode.status, 'finished');
  assert.deepEqual(h.input.calls, [{ kind: 'click', point: globalOf(dragged), button: 'left', count: 1 }]);
  const groundings = episode.steps[0]!.groundings;
  assert.equal(groundings.at(-1)?.grounder, 'person');
  assert.equal(groundings.filter((g) => g.grounder !== 'person').length, 1, 'only the planner\'s forecast was grounded by the grounder');
  const approval = episode.steps[0]!.approvals[0]!;
  const original = approval.original.steps[0]!.action;
  assert.equal('point' in original ? original.point : undefined, undefined, 'the original forecast is kept as the planner wrote it');
});
