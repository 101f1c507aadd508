/** toRgb (main/desktop/observe.ts): the PNG encoder's input from BGRA, RGBA and RGB captures, byte for byte. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { toRgb } from '../../main/desktop/observe.ts';

void it('packs BGRA, RGBA (also at an odd offset) and RGB pixels as RGB', () => {
  const bgra = new Uint8Array([1, 2, 3, 255, 40, 50, 60, 255, 7, 8, 9, 0]);
  assert.deepEqual([...toRgb({ width: 3, height: 1, channels: 4, order: 'bgra', data: bgra })], [3, 2, 1, 60, 50, 40, 9, 8, 7]);
  assert.deepEqual([...toRgb({ width: 3, height: 1, channels: 4, order: 'rgba', data: bgra })], [1, 2, 3, 40, 50, 60, 7, 8, 9]);
  const shifted = new Uint8Array(13);
  shifted.set(bgra, 1);
  assert.deepEqual([...toRgb({ width: 3, height: 1, channels: 4, order: 'bgra', data: shifted.subarray(1) })], [3, 2, 1, 60, 50, 40, 9, 8, 7]);
  const into = Buffer.alloc(9);
  assert.equal(toRgb({ width: 3, height: 1, channels: 4, order: 'bgra', data: bgra }, into), into, 'the buffer given is used');
  assert.deepEqual([...toRgb({ width: 2, height: 1, channels: 3, order: 'rgba', data: new Uint8Array([1, 2, 3, 4, 5, 6]) })], [1, 2, 3, 4, 5, 6]);
});
