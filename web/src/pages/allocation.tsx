import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { Field } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, DateTime, PageHeader, Quantity, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';
import { explain } from '../lib/allocation-explain';
import { parseQuantity } from '../lib/quantity';

type Allocation = Answer<'/api/v1/allocations/{id}', 'get'>;
type Check = Answer<'/api/v1/allocations/{id}/check', 'post'>;
type Item = Allocation['applications'][number]['items'][number];

const outcomeTone = { full: 'green', partial: 'amber', none: 'red' } as const;
const itemKey = (applicationId: string, kind: string) => `${applicationId}|${kind}`;

async function load(callId: string, signal: AbortSignal) {
  const [call, list, applications] = await Promise.all([
    api.get('/api/v1/calls/{id}', { path: { id: callId }, signal }),
    api.get('/api/v1/calls/{id}/allocations', { path: { id: callId }, signal }),
    api.get('/api/v1/applications', { query: { callId, limit: 200 }, signal }),
  ]);
  const current = list.items.find((item) => item.state !== 'superseded') ?? list.items[0];
  const allocation = current ? await api.get('/api/v1/allocations/{id}', { path: { id: current.id }, signal }) : null;
  const titles = new Map(applications.items.map((application) => [application.id, { title: application.title, institution: application.institution?.name ?? '' }]));
  return { call, allocation, history: list.items, titles };
}

/** The committee's allocation: propose with the solver, read why each got what it got, edit with live checks, approve, execute. */
export default function AllocationPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const [state, reload] = useLoad((signal) => load(id, signal), [id]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const { call, allocation, history, titles } = state.data;
  return (
    <>
      <p className="breadcrumb">
        <Link to={`/committee/${call.id}`}>{t('allocation.back', { title: call.title })}</Link>
      </p>
      <PageHeader title={t('allocation.title')} lead={call.title} actions={<Propose callId={call.id} state={call.state} onDone={reload} again={!!allocation} />} />
      {!allocation ? (
        <Empty>{call.state === 'in_review' || call.state === 'decided' ? t('allocation.empty') : t('allocation.notYet')}</Empty>
      ) : (
        <AllocationView key={`${allocation.id}-${allocation.state}-${allocation.edited}`} allocation={allocation} titles={titles} onChange={reload} />
      )}
      {history.length > 1 && (
        <details className="card">
          <summary>{t('allocation.history', { count: history.length })}</summary>
          <ul>
            {history.map((item) => (
              <li key={item.id}>
                <StatusBadge state={item.state} /> <DateTime value={item.createdAt} /> · {item.solver} · {item.note ?? ''}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

function Propose({ callId, state, onDone, again }: { callId: string; state: string; onDone(): void; again: boolean }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (state !== 'in_review' && state !== 'decided') return null;
  async function propose() {
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/calls/{id}/allocations', { path: { id: callId }, body: { timeLimitSeconds: 20 } });
      toast(t('allocation.proposed'));
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.detail || caught.title : t('state.network'));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      {error && (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
      {busy && (
        <span className="state-loading" role="status">
          <span className="spinner" aria-hidden="true" /> {t('allocation.solving')}
        </span>
      )}
      <button type="button" className={again ? 'button' : 'button button-primary'} disabled={busy} onClick={() => void propose()}>
        {again ? t('allocation.proposeAgain') : t('allocation.propose')}
      </button>
    </>
  );
}

function AllocationView({ allocation, titles, onChange }: { allocation: Allocation; titles: Map<string, { title: string; institution: string }>; onChange(): void }) {
  const { t, i18n } = useTranslation();
  const toast = useToast();
  const editable = allocation.state === 'draft' || allocation.state === 'approved';
  // Edited piece quantities, by item and source sample.
  const [edits, setEdits] = useState<Record<string, Record<string, string>>>({});
  const [check, setCheck] = useState<Check | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<'save' | 'approve' | 'execute' | null>(null);
  const [executeKey] = useState(() => crypto.randomUUID());
  const scale = Math.max(0, ...allocation.applications.flatMap((a) => a.items.map((item) => (item.requested.split('.')[1] ?? '').length)));

  const changed = useMemo(
    () =>
      allocation.applications.flatMap((application) =>
        application.items
          .filter((item) => edits[itemKey(application.applicationId, item.kind)])
          .map((item) => ({
            applicationId: application.applicationId,
            kind: item.kind,
            pieces: item.pieces.map((piece) => ({ sampleId: piece.sampleId, quantity: (edits[itemKey(application.applicationId, item.kind)]?.[piece.sampleId] ?? piece.quantity).trim() })),
          })),
      ),
    [edits, allocation],
  );
  const badInput = changed.some((item) => item.pieces.some((piece) => !parseQuantity(piece.quantity, scale).ok));

  // Live check: what the edit would give and which rules it breaks, without saving.
  useEffect(() => {
    if (changed.length === 0 || badInput) {
      setCheck(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api.post('/api/v1/allocations/{id}/check', { path: { id: allocation.id }, body: { items: changed }, signal: controller.signal }).then(
        setCheck,
        (caught: unknown) => !controller.signal.aborted && setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', '')),
      );
    }, 400);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [changed, badInput, allocation.id]);

  async function run(what: 'save' | 'approve' | 'execute', action: () => Promise<unknown>, done: string) {
    setBusy(what);
    setError(null);
    try {
      await action();
      toast(done);
      setEdits({});
      onChange();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(null);
    }
  }

  const checked = new Map((check?.items ?? []).map((item) => [itemKey(item.applicationId, item.kind), item]));
  const number = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 4 });
  const violations = check ? check.violations : allocation.verification?.violations ?? [];
  return (
    <>
      <section className="card" aria-labelledby="alloc-summary">
        <h2 id="alloc-summary">
          {t('allocation.summary')} <Badge tone={allocation.state === 'approved' || allocation.state === 'executed' ? 'green' : 'gray'}>{t(`allocation.state.${allocation.state}`)}</Badge>
        </h2>
        <dl className="details">
          <dt>{t('allocation.solver')}</dt>
          <dd>
            {allocation.solver === 'highs' ? t('allocation.optimal') : t('allocation.greedy')}
            {allocation.fallbackReason && <span className="muted"> ({allocation.fallbackReason})</span>}
          </dd>
          <dt>{t('allocation.objective')}</dt>
          <dd>
            {number.format(allocation.objective)} ({t('allocation.vsGreedy', { greedy: number.format(allocation.greedyObjective) })})
            {allocation.gap !== null && <span className="muted"> · {t('allocation.gap', { gap: number.format(allocation.gap * 100) })}</span>}
          </dd>
          <dt>{t('allocation.total')}</dt>
          <dd>
            <Quantity value={allocation.totals.allocated} unit={allocation.unit} />
          </dd>
          {allocation.executedAt && (
            <>
              <dt>{t('allocation.executedAt')}</dt>
              <dd>
                <DateTime value={allocation.executedAt} />
              </dd>
            </>
          )}
        </dl>
        <table className="table table-compact">
          <caption>{t('allocation.byKind')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('apply.fields.kind')}</th>
              <th scope="col" className="num">{t('allocation.releasable')}</th>
              <th scope="col" className="num">{t('allocation.allocated')}</th>
            </tr>
          </thead>
          <tbody>
            {allocation.totals.byKind.map((kind) => (
              <tr key={kind.kind}>
                <th scope="row">{kind.kind}</th>
                <td className="num"><Quantity value={kind.releasable} unit={allocation.unit} /></td>
                <td className="num"><Quantity value={kind.allocated} unit={allocation.unit} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <div role="status" aria-live="polite" className={violations.length > 0 ? 'card card-bad' : check ? 'card card-ok' : 'visually-hidden'} data-testid="allocation-check">
        {violations.length > 0 ? (
          <>
            <p>
              <strong>{check ? t('allocation.editBreaks') : t('allocation.inventoryChanged')}</strong>
            </p>
            <ul>
              {violations.map((violation, index) => (
                <li key={index}>{violation.message}</li>
              ))}
            </ul>
          </>
        ) : check ? (
          t('allocation.editOk')
        ) : (
          ''
        )}
      </div>
      {error && (
        <div className="form-error" role="alert">
          {error.status === 0 ? t('state.network') : error.detail || error.title}
        </div>
      )}

      <section aria-labelledby="alloc-apps">
        <h2 id="alloc-apps">{t('allocation.applications')}</h2>
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('allocation.applications')}</caption>
            <thead>
              <tr>
                <th scope="col" className="num">{t('committee.rank')}</th>
                <th scope="col">{t('list.title')}</th>
                <th scope="col">{t('apply.fields.kind')}</th>
                <th scope="col" className="num">{t('portal.asked')}</th>
                <th scope="col">{t('allocation.pieces')}</th>
                <th scope="col">{t('allocation.why')}</th>
              </tr>
            </thead>
            <tbody>
              {allocation.applications.flatMap((application) =>
                application.items.map((item, index) => {
                  const key = itemKey(application.applicationId, item.kind);
                  const live = checked.get(key);
                  const info = titles.get(application.applicationId);
                  return (
                    <tr key={key}>
                      {index === 0 && (
                        <>
                          <td className="num" rowSpan={application.items.length}>
                            {application.rank}
                          </td>
                          <th scope="row" rowSpan={application.items.length}>
                            <Link to={`/applications/${application.applicationId}`}>{info?.title ?? application.applicationId.slice(0, 8)}</Link>
                            {info?.institution && <div className="muted small">{info.institution}</div>}
                          </th>
                        </>
                      )}
                      <td>{item.kind}</td>
                      <td className="num">
                        <Quantity value={item.requested} unit={allocation.unit} />
                        <div className="muted small">
                          {t('portal.minimum')} <Quantity value={item.minimum} unit={allocation.unit} />
                        </div>
                      </td>
                      <td>
                        <Pieces item={item} unit={allocation.unit} editable={editable} label={info?.title ?? ''} values={edits[key]} scale={scale} onChange={(sampleId, value) => setEdits((all) => ({ ...all, [key]: { ...all[key], [sampleId]: value } }))} />
                        <div>
                          <Badge tone={outcomeTone[live?.outcome ?? item.outcome]}>{t(`allocation.outcome.${live?.outcome ?? item.outcome}`)}</Badge>
                          <Quantity value={live?.allocated ?? item.allocated} unit={allocation.unit} />
                        </div>
                      </td>
                      <td className="explanation">{explain(t, { ...item, ...(live ?? {}) }, item.requested, allocation.unit)}</td>
                    </tr>
                  );
                }),
              )}
            </tbody>
          </table>
        </div>
      </section>

      <div className="form-actions">
        {changed.length > 0 && (
          <>
            <button type="button" className="button" onClick={() => setEdits({})}>
              {t('allocation.discard')}
            </button>
            <button type="button" className="button button-primary" disabled={busy !== null || badInput || (check !== null && !check.ok)} onClick={() => void run('save', () => api.patch('/api/v1/allocations/{id}', { path: { id: allocation.id }, body: { items: changed } }), t('allocation.saved'))}>
              {busy === 'save' ? t('committee.saving') : t('allocation.save')}
            </button>
          </>
        )}
        {changed.length === 0 && allocation.state === 'draft' && (
          <button type="button" className="button button-primary" disabled={busy !== null} onClick={() => void run('approve', () => api.post('/api/v1/allocations/{id}/approve', { path: { id: allocation.id } }), t('allocation.approved'))}>
            {busy === 'approve' ? t('allocation.approving') : t('allocation.approve')}
          </button>
        )}
        {changed.length === 0 && allocation.state === 'approved' && (
          <button
            type="button"
            className="button button-primary"
            disabled={busy !== null}
            onClick={() => {
              if (window.confirm(t('allocation.executeConfirm'))) void run('execute', () => api.post('/api/v1/allocations/{id}/execute', { path: { id: allocation.id }, idempotencyKey: executeKey }), t('allocation.executed'));
            }}
          >
            {busy === 'execute' ? t('allocation.executing') : t('allocation.execute')}
          </button>
        )}
      </div>
      {busy === 'execute' && (
        <p className="state-loading" role="status">
          <span className="spinner" aria-hidden="true" /> {t('allocation.executingLong')}
        </p>
      )}
    </>
  );
}

function Pieces({ item, unit, editable, label, values, scale, onChange }: { item: Item; unit: string; editable: boolean; label: string; values: Record<string, string> | undefined; scale: number; onChange(sampleId: string, value: string): void }) {
  const { t } = useTranslation();
  if (item.pieces.length === 0) return <span className="muted">{t('allocation.noPieces')}</span>;
  return (
    <ul className="plain pieces">
      {item.pieces.map((piece) => {
        const value = values?.[piece.sampleId] ?? piece.quantity;
        const parsed = parseQuantity(value, scale);
        const problem = parsed.ok ? undefined : parsed.reason === 'scale' ? t('apply.err.scale', { scale }) : t('apply.err.format');
        return (
          <li key={piece.sampleId}>
            {editable ? (
              <Field
                label={t('allocation.pieceLabel', { identifier: piece.sampleIdentifier, unit: t(`units.${unit}`, { defaultValue: unit }) })}
                aria-label={t('allocation.pieceAria', { identifier: piece.sampleIdentifier, unit: t(`units.${unit}`, { defaultValue: unit }), kind: item.kind, title: label })}
                inputMode="decimal"
                value={value}
                onChange={(e) => onChange(piece.sampleId, e.target.value)}
                error={problem}
              />
            ) : (
              <>
                {piece.childIdentifier ?? piece.sampleIdentifier}: <Quantity value={piece.quantity} unit={unit} />
              </>
            )}
          </li>
        );
      })}
    </ul>
  );
}
