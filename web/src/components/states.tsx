import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { ApiError } from '../api/client';
import type { Load } from './use-load';

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('state.loading')}
    </div>
  );
}

export function Empty({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state-empty">
      <svg className="state-icon" viewBox="0 0 48 48" aria-hidden="true">
        <rect x="8" y="14" width="32" height="24" rx="4" fill="none" stroke="currentColor" strokeWidth="2" />
        <path d="M8 22h32M20 28h8" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
      </svg>
      <p>{children}</p>
      {action}
    </div>
  );
}

/** Under a cursor-paged list: how many rows are shown, and "load more" until the last page has come. */
export function Pager({ shown, hasMore, loading, onMore, labels }: { shown: ReactNode; hasMore: boolean; loading: boolean; onMore(): void; labels: { more: string; loading: string; end: string } }) {
  return (
    <div className="pager">
      <span className="muted" aria-live="polite">
        {shown}
      </span>
      {hasMore ? (
        <button type="button" className="button" disabled={loading} onClick={onMore}>
          {loading ? labels.loading : labels.more}
        </button>
      ) : (
        <span className="muted">{labels.end}</span>
      )}
    </div>
  );
}

/** An error that says what happened and what to do next. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  let message: ReactNode = t('state.error');
  let action: ReactNode = onRetry ? (
    <button type="button" className="button" onClick={onRetry}>
      {t('state.retry')}
    </button>
  ) : null;
  if (error instanceof ApiError) {
    if (error.status === 401) {
      message = t('state.signInNeeded');
      action = (
        <Link className="button button-primary" to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`}>
          {t('auth.signIn')}
        </Link>
      );
    } else if (error.status === 403) {
      message = t('state.forbidden');
      action = null;
    } else if (error.missingRoute) {
      message = t('state.notAvailable');
      action = null;
    } else if (error.status === 404) {
      message = t('state.notFound');
    } else if (error.status === 0) {
      message = t('state.network');
    } else {
      message = (
        <>
          <strong>{error.title}</strong> {error.detail}
        </>
      );
    }
  }
  return (
    <div className="state state-error" role="alert">
      <p>{message}</p>
      {action}
    </div>
  );
}

/** A loaded list's states: loading, the error with a retry, the empty message; the list itself once it has items. */
export function ListState<T>({ load, reload, empty, children }: { load: Load<{ items: T[] }>; reload: () => void; empty: ReactNode; children: (items: T[]) => ReactNode }) {
  if (load.status === 'loading') return <Loading />;
  if (load.status === 'error') return <ErrorState error={load.error} onRetry={reload} />;
  if (load.data.items.length === 0) return <Empty>{empty}</Empty>;
  return <>{children(load.data.items)}</>;
}
