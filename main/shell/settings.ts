/**
 * The app's settings and API keys.
 *
 * Settings live in `<data folder>/settings.json` (0600: the endpoints say which machines the
 * user talks to). API keys are kept apart, behind the KeyStore port, and never travel back to
 * the page: the page learns `hasKey` and nothing else.
 *  - browser mode: `<data folder>/keys.json`, created 0600 and put back to 0600 when found
 *    wider, in a folder of the user's;
 *  - Electron: main/shell/electron-main.cjs encrypts keys with safeStorage (the OS keychain)
 *    and hands them to this server at start and when one is set, so here they are only in memory
 *    (MemoryKeyStore); nothing on disk is plaintext.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import {
  endpointInputSchema,
  WINDOW_POLICIES,
  type EndpointView,
  type ModelChoice,
  type Preset,
  type SettingsView,
} from '../../common/contract.ts';
import { ForesightError } from '../../common/errors.ts';
import type { ResolvedModel } from './runs.ts';

/** Built-in starting points for an endpoint (the page prefills its form from one). */
export const PRESETS: readonly Preset[] = [
  {
    id: 'ui-tars-1.5',
    label: 'UI-TARS-1.5',
    description: 'Plans one step at a time and gives its own point; use the grounder "none".',
    role: 'planner',
    format: 'uitars-1.5',
    modelHint: 'ui-tars-1.5-7b',
  },
  {
    id: 'qwen2.5-vl',
    label: 'Qwen2.5-VL',
    description: 'A general VLM asked for TraceR1 forecasts; ground with OCR or a grounding endpoint.',
    role: 'planner',
    format: 'tracer1',
    modelHint: 'qwen2.5-vl-7b-instruct',
  },
  {
    id: 'tracer1',
    label: 'TraceR1 format',
    description: 'Any model trained on TraceR1 answers (<think>…</think><answer>Step 1: …</answer>).',
    role: 'planner',
    format: 'tracer1',
  },
  {
    id: 'ui-tars-grounder',
    label: 'UI-TARS as grounder',
    description: 'The paper\'s frozen grounding tool: turns a step instruction into a point.',
    role: 'grounder',
    convention: 'uitars',
    modelHint: 'ui-tars-7b',
  },
  {
    id: 'qwen2.5-vl-grounder',
    label: 'Qwen2.5-VL as grounder',
    description: 'Answers with a point in the resized image\'s pixels.',
    role: 'grounder',
    convention: 'qwen25vl',
    modelHint: 'qwen2.5-vl-7b-instruct',
  },
];

const settingsFileSchema = z.object({
  endpoints: z.array(endpointInputSchema).default([]),
  killKey: z.string().min(1).default('ctrl+alt+k'),
  windowPolicy: z.enum(WINDOW_POLICIES).default('panel'),
  dataDir: z.string().optional(),
  /** Set when the first run was started (the first-start screen stays until then). */
  started: z.boolean().default(false),
});
type SettingsFile = z.infer<typeof settingsFileSchema>;

/** Where keys live. The server never hands a key to the page. */
export interface KeyStore {
  readonly kind: SettingsView['keyStorage'];
  has(endpointId: string): boolean;
  get(endpointId: string): string | undefined;
  set(endpointId: string, key: string): void;
  delete(endpointId: string): void;
}

/** Writes `text` to `file` with mode 0600 through a temporary file (no moment with the old mode or half a file). */
function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Browser mode: keys in a JSON file only this user may read. */
export class FileKeyStore implements KeyStore {
  readonly kind = 'file' as const;
  private keys: Record<string, string>;

  constructor(private readonly file: string) {
    this.keys = {};
    if (existsSync(file)) {
      // Someone widened it: a key file others can read is narrowed again before anything else.
      if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success) throw new ForesightError('STORE_CORRUPT', `${file} is not a map of endpoint ids to keys; move it away and set the keys again in Settings`, { file });
      this.keys = parsed.data;
    }
  }

  has(id: string): boolean {
    return Object.hasOwn(this.keys, id);
  }

  get(id: string): string | undefined {
    return Object.hasOwn(this.keys, id) ? this.keys[id] : undefined;
  }

  set(id: string, key: string): void {
    this.keys = { ...this.keys, [id]: key };
    writePrivate(this.file, JSON.stringify(this.keys));
  }

  delete(id: string): void {
    if (!this.has(id)) return;
    const { [id]: _gone, ...rest } = this.keys;
    this.keys = rest;
    writePrivate(this.file, JSON.stringify(this.keys));
  }
}

/** Electron: keys decrypted by main (safeStorage) and held only in memory here. */
export class MemoryKeyStore implements KeyStore {
  readonly kind = 'safeStorage' as const;
  private readonly keys = new Map<string, string>();
  has(id: string): boolean {
    return this.keys.has(id);
  }
  get(id: string): string | undefined {
    return this.keys.get(id);
  }
  set(id: string, key: string): void {
    this.keys.set(id, key);
  }
  delete(id: string): void {
    this.keys.delete(id);
  }
}

export class Settings {
  private data: SettingsFile;

  constructor(
    readonly file: string,
    readonly keys: KeyStore,
    readonly dbPath: string,
    /** Episodes already recorded: not a first start. */
    private readonly hasEpisodes: () => boolean,
  ) {
    let raw: unknown = {};
    if (existsSync(file)) {
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new ForesightError('STORE_CORRUPT', `${file} is not JSON (${e instanceof Error ? e.message : String(e)}); fix it or move it away`, { file });
      }
    }
    const parsed = settingsFileSchema.safeParse(raw);
    if (!parsed.success) throw new ForesightError('STORE_CORRUPT', `${file} does not hold Foresight's settings; fix it or move it away`, { file });
    this.data = parsed.data;
  }

  static open(dataDir: string, dbPath: string, keys: KeyStore | 'file', hasEpisodes: () => boolean): Settings {
    const keyStore = keys === 'file' ? new FileKeyStore(join(dataDir, 'keys.json')) : keys;
    return new Settings(join(dataDir, 'settings.json'), keyStore, dbPath, hasEpisodes);
  }

  private save(): void {
    writePrivate(this.file, JSON.stringify(this.data, null, 2));
  }

  view(): SettingsView {
    return {
      endpoints: this.data.endpoints.map((e): EndpointView => ({ ...e, hasKey: this.keys.has(e.id) })),
      presets: [...PRESETS],
      killKey: this.data.killKey,
      windowPolicy: this.data.windowPolicy,
      dataDir: this.data.dataDir ?? dirname(this.dbPath),
      dbPath: this.dbPath,
      firstStart: !this.data.started && this.data.endpoints.length === 0 && !this.hasEpisodes(),
      keyStorage: this.keys.kind,
    };
  }

  update(patch: { endpoints?: z.infer<typeof endpointInputSchema>[]; killKey?: string; windowPolicy?: SettingsFile['windowPolicy']; dataDir?: string }): SettingsView {
    if (patch.endpoints) {
      const ids = new Set<string>();
      for (const e of patch.endpoints) {
        if (ids.has(e.id)) throw new ForesightError('BAD_INPUT', `Two endpoints have the id "${e.id}"; give each its own`);
        ids.add(e.id);
      }
      // A key whose endpoint is gone goes with it.
      for (const old of this.data.endpoints) if (!ids.has(old.id)) this.keys.delete(old.id);
    }
    this.data = {
      ...this.data,
      ...(patch.endpoints ? { endpoints: patch.endpoints } : {}),
      ...(patch.killKey !== undefined ? { killKey: patch.killKey } : {}),
      ...(patch.windowPolicy !== undefined ? { windowPolicy: patch.windowPolicy } : {}),
      ...(patch.dataDir !== undefined ? { dataDir: patch.dataDir } : {}),
    };
    this.save();
    return this.view();
  }

  markStarted(): void {
    if (this.data.started) return;
    this.data = { ...this.data, started: true };
    this.save();
  }

  endpoint(id: string): z.infer<typeof endpointInputSchema> {
    const e = this.data.endpoints.find((x) => x.id === id);
    if (!e) throw new ForesightError('NOT_FOUND', `There is no endpoint "${id}" in Settings; add it there first`, { endpointId: id });
    return e;
  }

  setKey(endpointId: string, key: string): { endpointId: string; hasKey: boolean } {
    this.endpoint(endpointId);
    this.keys.set(endpointId, key);
    return { endpointId, hasKey: true };
  }

  clearKey(endpointId: string): { endpointId: string; hasKey: boolean } {
    this.keys.delete(endpointId);
    return { endpointId, hasKey: false };
  }

  get killKey(): string {
    return this.data.killKey;
  }

  /** A run's `--planner` / `--grounder` spec and key for a choice of the page. */
  resolveModel(choice: ModelChoice, role: 'planner' | 'grounder'): ResolvedModel {
    switch (choice.kind) {
      case 'spec':
        return { spec: choice.spec };
      case 'builtin':
        if (role === 'planner') throw new ForesightError('BAD_INPUT', `"${choice.id}" is a grounder; choose an endpoint or a spec as the planner`);
        return { spec: choice.id };
      case 'endpoint': {
        const e = this.endpoint(choice.endpointId);
        const query =
          role === 'planner' ? (e.format ? `?format=${e.format}` : '') : e.convention ? `?convention=${e.convention}` : '';
        const key = this.keys.get(e.id);
        return { spec: `openai:${e.baseUrl}#${e.model}${query}`, ...(key !== undefined ? { apiKey: key } : {}) };
      }
    }
  }
}

/**
 * "Test connection": GET <baseUrl>/models with the key, within 5 s. Any answer in JSON is a
 * live endpoint; the models it lists are returned so the page can offer them.
 */
export async function testConnection(baseUrl: string, key: string | undefined): Promise<{ ok: boolean; latencyMs: number; models?: string[]; error?: { code: 'ENDPOINT_ERROR'; message: string } }> {
  const t0 = performance.now();
  const url = `${baseUrl.replace(/\/+$/, '')}/models`;
  try {
    const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(5000) });
    const latencyMs = performance.now() - t0;
    if (!res.ok) {
      return { ok: false, latencyMs, error: { code: 'ENDPOINT_ERROR', message: `${url} answered HTTP ${res.status}${res.status === 401 || res.status === 403 ? ': check the API key' : ''}` } };
    }
    const body: unknown = await res.json().catch(() => undefined);
    const list = z.object({ data: z.array(z.object({ id: z.string() })) }).safeParse(body);
    return { ok: true, latencyMs, ...(list.success ? { models: list.data.data.map((m) => m.id).slice(0, 200) } : {}) };
  } catch (e) {
    const latencyMs = performance.now() - t0;
    const why = e instanceof Error && e.name === 'TimeoutError' ? 'did not answer within 5 s' : `could not be reached (${e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e)})`;
    return { ok: false, latencyMs, error: { code: 'ENDPOINT_ERROR', message: `${url} ${why}: is the server running, and is the base URL right (it usually ends in /v1)?` } };
  }
}
