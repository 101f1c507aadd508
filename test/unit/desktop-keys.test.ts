import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatKeyCombo, isCharKey, isModifier, isNamedKey, normalizeKey, parseKeyCombo } from '../../common/keys.ts';
import { isForesightError } from '../../common/errors.ts';

test('normalizeKey maps the spellings models use to one canonical name', () => {
  const cases: Array<[string, string]> = [
    ['Ctrl', 'ctrl'],
    ['control', 'ctrl'],
    ['CTRL_L', 'ctrl'],
    ['cmd', 'meta'],
    ['Command', 'meta'],
    ['super', 'meta'],
    ['Win', 'meta'],
    ['Meta', 'meta'],
    ['option', 'alt'],
    ['AltGr', 'altright'],
    ['Return', 'enter'],
    ['enter', 'enter'],
    ['Esc', 'escape'],
    ['PgDn', 'pagedown'],
    ['Page_Up', 'pageup'],
    ['page down', 'pagedown'],
    ['ArrowLeft', 'left'],
    ['arrowleft', 'left'],
    ['Up', 'up'],
    ['F5', 'f5'],
    ['f12', 'f12'],
    ['BackSpace', 'backspace'],
    ['Del', 'delete'],
    ['space', 'space'],
    [' ', 'space'],
    ['\n', 'enter'],
    ['\t', 'tab'],
    ['A', 'a'],
    ['z', 'z'],
    ['7', '7'],
    ['/', '/'],
    ['plus', '+'],
    ['minus', '-'],
    ['?', '?'],
    ['É', 'é'],
    ['你', '你'],
    ['num5', 'numpad5'],
    ['KP_Add', 'add'],
    ['PrtSc', 'printscreen'],
    ['VolumeUp', 'volumeup'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeKey(input), want, `normalizeKey(${JSON.stringify(input)})`);
});

test('normalizeKey refuses unknown names with BAD_INPUT', () => {
  for (const bad of ['ctrlx', 'hyperdrive', 'f25', '', '\u0007']) {
    assert.throws(
      () => normalizeKey(bad),
      (e: unknown) => isForesightError(e, 'BAD_INPUT') && /Unknown key/.test(e.message),
      JSON.stringify(bad),
    );
  }
});

test('parseKeyCombo reads "+" and space separated combos and arrays, modifiers first', () => {
  assert.deepEqual(parseKeyCombo('ctrl+shift+s'), ['ctrl', 'shift', 's']);
  assert.deepEqual(parseKeyCombo('Ctrl + Shift + S'), ['ctrl', 'shift', 's']);
  assert.deepEqual(parseKeyCombo('ctrl s'), ['ctrl', 's']);
  assert.deepEqual(parseKeyCombo(['ctrl', 'shift', 's']), ['ctrl', 'shift', 's']);
  assert.deepEqual(parseKeyCombo(['ctrl+s']), ['ctrl', 's']);
  assert.deepEqual(parseKeyCombo(['s', 'Control']), ['ctrl', 's']);
  assert.deepEqual(parseKeyCombo('ctrl++'), ['ctrl', '+']);
  assert.deepEqual(parseKeyCombo('ctrl + +'), ['ctrl', '+']);
  assert.deepEqual(parseKeyCombo('+'), ['+']);
  assert.deepEqual(parseKeyCombo('ctrl+plus'), ['ctrl', '+']);
  assert.deepEqual(parseKeyCombo('ctrl-shift-t'), ['ctrl', 'shift', 't']);
  assert.deepEqual(parseKeyCombo('ctrl--'), ['ctrl', '-']);
  assert.deepEqual(parseKeyCombo('ctrl+Page Down'), ['ctrl', 'pagedown']);
  assert.deepEqual(parseKeyCombo('Page Down'), ['pagedown']);
  assert.deepEqual(parseKeyCombo('page-down'), ['pagedown']);
  assert.deepEqual(parseKeyCombo('cmd+alt+escape'), ['meta', 'alt', 'escape']);
  assert.deepEqual(parseKeyCombo(['enter']), ['enter']);
  assert.deepEqual(parseKeyCombo('ctrl+ctrl+c'), ['ctrl', 'c']);
  assert.deepEqual(parseKeyCombo(['ctrl', '+']), ['ctrl', '+']);
  assert.deepEqual(parseKeyCombo([' ']), ['space']);
});

test('parseKeyCombo refuses empty, dangling and unknown combos with BAD_INPUT', () => {
  for (const bad of ['', '   ', 'ctrl+', 'ctrl+foo', [], ['ctrl', 'nokey']]) {
    assert.throws(() => parseKeyCombo(bad), (e: unknown) => isForesightError(e, 'BAD_INPUT'), JSON.stringify(bad));
  }
});

test('key kinds and formatting', () => {
  assert.ok(isModifier('ctrl') && isModifier('altright') && !isModifier('a'));
  assert.ok(isNamedKey('enter') && !isNamedKey('a'));
  assert.ok(isCharKey('a') && isCharKey('?') && isCharKey('你') && !isCharKey('enter'));
  assert.equal(formatKeyCombo(parseKeyCombo('ctrl++')), 'ctrl+plus');
  assert.equal(formatKeyCombo(['ctrl', 'alt', 'k']), 'ctrl+alt+k');
});

test('a modifier followed by a word is a combination, not one key name ("ctrl right", "ctrl -")', () => {
  assert.deepEqual(parseKeyCombo('ctrl right'), ['ctrl', 'right']);
  assert.deepEqual(parseKeyCombo('ctrl -'), ['ctrl', '-']);
  assert.deepEqual(parseKeyCombo('page down'), ['pagedown']);
});
