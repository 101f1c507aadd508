/** Small pieces several views share: status badges, error boxes, page headers, empty states. */
import type { ReactNode } from 'react';
import type { ErrorInfo } from '../../common/errors.ts';
import type { EpisodeStatus } from '../../common/ports.ts';
import { isMissingToken } from '../transport.ts';

export function StatusBadge({ status }: { status: EpisodeStatus | string }) {
  return <span className={`status status-${status}`}>{status.replace('_', ' ')}</span>;
}

const TITLES: Partial<Record<ErrorInfo['code'], string>> = {
  ENDPOINT_UNREACHABLE: 'The app is not running',
  NOT_FOUND: 'Not found',
  STORE_CORRUPT: 'The episode database is damaged',
  STORE_MIGRATION: 'The episode database is from a newer Foresight',
  INTERNAL: 'Something went wrong inside Foresight',
};

/** Text with `backticked` parts shown as code (messages name commands that way). */
export function WithCode({ text }: { text: string }) {
  return (
    <>
      {text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}
    </>
  );
}

/** An error as a person can act on it: a title, the message, and the code for reports. */
export function ErrorBox({ error, title }: { error: ErrorInfo; title?: string }) {
  const heading = title ?? (isMissingToken(error) ? 'This page needs its access link' : (TITLES[error.code] ?? 'That did not work'));
  return (
    <div className="error-box" role="alert" data-code={error.code}>
      <strong>{heading}</strong>
      <p>
        <WithCode text={error.message} />
      </p>
      <p className="muted small mono">{error.code}</p>
    </div>
  );
}

export function PageHead({ title, subtitle, children }: { title: ReactNode; subtitle?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-head">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="page-subtitle">{subtitle}</p> : null}
      </div>
      {children ? <div className="page-actions">{children}</div> : null}
    </header>
  );
}

export function Empty({ title, children, icon }: { title: ReactNode; children?: ReactNode; icon?: ReactNode }) {
  return (
    <div className="empty">
      {icon ? <div className="empty-icon">{icon}</div> : null}
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" aria-busy="true">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  );
}

export function Card({ title, children, className, actions }: { title?: ReactNode; children: ReactNode; className?: string; actions?: ReactNode }) {
  return (
    <section className={`card${className ? ` ${className}` : ''}`}>
      {title || actions ? (
        <header className="card-head">
          {title ? <h2>{title}</h2> : <span />}
          {actions}
        </header>
      ) : null}
      {children}
    </section>
  );
}
