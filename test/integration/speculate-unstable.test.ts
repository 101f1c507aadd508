/**
 * Issue 13, acceptance 2: on Xvfb, a test window that repaints itself every 40 ms (a spinner that
 * never stops) covers the very point the planner asks to click. Every forecast is made on a
 * frame the spinner has drawn over by the time it could be acted on, so none is executed: the
 * run ends with SCREEN_UNSTABLE ("The screen never held still …") after the bounded number of
 * new forecasts, and the window received no click — while the same click, sent by hand
 * afterwards, is counted (the window would have told).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { runCli } from '../harness/cli.ts';
import { startFakeOpenAI } from '../harness/fake-openai.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { openTestWindow } from '../harness/x-window.ts';
import { tracer1 } from '../harness/agent-fakes.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-unstable-'));
});
after(async () => {
  await desk.stop();
});

const SPINNER = { x: 500, y: 300, width: 120, height: 120 };

test('an animation that never stops: SCREEN_UNSTABLE after the bounded tries, and nothing was clicked', async () => {
  const spinner = await openTestWindow(desk.display, SPINNER);
  spinner.animate(40);
  const cx = SPINNER.x + SPINNER.width / 2;
  const cy = SPINNER.y + SPINNER.height / 2;
  // The planner names the point itself (grounder none): the middle of the spinner.
  const answer = tracer1({ action_type: 'click', step_instruction: 'click the spinner to cancel it', point: { space: 'screenshot', x: cx, y: cy } });
  const server = await startFakeOpenAI(() => ({ delayMs: 200, content: answer }));
  try {
    const db = join(dir, 'a.db');
    const res = await runCli(['run', 'Cancel the running job', '--planner', `openai:${server.baseURL}#tracer1-test`, '--grounder', 'none', '--db', db], desk.env);
    assert.equal(res.code, 1, `the run should fail:\n${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /SCREEN_UNSTABLE: The screen never held still: 4 forecasts in a row were made on frames that changed before they could be acted on, for \d+\.\d s; the last time \d+ drawings over /);
    assert.equal(spinner.clicks, 0, 'the spinner received no click');

    const store = SqliteEpisodeStore.open(db);
    try {
      const episode = store.getEpisode(store.listEpisodes({ limit: 1 })[0]!.id);
      assert.equal(episode.error?.code, 'SCREEN_UNSTABLE');
      assert.deepEqual(
        episode.steps.map((s) => s.executions.map((x) => x.result)),
        [['stale'], ['stale'], ['stale'], ['stale']],
      );
      assert.equal(episode.staleForecasts, 4);
    } finally {
      store.close();
    }

    // The window counts clicks: the one the agent did not send, sent by hand, is seen.
    desk.x('xdotool', ['mousemove', String(cx), String(cy), 'click', '1']);
    for (let i = 0; i < 50 && spinner.clicks === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(spinner.clicks, 1);
  } finally {
    spinner.close();
    await server.close();
  }
});
