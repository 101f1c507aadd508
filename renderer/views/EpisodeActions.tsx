/** Export and delete of one episode. */
import type { Caller, EpisodeView } from '../../common/contract.ts';

export function EpisodeActions(_props: { call: Caller; episode: EpisodeView; onDeleted: () => void }) {
  return null;
}
