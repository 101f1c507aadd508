/**
 * Benchmark runs (`foresight bench run --out <folder>`) under a folder the person picks: their
 * status and headline figures, the report inside the app, and the command that resumes a run
 * that was interrupted. The folder is remembered in this browser.
 */
import { useState } from 'react';
import type { BenchRunView, Caller } from '../../common/contract.ts';
import { href, navigate } from '../app/router.ts';
import { useCall } from '../app/use-call.ts';
import { Card, Empty, ErrorBox, Loading, PageHead, StatusBadge } from '../components/common.tsx';
import { Icon } from '../components/icons.tsx';
import { dateTime } from '../format.ts';

const FOLDER_KEY = 'foresight.benchFolder';

function rememberedFolder(): string {
  try {
    return localStorage.getItem(FOLDER_KEY) ?? '';
  } catch {
    return '';
  }
}

/** A figure as people read it: fractions as percentages, counts as they are. */
export function formatFigure(name: string, v: number): string {
  const fraction = v >= 0 && v <= 1 && !Number.isInteger(v);
  if (fraction || /rate|acc|sr|success|f1|score/i.test(name)) return v <= 1 ? `${(v * 100).toFixed(1)}%` : v.toFixed(1);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function CopyCommand({ command }: { command: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="command">
      <code>{command}</code>
      <button
        type="button"
        className="ghost small"
        onClick={() => {
          void navigator.clipboard?.writeText(command).then(() => setCopied(true));
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

function RunRow({ r, open, onOpen }: { r: BenchRunView; open: boolean; onOpen: () => void }) {
  const progress = r.totalSteps ? Math.min(1, r.scoredSteps / r.totalSteps) : undefined;
  const figures = Object.entries(r.figures).slice(0, 4);
  return (
    <li className={`bench-run${open ? ' open' : ''}`} data-run={r.id}>
      <div className="bench-main">
        <div className="bench-title">
          <strong>{r.name}</strong>
          <StatusBadge status={r.status} />
          <span className="muted small">{r.suite}</span>
        </div>
        <div className="muted small mono clip-path" title={r.dir}>
          <bdi>{r.dir}</bdi>
        </div>
        {progress !== undefined ? (
          <div className="progress" aria-label={`${r.scoredSteps} of ${r.totalSteps} steps scored`}>
            <div className="progress-bar" style={{ width: `${progress * 100}%` }} />
            <span className="small muted">
              {r.scoredSteps} / {r.totalSteps} steps
            </span>
          </div>
        ) : (
          <span className="small muted">{r.scoredSteps} steps scored</span>
        )}
      </div>
      <dl className="figures">
        {figures.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{formatFigure(k, v)}</dd>
          </div>
        ))}
      </dl>
      <div className="bench-actions">
        <span className="muted small">{dateTime(r.updatedAt)}</span>
        {r.reportPath ? (
          <button type="button" className={open ? 'primary small' : 'small'} onClick={onOpen}>
            {open ? 'Hide report' : 'Open report'}
          </button>
        ) : null}
      </div>
      {r.error ? <ErrorBox error={r.error} title="This run stopped with an error" /> : null}
      {r.resumeCommand && r.status !== 'complete' && r.status !== 'finished' ? (
        <div className="resume">
          <span className="small muted">Resume it (finished steps are skipped):</span>
          <CopyCommand command={r.resumeCommand} />
        </div>
      ) : null}
    </li>
  );
}

export function BenchmarksView({ call, query }: { call: Caller; query: URLSearchParams }) {
  const folder = query.get('folder') ?? rememberedFolder();
  const [typed, setTyped] = useState(folder);
  const [openId, setOpenId] = useState<string>();
  const list = useCall(call, 'benchmarks.list', { folder: folder || '.' }, folder);
  const choose = (f: string) => {
    try {
      localStorage.setItem(FOLDER_KEY, f);
    } catch {
      // not remembered; the URL still holds it
    }
    navigate(href('benchmarks', { folder: f }), { replace: true });
  };
  const runs = list.state === 'ok' ? list.value.runs : [];
  const open = runs.find((r) => r.id === openId);
  return (
    <div className="view benchmarks-view">
      <PageHead title="Benchmarks" subtitle="Offline replays of public benchmarks: how often the forecast's first step matches what a person did." />
      <form
        className="folder-bar"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) choose(typed.trim());
        }}
      >
        <Icon name="folder" />
        <input type="text" aria-label="Benchmark folder" className="mono" placeholder="/path/to/bench-runs (a --out folder, or a folder of them)" value={typed} onChange={(e) => setTyped(e.target.value)} />
        <button type="submit" className="primary">
          Show runs
        </button>
      </form>
      {!folder ? (
        <Empty title="Pick the folder your benchmark runs are in" icon={<Icon name="benchmarks" size={28} />}>
          <p className="muted">
            Runs are written by <code>npx foresight bench run --suite androidcontrol --out runs/ac-1</code>. Give the folder of one run, or the folder that holds several.
          </p>
        </Empty>
      ) : list.state === 'loading' ? (
        <Loading what="benchmark runs" />
      ) : list.state === 'error' ? (
        <ErrorBox error={list.error} />
      ) : runs.length === 0 ? (
        <Empty title="No benchmark runs in this folder" icon={<Icon name="benchmarks" size={28} />}>
          <p className="muted mono">{list.value.folder}</p>
        </Empty>
      ) : (
        <>
          <p className="muted small count">
            {runs.length} run{runs.length === 1 ? '' : 's'} in <span className="mono">{list.value.folder}</span>
          </p>
          <ul className="bench-runs">
            {runs.map((r) => (
              <RunRow key={r.id} r={r} open={r.id === openId} onOpen={() => setOpenId(r.id === openId ? undefined : r.id)} />
            ))}
          </ul>
          {open?.reportPath ? (
            <Card
              title={`Report — ${open.name}`}
              className="report-card"
              actions={
                <a className="button small" href={open.reportPath} target="_blank" rel="noreferrer">
                  Open in a new tab
                </a>
              }
            >
              <iframe className="report-frame" src={open.reportPath} title={`Report of ${open.name}`} sandbox="" />
            </Card>
          ) : null}
        </>
      )}
    </div>
  );
}
