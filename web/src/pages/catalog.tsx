import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, type Answer } from '../api/client';
import { mayEnter, useAuth } from '../auth';
import { Empty, ErrorState, Loading } from '../components/states';
import { Badge, DateTime, PageHeader, Quantity, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';

type Catalog = Answer<'/api/v1/catalog', 'get'>;
type PublicCollection = Catalog['collections'][number];
type PublicCall = Catalog['calls'][number];

/** The public catalog: what the bank holds, and what each release batch offers. Readable signed out. */
export function CatalogPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/catalog', { signal }), [user?.id]);
  const offers = state.status === 'ok' ? state.data.calls.filter((call) => call.offer.length > 0) : [];
  return (
    <>
      <PageHeader title={t('catalog.title')} lead={t('catalog.lead')} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.collections.length === 0 && <Empty>{t('catalog.empty')}</Empty>}
      {state.status === 'ok' && state.data.collections.length > 0 && (
        <ul className="card-grid">
          {state.data.collections.map((collection) => (
            <li key={collection.id}>
              <CollectionCard collection={collection} canBrowse={mayEnter(user, 'console')} />
            </li>
          ))}
        </ul>
      )}
      {state.status === 'ok' && (
        <section aria-labelledby="offers-title" className="section">
          <h2 id="offers-title">{t('offer.title')}</h2>
          <p className="muted">{t('offer.lead')}</p>
          {offers.length === 0 ? (
            <p className="muted">{t('offer.none')}</p>
          ) : (
            <ul className="offer-list">
              {offers.map((call) => (
                <li key={call.id}>
                  <OfferCard call={call} collection={state.data.collections.find((c) => c.id === call.collectionId)} canApply={mayEnter(user, 'applications')} />
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </>
  );
}

function OfferCard({ call, collection, canApply }: { call: PublicCall; collection: PublicCollection | undefined; canApply: boolean }) {
  const { t } = useTranslation();
  return (
    <article className="card" aria-labelledby={`o-${call.id}`}>
      <header>
        {collection && <span className="code">{collection.code}</span>}
        <h3 id={`o-${call.id}`}>{call.title}</h3>
        <p className="muted small">
          <StatusBadge state={call.state} /> {t('offer.opens')} <DateTime value={call.opensAt} /> · {t('offer.closes')} <DateTime value={call.closesAt} />
        </p>
      </header>
      <table className="table table-compact">
        <caption className="visually-hidden">{t('offer.releasable')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('catalog.kind')}</th>
            <th scope="col" className="num">{t('offer.releasable')}</th>
          </tr>
        </thead>
        <tbody>
          {call.offer.map((row) => (
            <tr key={row.kind}>
              <th scope="row">{row.kind}</th>
              <td className="num">
                <Quantity value={row.releasable} unit={call.unit} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="offer-actions">
        <Link className="button button-small" to={`/statistics?call=${call.id}`} aria-label={`${t('offer.statistics')}: ${call.title}`}>
          {t('offer.statistics')}
        </Link>
        {canApply && call.state === 'open' && (
          <Link className="button button-small button-primary" to={`/applications/new?call=${call.id}`} aria-label={`${t('offer.apply')}: ${call.title}`}>
            {t('offer.apply')}
          </Link>
        )}
      </div>
    </article>
  );
}

function CollectionCard({ collection, canBrowse }: { collection: PublicCollection; canBrowse: boolean }) {
  const { t } = useTranslation();
  const summary = collection;
  const kinds = Object.entries(collection.byKind);
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
      {(
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
      )}
      {canBrowse && (
        <Link className="button button-small" to={`/samples?collectionId=${collection.id}`}>
          {t('catalog.browse')}
        </Link>
      )}
    </article>
  );
}
