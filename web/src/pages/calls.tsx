import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, type Answer } from '../api/client';
import { useAuth } from '../auth';
import { Empty, ErrorState, Loading } from '../components/states';
import { DateTime, PageHeader, Quantity, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';

type Call = Answer<'/api/v1/calls', 'get'>['items'][number];
type Pool = Answer<'/api/v1/calls/{id}/pool', 'get'>;

/** Release batches with what each offers; applicants start an application from here. */
export default function CallsPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const [state, reload] = useLoad(
    async (signal) => {
      const page = await api.get('/api/v1/calls', { query: { limit: 100 }, signal });
      const visible = page.items.filter((call) => call.state !== 'draft');
      const pools = await Promise.all(visible.map((call) => api.get('/api/v1/calls/{id}/pool', { path: { id: call.id }, signal }).catch(() => null)));
      return visible.map((call, index) => ({ call, pool: pools[index] ?? null }));
    },
    [user?.id],
  );
  const applicant = !!user?.roles.includes('applicant');
  return (
    <>
      <PageHeader title={t('calls.title')} lead={t('calls.lead')} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.length === 0 && <Empty>{t('calls.empty')}</Empty>}
      {state.status === 'ok' && state.data.length > 0 && (
        <ul className="card-grid">
          {state.data.map(({ call, pool }) => (
            <li key={call.id}>
              <CallCard call={call} pool={pool} applicant={applicant} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CallCard({ call, pool, applicant }: { call: Call; pool: Pool | null; applicant: boolean }) {
  const { t } = useTranslation();
  return (
    <article className="card" aria-labelledby={`call-${call.id}`}>
      <header>
        <StatusBadge state={call.state} />
        <h2 id={`call-${call.id}`}>{call.title}</h2>
        {call.description && <p className="muted">{call.description}</p>}
      </header>
      <dl className="details">
        <dt>{t('calls.closes')}</dt>
        <dd>
          <DateTime value={call.closesAt} />
        </dd>
        {call.researchDirections.length > 0 && (
          <>
            <dt>{t('calls.directions')}</dt>
            <dd>{call.researchDirections.join(t('calls.separator'))}</dd>
          </>
        )}
        <dt>{t('calls.review')}</dt>
        <dd>{call.blind ? t('calls.blind') : t('calls.open')}</dd>
      </dl>
      {pool && pool.kinds.length > 0 && (
        <table className="table table-compact">
          <caption className="visually-hidden">{t('calls.offered')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('catalog.kind')}</th>
              <th scope="col" className="num">
                {t('calls.releasable')}
              </th>
            </tr>
          </thead>
          <tbody>
            {pool.kinds.map((kind) => (
              <tr key={kind.kind}>
                <th scope="row">{kind.kind}</th>
                <td className="num">
                  <Quantity value={kind.releasable} unit={pool.unit} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="card-actions">
        {applicant && call.state === 'open' && (
          <Link className="button button-primary button-small" to={`/applications/new?call=${call.id}`} aria-label={`${t('calls.apply')}: ${call.title}`}>
            {t('calls.apply')}
          </Link>
        )}
        <Link className="button button-small" to={`/statistics?call=${call.id}`} aria-label={`${t('calls.statistics')}: ${call.title}`}>
          {t('calls.statistics')}
        </Link>
      </div>
    </article>
  );
}
