/**
 * The HTML pages of benchmark runs: `report.html` of one run and the page of
 * `foresight bench compare --out`. Each is one self-contained document — inline CSS, charts as
 * inline SVG drawn here at render time, no script, no request to anything — so it opens from a
 * file, offline, and can be mailed or archived with the run.
 *
 * Every string that comes from the user or the data (planner specs, paths, category names) is
 * escaped.
 */
import type { RunSummary } from './run-summary.ts';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : `${(v * 100).toFixed(1)}%`;
}

/** Series colours for a light page; the stylesheet swaps in lighter ones (.s0….s5) for a dark page. */
const SERIES = ['#2f5fc4', '#b85a1c', '#23824f', '#8a3bb0', '#b42f4a', '#56657a'];
const SERIES_DARK = ['#7fa6f2', '#eda06c', '#6fcf97', '#c98ff0', '#f08ca0', '#a9b6c8'];
const seriesRules = (colours: readonly string[]) =>
  colours.map((c, i) => `svg .s${i} { fill: ${c}; } .legend i.s${i} { background: ${c}; }`).join(' ');

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6675; --bg: #ffffff; --line: #d9dde5; --bar: #3b6fd8; --track: #eef1f6; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #a3acba; --bg: #161a21; --line: #343a46; --bar: #6f9bf0; --track: #232833; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: 980px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.muted { color: var(--muted); } dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .6rem 0; } caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .7rem; text-align: right; } th[scope=row], td.key { text-align: left; }
.note { border-left: 3px solid #d8793b; padding: .2rem .6rem; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; } svg .muted { fill: var(--muted); } svg .track { fill: var(--track); } svg .axis { stroke: var(--line); }
${seriesRules(SERIES)}
@media (prefers-color-scheme: dark) { ${seriesRules(SERIES_DARK)} }
.legend span { display: inline-block; margin-right: 1rem; } .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
figure { margin: .8rem 0; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export interface BarRow {
  label: string;
  /** One value per series, 0..1; null = no data. */
  values: (number | null | undefined)[];
  /** Shown after the label, e.g. "n = 120". */
  note?: string;
}

/**
 * Horizontal bars, one group per row and one bar per series, on a 0–100% scale. Each bar is a
 * `rect.bar` with its value in `data-value`, so it can be read back.
 */
export function svgBars(rows: readonly BarRow[], o: { title: string; series?: readonly string[] }): string {
  const series = Math.max(1, ...rows.map((r) => r.values.length));
  const labelW = 190;
  const chartW = 480;
  const barH = 14;
  const groupH = series * (barH + 2) + 10;
  const height = rows.length * groupH + 24;
  const width = labelW + chartW + 70;
  const parts: string[] = [];
  rows.forEach((r, i) => {
    const y0 = 8 + i * groupH;
    const label = r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label;
    parts.push(
      `<text x="${labelW - 8}" y="${y0 + (series * (barH + 2)) / 2 + 4}" text-anchor="end">${escapeHtml(label)}${r.note ? ` <tspan class="muted">(${escapeHtml(r.note)})</tspan>` : ''}</text>`,
    );
    r.values.forEach((v, s) => {
      const y = y0 + s * (barH + 2);
      parts.push(`<rect class="track" x="${labelW}" y="${y}" width="${chartW}" height="${barH}"/>`);
      const colour = s % SERIES.length;
      const name = o.series?.[s];
      if (v === null || v === undefined || Number.isNaN(v)) {
        parts.push(`<text x="${labelW + 6}" y="${y + barH - 3}" class="muted">no data</text>`);
      } else {
        const w = Math.max(0, Math.min(1, v)) * chartW;
        parts.push(
          `<rect class="bar s${colour}" data-value="${v}" x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${SERIES[colour]}"><title>${escapeHtml(`${name ? `${name}: ` : ''}${r.label} ${pct(v)}`)}</title></rect>`,
          `<text x="${labelW + chartW + 6}" y="${y + barH - 3}">${pct(v)}</text>`,
        );
      }
    });
  });
  parts.push(`<line class="axis" x1="${labelW}" x2="${labelW}" y1="4" y2="${height - 16}"/>`);
  for (const t of [0, 0.5, 1]) parts.push(`<text x="${labelW + t * chartW}" y="${height - 4}" text-anchor="middle" class="muted">${t * 100}%</text>`);
  return `<svg role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(o.title)}</title>${parts.join('')}</svg>`;
}

function legend(names: readonly string[]): string {
  return `<p class="legend">${names.map((n, i) => `<span><i class="s${i % SERIES.length}" style="background:${SERIES[i % SERIES.length]}"></i>${escapeHtml(n)}</span>`).join('')}</p>`;
}

function table(caption: string, head: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = head.map((h, i) => `<th scope="col"${i === 0 ? ' style="text-align:left"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr><th scope="row">${escapeHtml(r[0] ?? '')}</th>${r.slice(1).map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function runLabel(s: RunSummary): string {
  return `${s.run.title}${s.run.split ? ` (${s.run.split})` : ''}${s.run.mode ? ` [${s.run.mode}]` : ''}`;
}

/** A relative link to a file of the run folder: each path segment encoded, so '#', '?' or ':' in a name stay part of it. */
function fileHref(relPath: string): string {
  return relPath.split(/[\\/]/).map(encodeURIComponent).join('/');
}

/** Accuracy at horizon k, looked up by k (not by position); undefined = the run did not forecast that far. */
function horizonAt(s: RunSummary, k: number): { accuracy: number | null; count: number } | undefined {
  return s.forecast.horizon.find((h) => h.k === k);
}

function horizonRows(s: RunSummary): BarRow[] {
  return s.forecast.horizon.map((h) => ({ label: `k = ${h.k}`, values: [h.accuracy], note: `n = ${h.count}` }));
}

/** A step scored wrong, as the report lists it. */
export interface ReportMiss {
  id: string;
  /** The true action, in words. */
  truth: string;
  /** The scored prediction in words, or why there was none. */
  prediction: string;
}

export interface ReportOptions {
  /** Paths relative to the run folder. */
  predictionsFiles: readonly string[];
  /** The first steps scored wrong, in load order. */
  misses?: readonly ReportMiss[];
  /** How many steps were scored wrong in all. */
  missCount?: number;
}

export function renderReport(s: RunSummary, opts: ReportOptions): string {
  const r = s.run;
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(runLabel(s))}</h1>`);
  parts.push(`<p class="muted">Foresight benchmark run ${escapeHtml(r.id)}</p>`);
  const facts: [string, string][] = [
    ['planner', r.planner],
    ['grounder', r.grounder],
    ['data', r.data],
    ['horizon K', String(r.horizon)],
    ['steps scored', `${s.steps.scored}${r.limit !== undefined ? ` (limit ${r.limit})` : ''}`],
    ['concurrency', String(r.concurrency)],
    ['started', r.startedAt],
    ['finished', r.finishedAt],
    ['throughput', `${s.timing.stepsPerSecond.toFixed(2)} steps/s over ${(s.timing.wallMs / 1000).toFixed(1)} s${sessionsNote(s.timing.sessions)}`],
  ];
  if (s.timing.plannerLatencyMs) facts.push(['planner latency', `p50 ${Math.round(s.timing.plannerLatencyMs.p50)} ms, p95 ${Math.round(s.timing.plannerLatencyMs.p95)} ms`]);
  parts.push(`<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`);
  if (s.steps.unparsed > 0) parts.push(`<p class="note">${plural(s.steps.unparsed, 'answer')} could not be parsed, even after re-asking; they are scored as wrong, as the official scripts do.</p>`);
  if (s.steps.failed > 0) parts.push(`<p class="note">${plural(s.steps.failed, 'step')} could not be grounded; they are scored without a point (misses).</p>`);

  parts.push('<h2>Official metrics</h2>');
  parts.push(
    table(
      `${r.title}: headline figures (${s.suite.count} steps)`,
      ['metric', 'value'],
      Object.entries(s.suite.metrics).map(([k, v]) => [k, pct(v)]),
    ),
  );

  for (const n of s.suite.notes ?? []) parts.push(`<p class="note">${escapeHtml(n)}</p>`);

  for (const b of s.suite.breakdowns) {
    parts.push(`<h2>By ${escapeHtml(b.name)}</h2>`);
    const names = [...new Set(b.rows.flatMap((row) => Object.keys(row.metrics)))];
    parts.push(
      table(
        `${r.title} by ${b.name}`,
        [b.name, 'steps', ...names],
        b.rows.map((row) => [row.key, String(row.count), ...names.map((n) => pct(row.metrics[n]))]),
      ),
    );
    for (const n of b.rows.length > 0 ? names : []) {
      parts.push(
        `<figure>${svgBars(
          b.rows.map((row) => ({ label: row.key, values: [row.metrics[n]], note: `n = ${row.count}` })),
          { title: `${n} by ${b.name}` },
        )}<figcaption class="muted">${escapeHtml(n)} by ${escapeHtml(b.name)}</figcaption></figure>`,
      );
    }
  }

  parts.push('<h2>Forecast quality (ours)</h2>');
  parts.push(
    '<p class="muted">At every step the whole forecast is scored against the true future: accuracy at horizon k is the share of steps, among those whose episode still has k steps to go, whose k-th forecast step has the true action type and arguments. The stage-1 reward is the trajectory reward of TraceR1.</p>',
  );
  parts.push(
    table(
      'Accuracy by horizon',
      ['horizon', 'steps', 'accuracy'],
      s.forecast.horizon.map((h) => [`k = ${h.k}`, String(h.count), h.accuracy === null ? 'no data' : pct(h.accuracy)]),
    ),
  );
  parts.push(`<figure>${svgBars(horizonRows(s), { title: 'Forecast accuracy by horizon' })}<figcaption class="muted">accuracy by horizon</figcaption></figure>`);
  parts.push(
    table('Stage-1 trajectory reward', ['figure', 'value'], [
      ['mean reward', s.forecast.reward.mean.toFixed(3)],
      ['mean accuracy term', s.forecast.reward.accuracy.toFixed(3)],
      ['steps', String(s.forecast.reward.count)],
    ]),
  );

  if (opts.misses && opts.misses.length > 0) {
    const all = opts.missCount ?? opts.misses.length;
    parts.push('<h2>Steps scored wrong</h2>');
    parts.push(
      table(
        all > opts.misses.length ? `The first ${opts.misses.length} of ${all}, in load order` : `All ${all}, in load order`,
        ['step', 'truth', 'prediction'],
        opts.misses.map((m) => [m.id, m.truth, m.prediction]),
      ),
    );
  }

  parts.push('<h2>Files</h2>');
  const files = ['summary.json', 'answers.jsonl', 'run.sqlite', ...opts.predictionsFiles];
  parts.push(`<ul>${files.map((f) => `<li><a href="${escapeHtml(fileHref(f))}">${escapeHtml(f)}</a></li>`).join('')}</ul>`);
  parts.push('<p class="muted">The files under predictions/ are in the benchmark\'s own format, for its official script.</p>');
  return page(`${runLabel(s)} — Foresight`, parts.join('\n'));
}

/** A difference of rates in percentage points, signed. */
function pointDelta(v: number, base: number): string {
  return `${v - base >= 0 ? '+' : ''}${((v - base) * 100).toFixed(1)} pt`;
}

/** Each value after the first against the first; '—' where either is missing. */
function deltas(values: readonly (number | null | undefined)[], format: (v: number, base: number) => string): string[] {
  const base = values[0];
  return values.slice(1).map((v) => (typeof v === 'number' && typeof base === 'number' ? format(v, base) : '—'));
}

export function renderComparison(runs: readonly RunSummary[]): string {
  const names = runs.map((r, i) => `#${i + 1} ${r.run.planner}`);
  const parts: string[] = [];
  parts.push('<h1>Foresight: runs side by side</h1>');
  parts.push(
    table(
      'Runs',
      ['run', 'suite', 'planner', 'grounder', 'steps', 'finished'],
      runs.map((r, i) => [`#${i + 1}`, runLabel(r), r.run.planner, r.run.grounder, String(r.steps.scored), r.run.finishedAt]),
    ),
  );
  const ids = runs.map((_, i) => `#${i + 1}`);
  const deltaHead = ids.slice(1).map((id) => `Δ ${id}`);
  const metricNames = [...new Set(runs.flatMap((r) => Object.keys(r.suite.metrics)))];
  parts.push('<h2>Official metrics</h2>');
  parts.push(
    table(
      'Metrics of each run (Δ against run #1, in percentage points)',
      ['metric', ...ids, ...deltaHead],
      metricNames.map((m) => [m, ...runs.map((r) => pct(r.suite.metrics[m])), ...deltas(runs.map((r) => r.suite.metrics[m]), pointDelta)]),
    ),
  );
  if (metricNames.length > 0) {
    parts.push(
      `<figure>${legend(names)}${svgBars(
        metricNames.map((m) => ({ label: m, values: runs.map((r) => r.suite.metrics[m]) })),
        { title: 'Official metrics by run', series: names },
      )}</figure>`,
    );
  }

  const K = Math.max(0, ...runs.flatMap((r) => r.forecast.horizon.map((h) => h.k)));
  const ks = Array.from({ length: K }, (_, i) => i + 1);
  parts.push('<h2>Forecast accuracy by horizon</h2>');
  parts.push(
    table(
      'Accuracy at horizon k (Δ against run #1, in percentage points; — = not forecast that far)',
      ['horizon', ...ids, ...deltaHead],
      ks.map((k) => {
        const values = runs.map((r) => horizonAt(r, k)?.accuracy);
        return [`k = ${k}`, ...values.map((v) => (v === null ? 'no data' : pct(v))), ...deltas(values, pointDelta)];
      }),
    ),
  );
  if (K > 0) {
    parts.push(
      `<figure>${legend(names)}${svgBars(
        ks.map((k) => ({ label: `k = ${k}`, values: runs.map((r) => horizonAt(r, k)?.accuracy ?? null) })),
        { title: 'Forecast accuracy by horizon, by run', series: names },
      )}</figure>`,
    );
  }
  const rewardDelta = (v: number, base: number) => `${v - base >= 0 ? '+' : ''}${(v - base).toFixed(3)}`;
  parts.push(
    table('Stage-1 trajectory reward (Δ against run #1)', ['figure', ...ids, ...deltaHead], [
      ['mean reward', ...runs.map((r) => r.forecast.reward.mean.toFixed(3)), ...deltas(runs.map((r) => r.forecast.reward.mean), rewardDelta)],
      ['mean accuracy term', ...runs.map((r) => r.forecast.reward.accuracy.toFixed(3)), ...deltas(runs.map((r) => r.forecast.reward.accuracy), rewardDelta)],
      ['steps', ...runs.map((r) => String(r.forecast.reward.count)), ...deltaHead.map(() => '')],
    ]),
  );
  return page('Foresight: runs side by side', parts.join('\n'));
}

/** ' in 3 sessions' for a resumed run: its time is the sum over them. */
export function sessionsNote(sessions: number | undefined): string {
  return sessions !== undefined && sessions > 1 ? ` in ${sessions} sessions` : '';
}
