import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appNameIn, directionIn, quotedTextIn } from '../../common/formats/instruction-args.ts';
import { parseForecast } from '../../common/formats/index.ts';

describe("arguments read from a step's words (the prototype's prompt puts them there)", () => {
  test('direction words', () => {
    assert.equal(directionIn('scroll down to reveal the settings'), 'down');
    assert.equal(directionIn('Scroll UP to the top'), 'up');
    assert.equal(directionIn('scroll leftwards to the first column'), 'left');
    assert.equal(directionIn('scroll to reveal the settings'), undefined);
    assert.equal(directionIn('scroll the dropdown list'), undefined, 'no word inside another word');
  });

  test('quoted text: the closing quote is the one before "in …" or the end, so an apostrophe inside stays', () => {
    assert.equal(quotedTextIn("type 'hello / world' in the search box"), 'hello / world');
    assert.equal(quotedTextIn("type 'it's done' in the note"), "it's done");
    assert.equal(quotedTextIn('type "New York" into the destination field'), 'New York');
    assert.equal(quotedTextIn('type “Grüße” in the box'), 'Grüße');
    assert.equal(quotedTextIn("type 'a' in the 'Name' field"), 'a');
    assert.equal(quotedTextIn('type the name'), undefined);
  });

  test('app names', () => {
    assert.equal(appNameIn('open Gmail app'), 'Gmail');
    assert.equal(appNameIn('launch the Google Maps application to find a cafe'), 'Google Maps');
    assert.equal(appNameIn("open 'Simple Calendar Pro'"), 'Simple Calendar Pro');
    assert.equal(appNameIn('open it'), undefined);
  });

  test('an answer with only action_type and step_instruction parses into executable actions', () => {
    const step = (n: number, type: string, instruction: string) =>
      `Step ${n}: "screenshot_abstraction": "s", "action": ${JSON.stringify({ action_type: type, step_instruction: instruction })}, "status": "not done"`;
    const f = parseForecast(
      `<think>t</think><answer>\n${[
        step(1, 'open_app', 'open Gmail app'),
        step(2, 'scroll', 'scroll down to reveal more emails'),
        step(3, 'input_text', "type 'meeting notes' in the search box"),
      ].join('\n')}\n</answer>`,
      'tracer1',
    );
    assert.deepEqual(
      f.steps.map((s) => s.action),
      [
        { action_type: 'open_app', step_instruction: 'open Gmail app', app: 'Gmail' },
        { action_type: 'scroll', step_instruction: 'scroll down to reveal more emails', direction: 'down' },
        { action_type: 'input_text', step_instruction: "type 'meeting notes' in the search box", text: 'meeting notes' },
      ],
    );
  });
});
