/**
 * Pacing after typed text (executor.ts): any other input waits until typingDebounceMs after the
 * text and for the screen to settle; more text does not wait; a debt already paid by a slow
 * model costs nothing; a submitted line's Enter is paced the same way; the kill switch ends the
 * wait. Input and settle are recorded with the time they happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executeAction, type Pacing } from '../../main/agent/executor.ts';
import type { Input } from '../../common/ports.ts';
import type { Action } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';

const DEBOUNCE = 80;

function recorder() {
  const log: Array<{ what: string; at: number }> = [];
  const note = (what: string) => {
    log.push({ what, at: Date.now() });
  };
  const input: Input = {
    move: async () => note('move'),
    click: async () => note('click'),
    longPress: async () => note('longPress'),
    drag: async () => note('drag'),
    scroll: async () => note('scroll'),
    type: async (text) => note(`type ${JSON.stringify(text)}`),
    hotkey: async (keys) => note(`keys ${keys.join('+')}`),
    releaseAll: async () => note('releaseAll'),
  };
  const pacing: Pacing = { settle: async () => note('settle'), typingDebounceMs: DEBOUNCE };
  return { log, input, pacing };
}

const act = (a: Partial<Action> & Pick<Action, 'action_type'>): Action => ({ step_instruction: 'test', ...a }) as Action;
const signal = new AbortController().signal;

test('a key right after typed text waits out the debounce, then the screen settles, then the key', async () => {
  const { log, input, pacing } = recorder();
  await executeAction(act({ action_type: 'type', text: '/tmp/name.txt' }), {}, input, signal, pacing);
  await executeAction(act({ action_type: 'key', keys: ['Return'] }), {}, input, signal, pacing);
  assert.deepEqual(log.map((e) => e.what), ['type "/tmp/name.txt"', 'settle', 'keys Return']);
  assert.ok(log[2]!.at - log[0]!.at >= DEBOUNCE - 1, `Return ${log[2]!.at - log[0]!.at} ms after the text`);
});

test('a click right after typed text is paced too; more text is not', async () => {
  const { log, input, pacing } = recorder();
  await executeAction(act({ action_type: 'type', text: 'abc' }), {}, input, signal, pacing);
  await executeAction(act({ action_type: 'type', text: 'def' }), {}, input, signal, pacing);
  assert.deepEqual(log.map((e) => e.what), ['type "abc"', 'type "def"'], 'text after text goes at once');
  await executeAction(act({ action_type: 'click' }), { globalPoint: { x: 5, y: 5 } }, input, signal, pacing);
  assert.deepEqual(log.map((e) => e.what).slice(2), ['settle', 'click']);
  assert.ok(log[3]!.at - log[1]!.at >= DEBOUNCE - 1);
});

test('when the debounce has passed already (a model that thinks), nothing more is waited', async () => {
  const { log, input, pacing } = recorder();
  await executeAction(act({ action_type: 'type', text: 'abc' }), {}, input, signal, pacing);
  await new Promise((r) => setTimeout(r, DEBOUNCE + 20));
  await executeAction(act({ action_type: 'hotkey', keys: ['ctrl', 's'] }), {}, input, signal, pacing);
  assert.deepEqual(log.map((e) => e.what), ['type "abc"', 'keys ctrl+s']);
});

test('a submitted line presses Enter only after the debounce and a settled screen', async () => {
  const { log, input, pacing } = recorder();
  await executeAction(act({ action_type: 'type', text: 'search words\n' }), {}, input, signal, pacing);
  assert.deepEqual(log.map((e) => e.what), ['type "search words"', 'settle', 'keys enter']);
  assert.ok(log[2]!.at - log[0]!.at >= DEBOUNCE - 1);
  await executeAction(act({ action_type: 'key', keys: ['tab'] }), {}, input, signal, pacing);
  assert.deepEqual(log.map((e) => e.what).slice(3), ['keys tab'], 'the Enter was the input after the text; nothing more is owed');
});

test('the kill switch ends the wait with STOPPED and nothing is pressed', async () => {
  const { log, input, pacing } = recorder();
  const ac = new AbortController();
  pacing.typingDebounceMs = 5000;
  await executeAction(act({ action_type: 'type', text: 'abc' }), {}, input, ac.signal, pacing);
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(executeAction(act({ action_type: 'key', keys: ['Return'] }), {}, input, ac.signal, pacing), (e: unknown) => isForesightError(e, 'STOPPED'));
  assert.deepEqual(log.map((e) => e.what), ['type "abc"']);
});
