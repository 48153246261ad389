import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import { sampleStates, type SampleState } from '../api/contract';
import { Field, SelectField } from '../components/field';
import { Empty, ErrorState, Loading, Pager } from '../components/states';
import { PageHeader, Quantity, StateBadge } from '../components/ui';
import { useLoad, usePages } from '../components/use-load';

const PAGE = 50;
const filterNames = ['collectionId', 'kind', 'state', 'q'] as const;
type Filters = Record<(typeof filterNames)[number], string>;

function filtersOf(params: URLSearchParams): Filters {
  return Object.fromEntries(filterNames.map((name) => [name, params.get(name) ?? ''])) as Filters;
}

export default function SamplesPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const applied = filtersOf(params);
  const [draft, setDraft] = useState<Filters>(applied);
  const [collections] = useLoad((signal) => api.get('/api/v1/collections', { query: { limit: 100 }, signal }), []);
  // Samples ticked for a label sheet (kept across "load more"; cleared with a new search).
  const [selected, setSelected] = useState<string[]>([]);
  const key = params.toString();
  const { rows, cursor, status, error, more, reload } = usePages((after) => api.get('/api/v1/samples', { query: { ...clean(applied), limit: PAGE, cursor: after } }), [key]);

  useEffect(() => setDraft(filtersOf(params)), [key]);
  useEffect(() => {
    if (status === 'loading') setSelected([]);
  }, [status]);

  function submit(event: FormEvent) {
    event.preventDefault();
    setParams(clean(draft));
  }

  const collectionList = collections.status === 'ok' ? collections.data.items : [];
  const byId = new Map(collectionList.map((collection) => [collection.id, collection]));
  const kinds = [...new Set(collectionList.filter((c) => !draft.collectionId || c.id === draft.collectionId).flatMap((c) => c.kinds))].sort();
  const filtered = filterNames.some((name) => applied[name]);

  return (
    <>
      <PageHeader title={t('samples.title')} lead={t('samples.lead')} />
      <form className="filters card" onSubmit={submit} role="search" aria-label={t('samples.filters')}>
        <SelectField label={t('samples.collection')} value={draft.collectionId} onChange={(value) => setDraft({ ...draft, collectionId: value })}>
          <option value="">{t('samples.any')}</option>
          {collectionList.map((collection) => (
            <option key={collection.id} value={collection.id}>
              {collection.code} · {collection.name}
            </option>
          ))}
        </SelectField>
        <Field label={t('samples.kind')} value={draft.kind} list="sample-kinds" onChange={(event) => setDraft({ ...draft, kind: event.target.value })} />
        <datalist id="sample-kinds">
          {kinds.map((kind) => (
            <option key={kind} value={kind} />
          ))}
        </datalist>
        <SelectField label={t('samples.state')} value={draft.state} onChange={(value) => setDraft({ ...draft, state: value })}>
          <option value="">{t('samples.any')}</option>
          {sampleStates.map((state) => (
            <option key={state} value={state}>
              {t(`sampleState.${state}`)}
            </option>
          ))}
        </SelectField>
        <Field label={t('samples.identifier')} name="q" value={draft.q} spellCheck={false} autoCapitalize="characters" onChange={(event) => setDraft({ ...draft, q: event.target.value })} />
        <div className="filter-actions">
          <button type="submit" className="button button-primary">
            {t('samples.search')}
          </button>
          {filtered && (
            <button type="button" className="button button-quiet" onClick={() => setParams({})}>
              {t('samples.clear')}
            </button>
          )}
        </div>
      </form>

      {status === 'loading' && <Loading />}
      {status === 'error' && <ErrorState error={error} onRetry={reload} />}
      {(status === 'ok' || status === 'more') && rows.length === 0 && <Empty>{filtered ? t('samples.empty') : t('samples.emptyAll')}</Empty>}
      {rows.length > 0 && status !== 'loading' && (
        <>
          <div className="toolbar">
            {selected.length > 0 ? (
              <a className="button" href={`/api/v1/samples/labels.pdf?ids=${selected.join(',')}`} target="_blank" rel="noreferrer" title={t('desk.labels.hint')}>
                {t('desk.labels.selected', { count: selected.length })}
              </a>
            ) : (
              <span className="muted small">{t('desk.labels.hint')}</span>
            )}
          </div>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col" className="select-cell">
                    <input
                      type="checkbox"
                      aria-label={t('desk.labels.selectAll')}
                      checked={rows.length > 0 && rows.every((sample) => selected.includes(sample.id))}
                      onChange={(event) => setSelected(event.target.checked ? rows.map((sample) => sample.id).slice(0, 240) : [])}
                    />
                  </th>
                  <th scope="col">{t('samples.identifierCol')}</th>
                  <th scope="col">{t('samples.collection')}</th>
                  <th scope="col">{t('samples.kind')}</th>
                  <th scope="col" className="num">{t('samples.quantity')}</th>
                  <th scope="col" className="num">{t('samples.available')}</th>
                  <th scope="col">{t('samples.state')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((sample) => (
                  <tr key={sample.id}>
                    <td className="select-cell">
                      <input
                        type="checkbox"
                        aria-label={t('desk.labels.select', { identifier: sample.identifier })}
                        checked={selected.includes(sample.id)}
                        onChange={(event) => setSelected((all) => (event.target.checked ? [...all, sample.id].slice(0, 240) : all.filter((id) => id !== sample.id)))}
                      />
                    </td>
                    <th scope="row">
                      <Link className="mono" to={`/samples/${sample.id}`}>
                        {sample.identifier}
                      </Link>
                    </th>
                    <td>{byId.get(sample.collectionId)?.code ?? '—'}</td>
                    <td>{sample.kind}</td>
                    <td className="num">
                      <Quantity value={sample.quantity} unit={sample.unit} />
                    </td>
                    <td className="num">
                      <Quantity value={sample.available} unit={sample.unit} />
                    </td>
                    <td>
                      <StateBadge state={sample.state} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            shown={t('samples.shown', { count: rows.length })}
            hasMore={!!cursor}
            loading={status === 'more'}
            onMore={more}
            labels={{ more: t('samples.more'), loading: t('samples.loadingMore'), end: t('samples.end') }}
          />
        </>
      )}
    </>
  );
}

function clean(filters: Filters): Partial<Omit<Filters, 'state'>> & { state?: SampleState } {
  const kept = Object.fromEntries(Object.entries(filters).filter(([, value]) => value.trim() !== '').map(([name, value]) => [name, value.trim()])) as Partial<Filters>;
  // Only a known state goes to the server (the API refuses others with 400).
  return { ...kept, state: sampleStates.find((state) => state === kept.state) };
}
