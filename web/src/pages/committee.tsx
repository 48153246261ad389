import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { Dialog } from '../components/dialog';
import { Field, TextAreaField } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { DateTime, PageHeader, Quantity, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';
import { parseQuantity } from '../lib/quantity';
import { callNext, isDecided } from '../lib/workflow';

type Call = Answer<'/api/v1/calls/{id}', 'get'>;
type Ranking = Answer<'/api/v1/calls/{id}/ranking', 'get'>;
type Ranked = Ranking['items'][number];
type Application = Answer<'/api/v1/applications/{id}', 'get'>;

/** The chair's release batches. */
export default function CommitteePage() {
  const { t } = useTranslation();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/calls', { query: { limit: 200 }, signal }), []);
  return (
    <>
      <PageHeader title={t('list.committee.title')} lead={t('list.committee.lead')} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.items.length === 0 && <Empty>{t('committee.empty')}</Empty>}
      {state.status === 'ok' && state.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('list.committee.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('list.title')}</th>
                <th scope="col">{t('list.state')}</th>
                <th scope="col">{t('calls.closes')}</th>
                <th scope="col">{t('review.deadline')}</th>
              </tr>
            </thead>
            <tbody>
              {state.data.items.map((call) => (
                <tr key={call.id}>
                  <th scope="row">
                    <Link to={`/committee/${call.id}`}>{call.title}</Link>
                  </th>
                  <td>
                    <StatusBadge state={call.state} />
                  </td>
                  <td>
                    <DateTime value={call.closesAt} />
                  </td>
                  <td>
                    <DateTime value={call.reviewDeadline} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

interface Row {
  application: Application;
  ranked: Ranked | null;
}

async function loadCall(id: string, signal: AbortSignal): Promise<{ call: Call; rows: Row[]; scale: Ranking['scale'] | null }> {
  const call = await api.get('/api/v1/calls/{id}', { path: { id }, signal });
  const [applications, ranking] = await Promise.all([
    api.get('/api/v1/applications', { query: { callId: id, limit: 200 }, signal }),
    api.get('/api/v1/calls/{id}/ranking', { path: { id }, signal }).catch(() => null),
  ]);
  const ranks = new Map((ranking?.items ?? []).map((item) => [item.applicationId, item]));
  const rows = applications.items
    .filter((application) => application.state !== 'draft')
    .map((application) => ({ application, ranked: ranks.get(application.id) ?? null }))
    .sort((a, b) => (a.ranked?.rank ?? Infinity) - (b.ranked?.rank ?? Infinity));
  return { call, rows, scale: ranking?.scale ?? null };
}

/** One batch for the committee: its state, reviewer assignment, the ranking with spread, and decisions. */
export function CommitteeCall() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const [state, reload] = useLoad((signal) => loadCall(id, signal), [id]);
  const [deciding, setDeciding] = useState<Application | null>(null);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const { call, rows, scale } = state.data;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/committee">{t('committee.back')}</Link>
      </p>
      <PageHeader
        title={call.title}
        lead={
          <>
            <StatusBadge state={call.state} /> · {t('calls.closes')} <DateTime value={call.closesAt} /> · {t('review.deadline')} <DateTime value={call.reviewDeadline} />
          </>
        }
        actions={<CallActions call={call} onChange={reload} />}
      />
      <section aria-labelledby="ranking-title">
        <h2 id="ranking-title">{t('committee.ranking')}</h2>
        <p className="muted">{t('committee.rankingLead')}</p>
        {rows.length === 0 ? (
          <Empty>{call.state === 'open' || call.state === 'draft' ? t('committee.noApplicationsYet') : t('committee.noApplications')}</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{t('committee.ranking')}</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">{t('committee.rank')}</th>
                  <th scope="col">{t('list.title')}</th>
                  <th scope="col" className="num">{t('committee.reviews')}</th>
                  <th scope="col" className="num">{t('committee.score')}</th>
                  <th scope="col">{t('committee.spread')}</th>
                  <th scope="col">{t('list.state')}</th>
                  <th scope="col">{t('committee.decision')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ application, ranked }) => (
                  <tr key={application.id}>
                    <td className="num">{ranked?.rank ?? '—'}</td>
                    <th scope="row">
                      <Link to={`/applications/${application.id}`}>{application.title}</Link>
                      {application.institution && <div className="muted small">{application.institution.name}</div>}
                    </th>
                    <td className="num">{ranked?.reviews ?? 0}</td>
                    <td className="num">{ranked ? <Score value={ranked.normalisedOnScale} /> : '—'}</td>
                    <td>{ranked && scale ? <Spread ranked={ranked} scale={scale} /> : <span className="muted">{t('committee.noScores')}</span>}</td>
                    <td>
                      <StatusBadge state={application.state} />
                    </td>
                    <td>
                      {call.state === 'in_review' && (application.state === 'in_review' || isDecided(application.state)) && (
                        <button
                          type="button"
                          className="button button-small"
                          aria-label={`${isDecided(application.state) ? t('committee.revise') : t('committee.decide')}: ${application.title}`}
                          onClick={() => setDeciding(application)}
                        >
                          {isDecided(application.state) ? t('committee.revise') : t('committee.decide')}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {deciding && <DecisionDialog application={deciding} onClose={() => setDeciding(null)} onDone={reload} />}
    </>
  );
}

function Score({ value }: { value: number }) {
  const { i18n } = useTranslation();
  return <>{new Intl.NumberFormat(i18n.language, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value)}</>;
}

/** The range of the reviewers' scores on the rubric's scale, with the mean marked. */
function Spread({ ranked, scale }: { ranked: Ranked; scale: Ranking['scale'] }) {
  const { t, i18n } = useTranslation();
  const span = scale.max - scale.min || 1;
  const at = (value: number) => `${((value - scale.min) / span) * 100}%`;
  const number = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 2 });
  const label = t('committee.spreadLabel', { min: number.format(ranked.spread.rawMin), max: number.format(ranked.spread.rawMax), sd: number.format(ranked.spread.sd) });
  return (
    <span className="spread" title={label}>
      <span className="spread-track" aria-hidden="true">
        <span className="spread-range" style={{ left: at(ranked.spread.rawMin), width: `calc(${at(ranked.spread.rawMax)} - ${at(ranked.spread.rawMin)})` }} />
        <span className="spread-mean" style={{ left: at(ranked.rawMean) }} />
      </span>
      <span className="spread-text">{label}</span>
    </span>
  );
}

function CallActions({ call, onChange }: { call: Call; onChange(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const next = callNext[call.state];
  async function run(action: () => Promise<unknown>, done: string) {
    setBusy(true);
    setError(null);
    try {
      await action();
      toast(done);
      onChange();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }
  const assign = () =>
    run(async () => {
      const result = await api.post('/api/v1/calls/{id}/assignments/auto', { path: { id: call.id }, body: {} });
      if (result.shortfalls.length > 0) toast(t('committee.shortfall', { count: result.shortfalls.length }), 'info');
      return result;
    }, t('committee.assigned'));
  return (
    <>
      {error && (
        <div className="form-error" role="alert">
          {error.status === 0 ? t('state.network') : error.detail || error.title}
        </div>
      )}
      <Link className="button" to={`/statistics?call=${call.id}`}>
        {t('calls.statistics')}
      </Link>
      {['in_review', 'decided', 'distributed'].includes(call.state) && (
        <Link className="button" to={`/committee/${call.id}/allocation`}>
          {t('committee.allocation')}
        </Link>
      )}
      {(call.state === 'closed' || call.state === 'in_review') && (
        <button type="button" className="button" disabled={busy} onClick={() => void assign()}>
          {t('committee.autoAssign')}
        </button>
      )}
      {next && (
        <button
          type="button"
          className="button button-primary"
          disabled={busy}
          onClick={() => {
            if (window.confirm(t(`committee.confirm.${next}`, { defaultValue: t('committee.confirm.any', { state: t(`status.${next}`) }) }))) {
              void run(() => api.post('/api/v1/calls/{id}/transitions', { path: { id: call.id }, body: { to: next as Call['state'] } }), t('committee.moved', { state: t(`status.${next}`) }));
            }
          }}
        >
          {t(`committee.to.${next}`)}
        </button>
      )}
    </>
  );
}

type Outcome = 'approved' | 'partially_approved' | 'rejected';

function DecisionDialog({ application, onClose, onDone }: { application: Application; onClose(): void; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [outcome, setOutcome] = useState<Outcome>(isDecided(application.state) ? (application.state as Outcome) : 'approved');
  const [rationale, setRationale] = useState(application.decision?.rationale ?? '');
  const [letter, setLetter] = useState('');
  const [approved, setApproved] = useState<Record<string, string>>(() => Object.fromEntries(application.items.map((item) => [item.kind, item.approved ?? item.quantity])));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const scale = Math.max(0, ...application.items.map((item) => (item.quantity.split('.')[1] ?? '').length));

  // Checked as the chair types, with the rules the server applies.
  const itemError = (kind: string): string | undefined => {
    if (outcome !== 'partially_approved') return undefined;
    const item = application.items.find((entry) => entry.kind === kind)!;
    const parsed = parseQuantity(approved[kind] ?? '', scale);
    if (!parsed.ok) return parsed.reason === 'scale' ? t('apply.err.scale', { scale }) : t('apply.err.format');
    const asked = parseQuantity(item.quantity, scale);
    const minimum = parseQuantity(item.minimum, scale);
    if (asked.ok && parsed.value > asked.value) return t('committee.err.moreThanAsked');
    if (minimum.ok && parsed.value > 0n && parsed.value < minimum.value) return t('committee.err.belowMinimum');
    return undefined;
  };
  const rationaleError = error?.field('rationale') ?? (busy === false && error && !rationale.trim() ? t('committee.err.rationale') : undefined);

  async function decide() {
    setError(null);
    if (!rationale.trim()) {
      setError(new ApiError(400, 'local', t('committee.err.rationale'), '', [{ field: 'rationale', message: t('committee.err.rationale') }]));
      return;
    }
    if (application.items.some((item) => itemError(item.kind))) return;
    setBusy(true);
    try {
      await api.post('/api/v1/applications/{id}/decision', {
        path: { id: application.id },
        body: {
          outcome,
          rationale: rationale.trim(),
          ...(letter.trim() ? { letter: letter.trim() } : {}),
          ...(outcome === 'partially_approved' ? { approvedItems: application.items.map((item) => ({ kind: item.kind, quantity: approved[item.kind]!.trim() })) } : {}),
        },
      });
      toast(t('committee.decided'));
      onClose();
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog title={t('committee.decideTitle', { title: application.title })} onClose={onClose} wide>
      <div className="dialog-body">
        {error && !error.errors.length && (
          <div className="form-error" role="alert">
            {error.status === 0 ? t('state.network') : error.detail || error.title}
          </div>
        )}
        <fieldset>
          <legend>{t('committee.outcome')}</legend>
          {(['approved', 'partially_approved', 'rejected'] as const).map((value) => (
            <label key={value} className="radio">
              <input type="radio" name="outcome" value={value} checked={outcome === value} onChange={() => setOutcome(value)} /> {t(`status.${value}`)}
            </label>
          ))}
        </fieldset>
        {outcome === 'partially_approved' &&
          application.items.map((item) => (
            <Field
              key={item.kind}
              label={t('committee.approvedOf', { kind: item.kind, unit: t(`units.${application.unit}`, { defaultValue: application.unit }) })}
              inputMode="decimal"
              value={approved[item.kind] ?? ''}
              onChange={(e) => setApproved((all) => ({ ...all, [item.kind]: e.target.value }))}
              hint={
                <>
                  {t('portal.asked')} <Quantity value={item.quantity} unit={application.unit} />, {t('portal.minimum')} <Quantity value={item.minimum} unit={application.unit} />
                </>
              }
              error={itemError(item.kind) ?? error?.field(`approvedItems.${application.items.indexOf(item)}.quantity`)}
            />
          ))}
        <TextAreaField label={t('committee.rationale')} hint={t('committee.rationaleHint')} value={rationale} onChange={(e) => setRationale(e.target.value)} error={rationaleError} />
        <TextAreaField label={t('committee.letter')} hint={t('committee.letterHint')} value={letter} onChange={(e) => setLetter(e.target.value)} error={error?.field('letter')} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void decide()}>
            {busy ? t('committee.saving') : t('committee.record')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
