/**
 * The episode list and one episode, over a real episode database (seed.ts, written through the
 * store) and the app's real call handlers: filters narrow the list, an episode opens as a
 * timeline whose steps show what a person decided.
 */
import '../harness/happy-dom.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { CALLS, type Caller, type CallName } from '../../common/contract.ts';
import { toErrorInfo } from '../../common/errors.ts';
import { createHandlers } from '../../main/shell/api.ts';
import { EpisodesView } from '../../renderer/views/EpisodesView.tsx';
import { EpisodeView } from '../../renderer/views/EpisodeView.tsx';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { EDITED_INSTRUCTION, ORIGINAL_INSTRUCTION, TASKS, seedEpisodes, type Seeded } from '../e2e/seed.ts';

let dir: string;
let store: SqliteEpisodeStore;
let seeded: Seeded;
let call: Caller;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-renderer-'));
  const db = join(dir, 'episodes.db');
  seeded = await seedEpisodes(db);
  store = SqliteEpisodeStore.open(db);
  const handlers = createHandlers({ store, info: { version: 'test', dbPath: db } });
  // The calls as the server runs them: the request and the answer checked by the contract.
  call = (async (name: CallName, request: unknown) => {
    try {
      const handler = handlers[name] as (r: unknown) => unknown;
      return { ok: true, value: CALLS[name].response.parse(await handler(CALLS[name].request.parse(request))) };
    } catch (e) {
      return { ok: false, error: toErrorInfo(e) };
    }
  }) as Caller;
});

after(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  cleanup();
  history.replaceState(null, '', '/');
});

const rows = () => [...document.querySelectorAll('tr.episode-row')].map((r) => r.querySelector('.task a')?.textContent);

/** The list at the URL the filters wrote (the view reads its filters from the hash). */
function renderList() {
  const view = () => <EpisodesView call={call} query={new URLSearchParams(location.hash.split('?')[1] ?? '')} />;
  const r = render(view());
  const onHash = () => r.rerender(view());
  window.addEventListener('hashchange', onHash);
  return () => window.removeEventListener('hashchange', onHash);
}

void describe('episode list', () => {
  void it('shows every episode, newest first', async () => {
    const stop = renderList();
    await waitFor(() => assert.equal(rows().length, 2));
    assert.deepEqual(rows(), [TASKS.finished, TASKS.failed]);
    stop();
  });

  void it('narrows the list by status, by words, by model, and says when nothing matches', async () => {
    const stop = renderList();
    await waitFor(() => assert.equal(rows().length, 2));
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'failed' } });
    await waitFor(() => assert.deepEqual(rows(), [TASKS.failed]));
    assert.match(location.hash, /status=failed/, 'the filter is in the URL, so a reload keeps it');

    fireEvent.change(screen.getByLabelText('Status'), { target: { value: '' } });
    await waitFor(() => assert.equal(rows().length, 2));
    fireEvent.change(screen.getByLabelText('Search episodes'), { target: { value: 'report.txt' } });
    await waitFor(() => assert.deepEqual(rows(), [TASKS.finished]));

    fireEvent.change(screen.getByLabelText('Search episodes'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Model'), { target: { value: 'openai:http://127.0.0.1:8000/v1#qwen2.5-vl-7b' } });
    await waitFor(() => assert.deepEqual(rows(), [TASKS.failed]));

    fireEvent.change(screen.getByLabelText('Model'), { target: { value: '' } });
    // The finished episode ran with a person approving each step, the failed one automatically.
    fireEvent.change(screen.getByLabelText('Mode'), { target: { value: 'each' } });
    await waitFor(() => assert.deepEqual(rows(), [TASKS.finished]));
    fireEvent.change(screen.getByLabelText('Mode'), { target: { value: 'never' } });
    await waitFor(() => assert.deepEqual(rows(), [TASKS.failed]));

    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'finished' } });
    await waitFor(() => assert.deepEqual(rows(), []));
    assert.match(document.querySelector('.empty')?.textContent ?? '', /No episode matches these filters/);
    stop();
  });

  void it('filters by date (the seeded episodes started on 2025-10-09)', async () => {
    const stop = renderList();
    await waitFor(() => assert.equal(rows().length, 2));
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2025-10-08' } });
    await waitFor(() => assert.deepEqual(rows(), []));
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2025-10-09' } });
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2025-10-09' } });
    await waitFor(() => assert.equal(rows().length, 2));
    stop();
  });
});

void describe('one episode', () => {
  void it('opens as a timeline; a step shows the person’s edit as original → edited', async () => {
    render(<EpisodeView call={call} id={seeded.finishedId} query={new URLSearchParams()} />);
    await waitFor(() => assert.equal(document.querySelectorAll('.rail-item').length, 3));
    // Thumbnails in the rail, the full screenshot only for the selected step.
    const rail = [...document.querySelectorAll<HTMLImageElement>('.rail img')].map((i) => i.getAttribute('src'));
    assert.ok(rail.every((src) => src?.startsWith('/thumbs/')), rail.join(', '));
    assert.deepEqual([...document.querySelectorAll<HTMLImageElement>('section.step img')].map((i) => i.getAttribute('src')), [`/blobs/${seeded.firstFrame}.png`]);
    assert.match(document.querySelector('.rail-item[data-step="1"]')?.textContent ?? '', /edited/);
    const approval = document.querySelector('section.step article.approval');
    assert.match(approval?.textContent ?? '', /Edited by a person/);
    assert.equal(approval?.querySelector('.original .instruction')?.textContent, ORIGINAL_INSTRUCTION);
    assert.equal(approval?.querySelector('.edited .instruction')?.textContent, EDITED_INSTRUCTION);
  });
});

void describe('deleting an episode', () => {
  void it('asks first, then deletes it from the store', async () => {
    let deleted = false;
    render(<EpisodeView call={call} id={seeded.failedId} query={new URLSearchParams()} />);
    const del = await screen.findByText('Delete');
    fireEvent.click(del.closest('button') as HTMLButtonElement);
    // Nothing is deleted before the person confirms.
    await screen.findByText('Delete this episode and its screenshots?');
    const listed = await call('episodes.list', {});
    assert.ok(listed.ok && listed.value.some((e) => e.id === seeded.failedId));
    cleanup();
    render(<EpisodeView call={call} id={seeded.failedId} query={new URLSearchParams()} />);
    fireEvent.click((await screen.findByText('Delete')).closest('button') as HTMLButtonElement);
    const confirm = document.querySelector<HTMLButtonElement>('.confirm button.danger');
    assert.ok(confirm);
    // EpisodeView navigates to the list when done; the store is what the person would check.
    window.addEventListener('hashchange', () => (deleted = true), { once: true });
    fireEvent.click(confirm);
    await waitFor(() => assert.ok(deleted, 'went back to the list'));
    const after = await call('episodes.list', {});
    assert.ok(after.ok);
    assert.deepEqual(after.value.map((e) => e.task), [TASKS.finished]);
  });
});
