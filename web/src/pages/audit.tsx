import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { api, type Answer } from '../api/client';
import { Field } from '../components/field';
import { Empty, ErrorState, Loading, Pager } from '../components/states';
import { DateTime, PageHeader } from '../components/ui';
import { usePages } from '../components/use-load';

type Event = Answer<'/api/v1/audit/events', 'get'>['items'][number];
type Verification = Answer<'/api/v1/audit/verify', 'get'>;
const filterNames = ['entityType', 'entityId', 'action', 'actorId', 'from', 'to'] as const;
type Filters = Record<(typeof filterNames)[number], string>;

const filtersOf = (params: URLSearchParams): Filters => Object.fromEntries(filterNames.map((name) => [name, params.get(name) ?? ''])) as Filters;

/** A date field's value (yyyy-mm-dd) as the API's instant: the start of that day, or of the next day for "to". */
function instant(day: string, end: boolean): string | undefined {
  if (!day) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (end) date.setDate(date.getDate() + 1);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The auditor's view: the audit trail with filters, page by page, and the hash-chain verification. */
export default function AuditPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const applied = filtersOf(params);
  const [draft, setDraft] = useState<Filters>(applied);
  const key = params.toString();
  const {
    rows: events,
    cursor,
    status,
    error,
    more,
    reload,
  } = usePages<Event>((after) => {
    const query = {
      limit: 100,
      cursor: after,
      entityType: applied.entityType || undefined,
      entityId: applied.entityId || undefined,
      action: applied.action || undefined,
      actorId: applied.actorId || undefined,
      from: instant(applied.from, false),
      to: instant(applied.to, true),
    };
    return api.get('/api/v1/audit/events', { query });
  }, [key]);
  useEffect(() => setDraft(filtersOf(params)), [key]);

  function submit(event: FormEvent) {
    event.preventDefault();
    setParams(Object.fromEntries(Object.entries(draft).filter(([, value]) => value.trim() !== '').map(([name, value]) => [name, value.trim()])));
  }

  return (
    <>
      <PageHeader title={t('audit.title')} lead={t('audit.lead')} actions={<Verify />} />
      <form className="filters card" onSubmit={submit} role="search" aria-label={t('audit.filters')}>
        <Field label={t('audit.entityType')} value={draft.entityType} placeholder="sample" onChange={(e) => setDraft({ ...draft, entityType: e.target.value })} />
        <Field label={t('audit.entityId')} value={draft.entityId} onChange={(e) => setDraft({ ...draft, entityId: e.target.value })} />
        <Field label={t('audit.action')} value={draft.action} placeholder="sample.split" onChange={(e) => setDraft({ ...draft, action: e.target.value })} />
        <Field label={t('audit.actor')} value={draft.actorId} onChange={(e) => setDraft({ ...draft, actorId: e.target.value })} />
        <Field label={t('audit.from')} type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <Field label={t('audit.to')} type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <div className="filter-actions">
          <button type="submit" className="button button-primary">
            {t('samples.search')}
          </button>
          <button type="button" className="button" onClick={() => setParams({})}>
            {t('samples.clear')}
          </button>
        </div>
      </form>
      {status === 'loading' && <Loading />}
      {status === 'error' && <ErrorState error={error} onRetry={reload} />}
      {status !== 'loading' && status !== 'error' && events.length === 0 && <Empty>{Object.values(applied).some(Boolean) ? t('audit.noMatch') : t('audit.empty')}</Empty>}
      {events.length > 0 && (
        <div className="table-wrap">
          <table className="table table-compact">
            <caption className="visually-hidden">{t('audit.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.when')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('audit.entity')}</th>
                <th scope="col">{t('audit.actor')}</th>
                <th scope="col">{t('audit.data')}</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id}>
                  <td>
                    <DateTime value={String(event.occurredAt)} />
                  </td>
                  <th scope="row" className="mono">
                    {event.action}
                  </th>
                  <td className="mono">
                    {event.entityType} {event.entityId?.slice(0, 8)}
                  </td>
                  <td className="mono">{event.actorId?.slice(0, 8) ?? t('audit.system')}</td>
                  <td className="mono small data-cell">{JSON.stringify(event.data)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {events.length > 0 && (
        <Pager
          shown={t('samples.shown', { count: events.length })}
          hasMore={!!cursor}
          loading={status === 'more'}
          onMore={more}
          labels={{ more: t('samples.more'), loading: t('samples.loadingMore'), end: t('samples.end') }}
        />
      )}
    </>
  );
}

function Verify() {
  const { t, i18n } = useTranslation();
  const [state, setState] = useState<{ status: 'idle' | 'loading' } | { status: 'ok'; result: Verification } | { status: 'error'; error: unknown }>({ status: 'idle' });
  async function verify() {
    setState({ status: 'loading' });
    try {
      setState({ status: 'ok', result: await api.get('/api/v1/audit/verify') });
    } catch (error) {
      setState({ status: 'error', error });
    }
  }
  return (
    <div className="verify">
      <button type="button" className="button button-primary" onClick={() => void verify()} disabled={state.status === 'loading'}>
        {state.status === 'loading' ? t('audit.verifying') : t('audit.verify')}
      </button>
      {state.status === 'loading' && <Loading label={t('audit.verifying')} />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={() => void verify()} />}
      {state.status === 'ok' && (
        <div className={`card ${state.result.ok ? 'card-ok' : 'card-bad'}`} role="status">
          <p>{state.result.ok ? t('audit.ok', { events: new Intl.NumberFormat(i18n.language).format(state.result.events) }) : t('audit.broken')}</p>
          {state.result.firstBad && (
            <p>
              {t('audit.firstBad', { stream: state.result.firstBad.stream, seq: state.result.firstBad.seq })}: {state.result.firstBad.reason}
            </p>
          )}
          <p className="muted small">
            {t('audit.head')}: <code>{state.result.head}</code>
          </p>
        </div>
      )}
    </div>
  );
}
