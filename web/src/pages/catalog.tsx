import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import type { Collection, CollectionSummary } from '../api/contract';
import { mayEnter, useAuth } from '../auth';
import { Empty, ErrorState, Loading } from '../components/states';
import { Badge, PageHeader, Quantity } from '../components/ui';
import { useLoad } from '../components/use-load';

export function CatalogPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const [state, reload] = useLoad(
    async (signal) => {
      const page = await api.get('/api/v1/collections', { query: { limit: 100 }, signal });
      const summaries = await Promise.all(
        page.items.map((collection) =>
          api.get('/api/v1/collections/{id}/summary', { path: { id: collection.id }, signal }).catch(() => null),
        ),
      );
      return page.items.map((collection, index) => ({ collection, summary: summaries[index] ?? null }));
    },
    [user?.id],
  );
  return (
    <>
      <PageHeader title={t('catalog.title')} lead={t('catalog.lead')} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.length === 0 && <Empty>{t('catalog.empty')}</Empty>}
      {state.status === 'ok' && state.data.length > 0 && (
        <ul className="card-grid">
          {state.data.map(({ collection, summary }) => (
            <li key={collection.id}>
              <CollectionCard collection={collection} summary={summary} canBrowse={mayEnter(user, 'console')} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CollectionCard({ collection, summary, canBrowse }: { collection: Collection; summary: CollectionSummary | null; canBrowse: boolean }) {
  const { t } = useTranslation();
  const kinds = summary ? Object.entries(summary.byKind) : [];
  return (
    <article className="card collection-card" aria-labelledby={`c-${collection.id}`}>
      <header>
        <span className="code">{collection.code}</span>
        <h2 id={`c-${collection.id}`}>{collection.name}</h2>
        {collection.description && <p className="muted">{collection.description}</p>}
        <div className="badges">
          {collection.humanConsent && <Badge tone="violet">{t('catalog.consent')}</Badge>}
          {collection.biosafetyLevel !== null && <Badge tone="amber">{t('catalog.biosafety', { level: collection.biosafetyLevel })}</Badge>}
        </div>
      </header>
      {summary ? (
        <>
          <div className="figure-row">
            <div className="figure">
              <span className="figure-label">{t('catalog.total')}</span>
              <span className="figure-value">
                <Quantity value={summary.quantity} unit={summary.unit} />
              </span>
            </div>
            <div className="figure">
              <span className="figure-value figure-small">{t('catalog.samples', { count: summary.samples })}</span>
            </div>
          </div>
          {kinds.length > 0 ? (
            <table className="table table-compact">
              <caption className="visually-hidden">{t('catalog.byKind')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('catalog.kind')}</th>
                  <th scope="col" className="num">{t('samples.title')}</th>
                  <th scope="col" className="num">{t('catalog.quantity')}</th>
                </tr>
              </thead>
              <tbody>
                {kinds.map(([kind, figures]) => (
                  <tr key={kind}>
                    <th scope="row">{kind}</th>
                    <td className="num">{figures.samples}</td>
                    <td className="num">
                      <Quantity value={figures.quantity} unit={summary.unit} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">{t('catalog.noSamples')}</p>
          )}
        </>
      ) : null}
      {canBrowse && (
        <Link className="button button-small" to={`/samples?collectionId=${collection.id}`}>
          {t('catalog.browse')}
        </Link>
      )}
    </article>
  );
}
