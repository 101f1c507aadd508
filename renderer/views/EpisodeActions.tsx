/** Export (a zip of the episode's JSON and screenshots) and delete of one episode. */
import { useState } from 'react';
import type { Caller, EpisodeView } from '../../common/contract.ts';
import type { ErrorInfo } from '../../common/errors.ts';
import { ErrorBox } from '../components/common.tsx';
import { Icon } from '../components/icons.tsx';

export function EpisodeActions({ call, episode, onDeleted }: { call: Caller; episode: EpisodeView; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorInfo>();
  const exportZip = async () => {
    setBusy(true);
    setError(undefined);
    const r = await call('episodes.export', { id: episode.id });
    setBusy(false);
    if (!r.ok) return setError(r.error);
    // Same origin and the same sign-in cookie: the browser downloads it (content-disposition).
    const a = document.createElement('a');
    a.href = r.value.downloadPath;
    a.download = r.value.fileName;
    a.click();
  };
  const remove = async () => {
    setBusy(true);
    setError(undefined);
    const r = await call('episodes.delete', { id: episode.id });
    setBusy(false);
    if (r.ok) onDeleted();
    else {
      setConfirming(false);
      setError(r.error);
    }
  };
  return (
    <div className="episode-actions">
      <button type="button" onClick={() => void exportZip()} disabled={busy}>
        <Icon name="download" size={16} /> Export
      </button>
      {confirming ? (
        <span className="confirm">
          <span className="small">Delete this episode and its screenshots?</span>
          <button type="button" className="danger solid" onClick={() => void remove()} disabled={busy}>
            Delete
          </button>
          <button type="button" className="ghost" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </span>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={busy || episode.status === 'running'} title={episode.status === 'running' ? 'A running episode cannot be deleted' : undefined}>
          <Icon name="trash" size={16} /> Delete
        </button>
      )}
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}
