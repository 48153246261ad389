import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api/client';
import type { Lineage, Movement, Sample } from '../api/contract';
import { useAuth } from '../auth';
import { ErrorState, Loading } from '../components/states';
import { DateTime, PageHeader, Quantity, StateBadge } from '../components/ui';
import { useLoad } from '../components/use-load';
import { SplitDialog } from './split-dialog';

export default function SamplePage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const { user } = useAuth();
  const [splitting, setSplitting] = useState(false);
  const [state, reload] = useLoad(
    async (signal) => {
      const sample = await api.get('/api/v1/samples/{id}', { path: { id }, signal });
      const [collection, location] = await Promise.all([
        api.get('/api/v1/collections/{id}', { path: { id: sample.collectionId }, signal }).catch(() => null),
        sample.locationId ? api.get('/api/v1/locations/{id}', { path: { id: sample.locationId }, signal }).catch(() => null) : null,
      ]);
      return { sample, collection, location };
    },
    [id],
  );

  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const { sample, collection, location } = state.data;
  const canSplit = user?.roles.includes('curator') && sample.state !== 'consumed' && sample.state !== 'destroyed';
  return (
    <>
      <nav aria-label="breadcrumb" className="breadcrumb">
        <Link to="/samples">{t('sample.back')}</Link>
      </nav>
      <PageHeader
        title={t('sample.title', { identifier: sample.identifier })}
        actions={
          <>
            <a className="button" href={`/api/v1/samples/labels.pdf?ids=${sample.id}`} target="_blank" rel="noreferrer" title={t('desk.labels.hint')}>
              {t('desk.labels.one')}
            </a>
            {canSplit && (
              <button type="button" className="button button-primary" onClick={() => setSplitting(true)}>
                {t('sample.split')}
              </button>
            )}
          </>
        }
      />
      <div className="layout-2">
        <section className="card" aria-labelledby="details-title">
          <h2 id="details-title">{t('sample.details')}</h2>
          <dl className="details">
            <dt>{t('sample.quantity')}</dt>
            <dd className="big-quantity" data-testid="sample-quantity">
              <Quantity value={sample.quantity} unit={sample.unit} />
            </dd>
            <dt>{t('sample.available')}</dt>
            <dd data-testid="sample-available">
              <Quantity value={sample.available} unit={sample.unit} />
            </dd>
            <dt>{t('sample.reserved')}</dt>
            <dd>
              <Quantity value={sample.reserved} unit={sample.unit} />
            </dd>
            <dt>{t('sample.state')}</dt>
            <dd>
              <StateBadge state={sample.state} />
            </dd>
            <dt>{t('sample.kind')}</dt>
            <dd>{sample.kind}</dd>
            <dt>{t('sample.collection')}</dt>
            <dd>{collection ? `${collection.code} · ${collection.name}` : '—'}</dd>
            <dt>{t('sample.location')}</dt>
            <dd>
              {location ? (
                <Link to={`/storage/${location.id}`}>
                  {location.path}
                  {sample.position ? ` · ${sample.position}` : ''}
                </Link>
              ) : (
                <span className="muted">{t('sample.nowhere')}</span>
              )}
            </dd>
            <dt>{t('sample.created')}</dt>
            <dd>
              <DateTime value={sample.createdAt} />
            </dd>
            {Object.entries(sample.attributes ?? {}).map(([name, value]) => (
              <AttributeRow key={name} name={name} value={value} />
            ))}
          </dl>
        </section>
        <LineageCard sample={sample} />
      </div>
      <MovementsCard sample={sample} />
      {splitting && collection && (
        <SplitDialog
          sample={sample}
          collection={collection}
          onClose={() => setSplitting(false)}
          onDone={() => {
            setSplitting(false);
            reload();
          }}
        />
      )}
    </>
  );
}

function AttributeRow({ name, value }: { name: string; value: unknown }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
    </>
  );
}

interface TreeNode {
  sample: Sample;
  children: TreeNode[];
}

/** Ancestors (root first) then the descendants, nested by parent. */
function buildTree(sample: Sample, lineage: Lineage): TreeNode {
  const nodes = new Map<string, TreeNode>();
  const all = [...lineage.ancestors, sample, ...lineage.descendants];
  for (const item of all) nodes.set(item.id, { sample: item, children: [] });
  let root: TreeNode | undefined;
  for (const item of all) {
    const node = nodes.get(item.id)!;
    const parent = item.parentId ? nodes.get(item.parentId) : undefined;
    if (parent && parent !== node && !parent.children.includes(node)) parent.children.push(node);
    else if (!root) root = node;
  }
  return root ?? nodes.get(sample.id)!;
}

function LineageCard({ sample }: { sample: Sample }) {
  const { t } = useTranslation();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/samples/{id}/lineage', { path: { id: sample.id }, signal }), [sample.id, sample.updatedAt]);
  return (
    <section className="card" aria-labelledby="lineage-title">
      <h2 id="lineage-title">{t('sample.lineage')}</h2>
      <p className="muted">{t('sample.lineageLead')}</p>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' &&
        (state.data.ancestors.length === 0 && state.data.descendants.length === 0 ? (
          <p className="muted">{t('sample.noLineage')}</p>
        ) : (
          <ul className="tree" role="tree" aria-labelledby="lineage-title">
            <TreeItem node={buildTree(sample, state.data)} current={sample.id} />
          </ul>
        ))}
    </section>
  );
}

function TreeItem({ node, current }: { node: TreeNode; current: string }) {
  const { t } = useTranslation();
  const isCurrent = node.sample.id === current;
  return (
    <li role="treeitem" aria-expanded={node.children.length ? true : undefined} aria-current={isCurrent ? 'page' : undefined}>
      <span className={isCurrent ? 'tree-node tree-current' : 'tree-node'}>
        {isCurrent ? <strong className="mono">{node.sample.identifier}</strong> : <Link className="mono" to={`/samples/${node.sample.id}`}>{node.sample.identifier}</Link>}
        <span className="muted">{node.sample.kind}</span>
        <Quantity value={node.sample.quantity} unit={node.sample.unit} />
        <StateBadge state={node.sample.state} />
        {isCurrent && <span className="muted">({t('sample.thisSample')})</span>}
      </span>
      {node.children.length > 0 && (
        <ul role="group">
          {node.children.map((child) => (
            <TreeItem key={child.sample.id} node={child} current={current} />
          ))}
        </ul>
      )}
    </li>
  );
}

function MovementsCard({ sample }: { sample: Sample }) {
  const { t } = useTranslation();
  const [extra, setExtra] = useState<{ items: Movement[]; cursor: string | null; busy: boolean }>({ items: [], cursor: null, busy: false });
  const [state, reload] = useLoad(
    async (signal) => {
      const page = await api.get('/api/v1/samples/{id}/movements', { path: { id: sample.id }, query: { limit: 50 }, signal });
      setExtra({ items: [], cursor: page.nextCursor, busy: false });
      return page.items;
    },
    [sample.id, sample.updatedAt],
  );
  async function more() {
    if (!extra.cursor) return;
    setExtra({ ...extra, busy: true });
    const page = await api.get('/api/v1/samples/{id}/movements', { path: { id: sample.id }, query: { limit: 50, cursor: extra.cursor } });
    setExtra({ items: [...extra.items, ...page.items], cursor: page.nextCursor, busy: false });
  }
  return (
    <section className="card" aria-labelledby="movements-title">
      <h2 id="movements-title">{t('sample.movements')}</h2>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.length === 0 && <p className="muted">{t('sample.noMovements')}</p>}
      {state.status === 'ok' && state.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('sample.when')}</th>
                <th scope="col">{t('sample.movement')}</th>
                <th scope="col" className="num">{t('sample.delta')}</th>
                <th scope="col" className="num">{t('sample.after')}</th>
                <th scope="col">{t('sample.state')}</th>
                <th scope="col">{t('sample.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {[...state.data, ...extra.items].map((movement) => (
                <tr key={movement.id}>
                  <td>
                    <DateTime value={movement.occurredAt} />
                  </td>
                  <td>{t(`movementKind.${movement.kind}`, { defaultValue: movement.kind })}</td>
                  <td className={`num ${movement.delta.startsWith('-') ? 'negative' : ''}`}>{signed(movement.delta)}</td>
                  <td className="num">
                    <Quantity value={movement.quantityAfter} unit={sample.unit} />
                  </td>
                  <td>
                    <StateBadge state={movement.stateAfter} />
                  </td>
                  <td>{movement.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {extra.cursor && (
        <div className="pager">
          <button type="button" className="button" disabled={extra.busy} onClick={() => void more()}>
            {t('samples.more')}
          </button>
        </div>
      )}
    </section>
  );
}

function signed(delta: string): string {
  return delta.startsWith('-') || /^0(\.0*)?$/.test(delta) ? delta : `+${delta}`;
}

