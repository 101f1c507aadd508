/**
 * Capture memory made ready by a worker thread (main/desktop/warm-memory.ts): after the first
 * request, the next takes are warm buffers of the asked size, zeroed and each its own; a new
 * size starts over; closed, it still hands out (cold) memory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WarmBuffers } from '../../main/desktop/warm-memory.ts';

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

void describe('warm capture memory', () => {
  void it('hands out buffers of the asked size, warm once the worker made them ready, never the same twice', async () => {
    const m = new WarmBuffers(2);
    const first = m.take(4096 * 10);
    assert.equal(first.length, 4096 * 10);
    assert.equal(m.cold, 1);
    await until(() => (m as unknown as { ready: unknown[] }).ready.length === 2);
    const a = m.take(4096 * 10);
    const b = m.take(4096 * 10);
    assert.equal(m.warm, 2);
    assert.ok(a.every((v) => v === 0) && b.every((v) => v === 0), 'zeroed');
    a[0] = 7;
    assert.notEqual(a.buffer, b.buffer);
    assert.equal(b[0], 0);
    // Another size: what was ready does not fit.
    const c = m.take(4096 * 3);
    assert.equal(c.length, 4096 * 3);
    assert.equal(m.cold, 2);
    await m.close();
    assert.equal(m.take(100).length, 100, 'closed: still memory, cold');
  });
});
