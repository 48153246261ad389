import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api, ApiError } from '../api/client';
import type { Location, LocationDetail, Sample } from '../api/contract';
import { Dialog } from '../components/dialog';
import { Field } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, PageHeader, Quantity, StateBadge } from '../components/ui';
import { useLoad } from '../components/use-load';

const rowLetter = (index: number): string => (index < 26 ? String.fromCharCode(65 + index) : rowLetter(Math.floor(index / 26) - 1) + String.fromCharCode(65 + (index % 26)));

export default function StoragePage() {
  const { id } = useParams();
  return id ? <LocationView id={id} /> : <Roots />;
}

function Roots() {
  const { t } = useTranslation();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/locations', { query: { limit: 200 }, signal }), []);
  return (
    <>
      <PageHeader title={t('storage.title')} lead={t('storage.lead')} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && <LocationList items={state.data.items.filter((location) => location.parentId === null)} empty={t('storage.empty')} />}
    </>
  );
}

function LocationList({ items, empty }: { items: Location[]; empty: string }) {
  const { t } = useTranslation();
  if (items.length === 0) return <Empty>{empty}</Empty>;
  return (
    <ul className="location-list">
      {items.map((location) => (
        <li key={location.id}>
          <Link to={`/storage/${location.id}`} className="location-link card">
            <Badge tone={location.kind === 'box' ? 'blue' : 'gray'}>{t(`storage.kinds.${location.kind}`)}</Badge>
            <span className="location-name">{location.name}</span>
            <span className="mono muted">{location.code}</span>
            {location.rows && location.cols ? <span className="muted">{location.rows} × {location.cols}</span> : null}
          </Link>
        </li>
      ))}
    </ul>
  );
}

function LocationView({ id }: { id: string }) {
  const { t } = useTranslation();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/locations/{id}', { path: { id }, signal }), [id]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const location = state.data;
  const isBox = !!(location.rows && location.cols);
  return (
    <>
      <nav aria-label="breadcrumb" className="breadcrumb">
        <Link to="/storage">{t('storage.root')}</Link>
        {location.parentId && (
          <>
            {' / '}
            <Link to={`/storage/${location.parentId}`}>{location.path.split('/').slice(0, -1).join(' / ')}</Link>
          </>
        )}
      </nav>
      <PageHeader title={`${location.name}`} lead={<span className="mono">{location.path}</span>} actions={<Badge tone="blue">{t(`storage.kinds.${location.kind}`)}</Badge>} />
      {isBox ? (
        <BoxGrid location={location} onChanged={reload} />
      ) : (
        <section aria-labelledby="children-title">
          <h2 id="children-title">{t('storage.children')}</h2>
          <LocationList items={location.children} empty={t('storage.emptyChildren')} />
        </section>
      )}
    </>
  );
}

function BoxGrid({ location, onChanged }: { location: LocationDetail; onChanged(): void }) {
  const { t } = useTranslation();
  const [placing, setPlacing] = useState<string | null>(null);
  const rows = location.rows ?? 0;
  const cols = location.cols ?? 0;
  const byPosition = new Map(location.occupancy.map((cell) => [cell.position, cell]));
  return (
    <section className="card" aria-labelledby="grid-title">
      <h2 id="grid-title">{t('storage.grid', { name: location.code, rows, cols })}</h2>
      <p className="muted">
        {t('storage.occupied', { count: location.occupancy.length, total: rows * cols })}
        <span className="legend">
          <span className="legend-swatch cell-free" aria-hidden="true" /> {t('storage.legendFree')}
          <span className="legend-swatch cell-used" aria-hidden="true" /> {t('storage.legendUsed')}
        </span>
      </p>
      <div className="box-grid-wrap">
        <table className="box-grid">
          <thead>
            <tr>
              <td />
              {Array.from({ length: cols }, (_, col) => (
                <th scope="col" key={col}>
                  {col + 1}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: rows }, (_, row) => (
              <tr key={row}>
                <th scope="row">{rowLetter(row)}</th>
                {Array.from({ length: cols }, (_, col) => {
                  const position = `${rowLetter(row)}${col + 1}`;
                  const cell = byPosition.get(position);
                  return (
                    <td key={position}>
                      {cell ? (
                        <Link className="cell cell-used" to={`/samples/${cell.sampleId}`} aria-label={t('storage.cell', { position, content: cell.identifier })} title={cell.identifier}>
                          {cell.identifier.slice(-4)}
                        </Link>
                      ) : (
                        <button type="button" className="cell cell-free" aria-label={t('storage.cell', { position, content: t('storage.free') })} onClick={() => setPlacing(position)}>
                          {position}
                        </button>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {placing && (
        <PlaceDialog
          location={location}
          position={placing}
          onClose={() => setPlacing(null)}
          onPlaced={() => {
            setPlacing(null);
            onChanged();
          }}
        />
      )}
    </section>
  );
}

function PlaceDialog({ location, position, onClose, onPlaced }: { location: LocationDetail; position: string; onClose(): void; onPlaced(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Sample[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function search(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const page = await api.get('/api/v1/samples', { query: { q: query.trim(), limit: 10 } });
      setResults(page.items);
    } catch (caught) {
      setError(caught);
    }
  }

  async function place(sample: Sample) {
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/samples/{id}/move', { path: { id: sample.id }, body: { locationId: location.id, position } });
      toast(t('storage.placed', { identifier: sample.identifier, position }));
      onPlaced();
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <Dialog title={t('storage.place', { position })} onClose={onClose}>
      <div className="dialog-body">
        <p className="muted">{t('storage.placeLead')}</p>
        <form className="inline-form" onSubmit={search} role="search">
          <Field label={t('storage.find')} value={query} spellCheck={false} autoFocus onChange={(event) => setQuery(event.target.value)} />
          <button type="submit" className="button">
            {t('samples.search')}
          </button>
        </form>
        {error !== null && (error instanceof ApiError && error.status >= 400 && error.status < 500 && !error.missingRoute ? (
          <div className="form-error" role="alert"><strong>{error.title}</strong> {error.detail}</div>
        ) : (
          <ErrorState error={error} />
        ))}
        {results && results.length === 0 && <p className="muted">{t('storage.noMatch')}</p>}
        {results && results.length > 0 && (
          <ul className="pick-list">
            {results.map((sample) => (
              <li key={sample.id}>
                <span className="mono">{sample.identifier}</span>
                <span className="muted">{sample.kind}</span>
                <Quantity value={sample.quantity} unit={sample.unit} />
                <StateBadge state={sample.state} />
                <button type="button" className="button button-small button-primary" disabled={busy} onClick={() => void place(sample)} aria-label={`${t('storage.choose')}: ${sample.identifier}`}>
                  {t('storage.choose')}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Dialog>
  );
}
