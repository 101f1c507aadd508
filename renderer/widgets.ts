/** Small pieces several views share. */
import type { ErrorInfo } from '../common/errors.ts';
import type { EpisodeStatus } from '../common/ports.ts';
import { h, type Child } from './dom.ts';
import { isMissingToken } from './transport.ts';

export function statusBadge(status: EpisodeStatus): HTMLElement {
  return h('span', { class: `status status-${status}` }, status.replace('_', ' '));
}

const TITLES: Partial<Record<ErrorInfo['code'], string>> = {
  ENDPOINT_UNREACHABLE: 'The app is not running',
  NOT_FOUND: 'Not found',
  STORE_CORRUPT: 'The episode database is damaged',
  STORE_MIGRATION: 'The episode database is from a newer Foresight',
  INTERNAL: 'Something went wrong inside Foresight',
};

/** Text with `backticked` parts shown as code (messages name commands that way). */
export function withCode(text: string): Child[] {
  return text.split('`').map((part, i) => (i % 2 === 1 ? h('code', null, part) : part));
}

/** An error as a person can act on it: a title, the message, and the code for reports. */
export function errorBox(error: ErrorInfo, title?: string): HTMLElement {
  const heading = title ?? (isMissingToken(error) ? 'This page needs its access link' : (TITLES[error.code] ?? 'That did not work'));
  return h(
    'div',
    { class: 'error-box', role: 'alert', 'data-code': error.code },
    h('strong', null, heading),
    h('p', null, withCode(error.message)),
    h('p', { class: 'muted small mono' }, error.code),
  );
}
