/**
 * A real episode database for the app tests, written through SqliteEpisodeStore the way the
 * agent loop writes it: one finished episode (a person edits the first forecast, then the
 * agent saves the file) and one that failed with PARSE_ERROR. Screenshots are PNGs drawn
 * with sharp: 640×400 images of a 1280×800 display, so every point the page draws has to go
 * through the frame geometry.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { actionSchema, type Action, type ActionFields, type ActionType, type Forecast } from '../../common/actions.ts';
import type { FrameGeometry } from '../../common/coords.ts';
import type { Observation } from '../../common/ports.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';

export const GEOMETRY: FrameGeometry = {
  display: { id: 'primary', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true },
  imageWidth: 640,
  imageHeight: 400,
};

/** Screenshot pixels of the toolbar's Save button (where the executed step 1 clicks). */
export const SAVE_BUTTON = { x: 140, y: 52 };
/** Screenshot pixels of the toolbar's Open button (where the model first wanted to click). */
export const OPEN_BUTTON = { x: 85, y: 52 };
/** Screenshot pixels of the dialog's Save button (step 2). */
export const DIALOG_SAVE = { x: 452, y: 283 };

export const TASKS = {
  finished: 'Save the document as report.txt',
  failed: 'Open the calculator and compute 12 × 7',
} as const;

export const EDITED_INSTRUCTION = "click on 'Save' in the toolbar";
export const ORIGINAL_INSTRUCTION = "click on 'Open' in the toolbar";

const T0 = Date.UTC(2025, 9, 9, 12, 0, 0);

const toGlobal = (p: { x: number; y: number }) => ({
  x: (p.x / GEOMETRY.imageWidth) * GEOMETRY.display.bounds.width,
  y: (p.y / GEOMETRY.imageHeight) * GEOMETRY.display.bounds.height,
});

function button(x: number, y: number, w: number, label: string, primary = false): string {
  return `<rect x="${x}" y="${y}" width="${w}" height="26" rx="4" fill="${primary ? '#3b5bdb' : '#fff'}" stroke="#9aa3af"/>
  <text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="13" fill="${primary ? '#fff' : '#222'}">${label}</text>`;
}

function editorSvg(dialog: boolean): string {
  const lines = ['Quarterly report — draft', '', 'Revenue grew 12% over the last quarter,', 'driven by the new subscription plans.', 'Costs stayed flat.']
    .map((t, i) => `<text x="24" y="${104 + i * 22}" font-family="DejaVu Sans Mono, monospace" font-size="14" fill="#222">${t}</text>`)
    .join('');
  const dlg = dialog
    ? `<rect x="0" y="0" width="640" height="400" fill="#000" fill-opacity="0.25"/>
       <rect x="150" y="120" width="340" height="190" rx="8" fill="#f8f9fa" stroke="#868e96"/>
       <text x="170" y="150" font-family="DejaVu Sans, sans-serif" font-size="15" font-weight="bold" fill="#222">Save As</text>
       <text x="170" y="190" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#444">Name:</text>
       <rect x="220" y="172" width="250" height="26" fill="#fff" stroke="#3b5bdb"/>
       <text x="228" y="190" font-family="DejaVu Sans Mono, monospace" font-size="13" fill="#222">report.txt</text>
       ${button(300, 270, 80, 'Cancel')}${button(DIALOG_SAVE.x - 40, 270, 80, 'Save', true)}`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400">
    <rect width="640" height="400" fill="#dee2e6"/>
    <rect x="0" y="0" width="640" height="28" fill="#343a40"/>
    <text x="12" y="19" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#f1f3f5">report-draft.txt — Mousepad</text>
    <rect x="0" y="28" width="640" height="12" fill="#e9ecef"/>
    <rect x="0" y="38" width="640" height="30" fill="#f1f3f5" stroke="#ced4da"/>
    ${button(OPEN_BUTTON.x - 80, 39, 50, 'New')}${button(OPEN_BUTTON.x - 25, 39, 50, 'Open')}${button(SAVE_BUTTON.x - 25, 39, 50, 'Save')}
    <rect x="12" y="80" width="616" height="306" fill="#fff" stroke="#ced4da"/>
    ${lines}${dlg}
  </svg>`;
}

async function observation(dialog: boolean, capturedAt: number): Promise<Observation> {
  const png = new Uint8Array(await sharp(Buffer.from(editorSvg(dialog))).png().toBuffer());
  return {
    frameId: createHash('sha256').update(png).digest('hex'),
    png,
    geometry: GEOMETRY,
    raw: { width: GEOMETRY.imageWidth, height: GEOMETRY.imageHeight, channels: 4, order: 'rgba', data: new Uint8Array(0) },
    capturedAt,
  };
}

/** A member of the union (checked: a fixture that misses a field its type needs fails here). */
const act = (action_type: ActionType, step_instruction: string, extra: Omit<ActionFields, 'action_type' | 'step_instruction'> = {}): Action =>
  actionSchema.parse({ action_type, step_instruction, ...extra });

function forecast(...actions: Action[]): Forecast {
  return {
    format: 'tracer1',
    thought: 'The document is open and unsaved; the toolbar has a Save button.',
    steps: actions.map((a, i) => ({
      screenshot_abstraction: `editor, step ${i + 1}`,
      action: a,
      status: i === actions.length - 1 ? 'done' : 'not done',
    })),
  };
}

export interface Seeded {
  finishedId: string;
  failedId: string;
  /** sha256 of the first screenshot of the finished episode. */
  firstFrame: string;
}

/** Writes both episodes into a new database at dbPath and closes it. */
export async function seedEpisodes(dbPath: string): Promise<Seeded> {
  const clock = { t: T0 };
  const store = SqliteEpisodeStore.open(dbPath, { now: () => clock.t });
  try {
    // ---- the failed one first, so the finished one is the newest
    const failedId = store.createEpisode({
      task: TASKS.failed,
      mode: 'agent',
      planner: 'openai:http://127.0.0.1:8000/v1#qwen2.5-vl-7b',
      grounder: 'ocr',
      settings: { horizon: 5, approval: 'never', retries: 2 },
    });
    clock.t += 500;
    const f1 = store.beginStep(failedId, 1, await observation(false, clock.t));
    for (let attempt = 1; attempt <= 3; attempt++) {
      clock.t += 900;
      store.recordForecast(f1, {
        attempt,
        raw: 'I think I should click the calculator icon in the dock.',
        error: { code: 'PARSE_ERROR', message: 'No <answer> block in the model output', details: { attempt } },
        latencyMs: 880 + attempt,
        model: 'qwen2.5-vl-7b',
        history: [],
      });
    }
    clock.t += 100;
    store.finishEpisode(failedId, {
      status: 'failed',
      error: { code: 'PARSE_ERROR', message: 'The planner gave 3 unusable answers in a row (No <answer> block in the model output)' },
    });

    // ---- the finished one
    clock.t = T0 + 60_000;
    const finishedId = store.createEpisode({
      task: TASKS.finished,
      mode: 'agent',
      planner: 'script:test/fixtures/save-as.json',
      grounder: 'ocr',
      settings: { horizon: 3, approval: 'each', maxSteps: 30 },
    });

    // Step 1: the model wants "Open"; a person edits it to "Save"; the agent clicks Save.
    clock.t += 400;
    const obs1 = await observation(false, clock.t);
    const s1 = store.beginStep(finishedId, 1, obs1);
    const planned = forecast(act('click', ORIGINAL_INSTRUCTION), act('type', 'type the file name', { text: 'report.txt' }), act('key', 'confirm', { keys: ['enter'] }));
    const edited = forecast(act('click', EDITED_INSTRUCTION), act('type', 'type the file name', { text: 'report.txt' }), act('key', 'confirm', { keys: ['enter'] }));
    clock.t += 700;
    store.recordForecast(s1, {
      attempt: 1,
      raw: '<think>…</think><answer>Step 1: …</answer>',
      forecast: planned,
      latencyMs: 655,
      model: 'script',
      prompt: { template: 'tracer1-desktop', version: '1', system: 'You are a GUI agent.', user: `Instruction: ${TASKS.finished}` },
      history: [],
    });
    clock.t += 30;
    store.recordGrounding(s1, 0, { point: { space: 'screenshot', ...OPEN_BUTTON }, confidence: 0.93, grounder: 'ocr', detail: 'Open', latencyMs: 14 });
    clock.t += 12_000;
    store.recordApproval(s1, { policy: 'each', decision: 'edit', original: planned, edited, waitedMs: 12_000 });
    clock.t += 30;
    store.recordGrounding(s1, 0, { point: { space: 'screenshot', ...SAVE_BUTTON }, confidence: 0.95, grounder: 'ocr', detail: 'Save', latencyMs: 11 });
    clock.t += 150;
    store.recordExecution(s1, {
      action: edited.steps[0]!.action,
      globalPoint: toGlobal(SAVE_BUTTON),
      result: 'ok',
      durationMs: 120,
      settle: { settled: true, waitedMs: 420, frames: 5 },
    });

    // Step 2: the dialog is open with the name typed; click its Save button.
    clock.t += 500;
    const s2 = store.beginStep(finishedId, 2, await observation(true, clock.t), { settled: true, waitedMs: 420, frames: 5 });
    const step2 = forecast(act('click', "click on the 'Save' button of the dialog"), act('finished', 'the file is saved', { answer: 'Saved as report.txt' }));
    clock.t += 610;
    store.recordForecast(s2, { attempt: 1, raw: '<answer>…</answer>', forecast: step2, latencyMs: 610, model: 'script', history: [{ step: 1, action: 'click — Save', outcome: 'ok' }] });
    clock.t += 20;
    store.recordGrounding(s2, 0, { point: { space: 'screenshot', ...DIALOG_SAVE }, confidence: 0.9, grounder: 'ocr', detail: 'Save', latencyMs: 9 });
    clock.t += 3_000;
    store.recordApproval(s2, { policy: 'each', decision: 'approve', original: step2, waitedMs: 3_000 });
    clock.t += 100;
    store.recordExecution(s2, { action: step2.steps[0]!.action, globalPoint: toGlobal(DIALOG_SAVE), result: 'ok', durationMs: 95 });

    // Step 3: done.
    clock.t += 600;
    const s3 = store.beginStep(finishedId, 3, await observation(false, clock.t), { settled: true, waitedMs: 380, frames: 4 });
    const done = forecast(act('finished', 'the file is saved', { answer: 'Saved as report.txt' }));
    clock.t += 400;
    store.recordForecast(s3, { attempt: 1, raw: '<answer>…</answer>', forecast: done, latencyMs: 400, model: 'script', history: [] });
    store.recordExecution(s3, { action: done.steps[0]!.action, result: 'ok', durationMs: 0 });
    clock.t += 10;
    store.finishEpisode(finishedId, { status: 'finished', answer: 'Saved as report.txt' });

    return { finishedId, failedId, firstFrame: obs1.frameId };
  } finally {
    store.close();
  }
}
