import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { Dialog } from '../components/dialog';
import { TextAreaField } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { DateTime, PageHeader, Quantity, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';

type MyReview = Answer<'/api/v1/reviews', 'get'>['items'][number];
type Review = Answer<'/api/v1/reviews/{id}', 'get'>;
type Call = Answer<'/api/v1/calls/{id}', 'get'>;
type Application = Answer<'/api/v1/applications/{id}', 'get'>;

function Deadline({ value }: { value: string | null }) {
  const { t } = useTranslation();
  if (!value) return <span className="muted">{t('review.noDeadline')}</span>;
  const days = Math.ceil((new Date(value).getTime() - Date.now()) / 86_400_000);
  return (
    <span className={days <= 2 ? 'deadline deadline-near' : 'deadline'}>
      <DateTime value={value} /> {days >= 0 ? t('review.daysLeft', { count: days }) : t('review.overdue')}
    </span>
  );
}

/** The reviewer's assignments, with the deadline of each call. */
export default function ReviewsPage() {
  const { t } = useTranslation();
  const [state, reload] = useLoad(async (signal) => {
    const page = await api.get('/api/v1/reviews', { query: { limit: 200 }, signal });
    const ids = [...new Set(page.items.map((review) => review.callId))];
    const calls = await Promise.all(ids.map((id) => api.get('/api/v1/calls/{id}', { path: { id }, signal }).catch(() => null)));
    const byId = new Map(calls.filter((call): call is Call => call !== null).map((call) => [call.id, call]));
    return page.items.map((review) => ({ review, call: byId.get(review.callId) ?? null }));
  }, []);
  return (
    <>
      <PageHeader title={t('list.reviews.title')} lead={t('list.reviews.lead')} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.length === 0 && <Empty>{t('list.reviews.empty')}</Empty>}
      {state.status === 'ok' && state.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('list.reviews.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('list.title')}</th>
                <th scope="col">{t('review.call')}</th>
                <th scope="col">{t('list.state')}</th>
                <th scope="col">{t('review.deadline')}</th>
              </tr>
            </thead>
            <tbody>
              {state.data.map(({ review, call }) => (
                <ReviewRow key={review.id} review={review} call={call} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function ReviewRow({ review, call }: { review: MyReview; call: Call | null }) {
  return (
    <tr>
      <th scope="row">
        <Link to={`/reviews/${review.id}`}>{review.applicationTitle}</Link>
      </th>
      <td>{call?.title ?? '—'}</td>
      <td>
        <StatusBadge state={review.state} />
      </td>
      <td>
        <Deadline value={call?.reviewDeadline ?? null} />
      </td>
    </tr>
  );
}

interface Sheet {
  scores: Record<string, number | null>;
  comments: Record<string, string>;
  commentsForApplicant: string;
  confidentialNotes: string;
}

const draftKey = (id: string) => `samplebank.review.${id}`;

function sheetOf(review: Review, call: Call): Sheet {
  const saved = localStorage.getItem(draftKey(review.id));
  if (saved && review.state === 'assigned') {
    try {
      return JSON.parse(saved) as Sheet;
    } catch {
      // A damaged local draft is dropped; the server's copy is the truth.
    }
  }
  const scores: Sheet['scores'] = {};
  const comments: Sheet['comments'] = {};
  for (const criterion of call.rubric.criteria) {
    const given = review.scores.find((score) => score.criterion === criterion.key);
    scores[criterion.key] = given?.score ?? null;
    comments[criterion.key] = given?.comment ?? '';
  }
  return { scores, comments, commentsForApplicant: review.commentsForApplicant ?? '', confidentialNotes: review.confidentialNotes ?? '' };
}

/** One review: the application (anonymous in a blind call), the rubric, autosave, submit and conflict. */
export function ReviewWorkspace() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const [state, reload] = useLoad(async (signal) => {
    const review = await api.get('/api/v1/reviews/{id}', { path: { id }, signal });
    const [call, application] = await Promise.all([
      api.get('/api/v1/calls/{id}', { path: { id: review.callId }, signal }),
      api.get('/api/v1/applications/{id}', { path: { id: review.applicationId }, signal }),
    ]);
    return { review, call, application };
  }, [id]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const { review, call, application } = state.data;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/reviews">{t('review.back')}</Link>
      </p>
      <PageHeader
        title={t('review.title', { title: application.title })}
        lead={
          <>
            {call.title} · {t('review.deadline')}: <Deadline value={call.reviewDeadline} />
          </>
        }
      />
      {call.blind && <p className="notice-inline">{t('review.blindNote')}</p>}
      <div className="layout-2">
        <ApplicationForReview application={application} blind={call.blind} />
        {review.state === 'recused' ? (
          <section className="card">
            <p>{t('review.recused')}</p>
          </section>
        ) : (
          <ScoreSheet review={review} call={call} onChange={reload} />
        )}
      </div>
    </>
  );
}

function ApplicationForReview({ application, blind }: { application: Application; blind: boolean }) {
  const { t } = useTranslation();
  return (
    <section className="card" aria-labelledby="app-title">
      <h2 id="app-title">{t('review.application')}</h2>
      <dl className="details">
        {!blind && application.applicant && (
          <>
            <dt>{t('review.applicant')}</dt>
            <dd>
              {application.applicant.name}
              {application.institution ? ` · ${application.institution.name}` : ''}
            </dd>
          </>
        )}
        <dt>{t('apply.fields.direction')}</dt>
        <dd>{application.researchDirection ?? application.researchDirectionOther ?? '—'}</dd>
        <dt>{t('apply.fields.methods')}</dt>
        <dd className="prose">{application.methods ?? '—'}</dd>
        <dt>{t('apply.fields.justification')}</dt>
        <dd className="prose">{application.justification ?? '—'}</dd>
        <dt>{t('portal.destructive')}</dt>
        <dd>{application.destructive ? t('common.yes') : t('common.no')}</dd>
        <dt>{t('apply.items')}</dt>
        <dd>
          <ul className="plain">
            {application.items.map((item) => (
              <li key={item.kind}>
                {item.kind}: <Quantity value={item.quantity} unit={application.unit} /> ({t('portal.minimum')} <Quantity value={item.minimum} unit={application.unit} />)
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      {application.attachments.length > 0 && (
        <ul className="file-list">
          {application.attachments.map((file) => (
            <li key={file.id}>
              <a href={`/api/v1/applications/${application.id}/attachments/${file.id}`} download>
                {blind ? t('review.attachment', { n: file.id.slice(0, 8) }) : file.name}
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ScoreSheet({ review, call, onChange }: { review: Review; call: Call; onChange(): void }) {
  const { t, i18n } = useTranslation();
  const toast = useToast();
  const [sheet, setSheet] = useState<Sheet>(() => sheetOf(review, call));
  const [saved, setSaved] = useState<{ where: 'device' | 'server'; at: Date } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState(false);
  const navigate = useNavigate();
  const first = useRef(true);
  const { scaleMin, scaleMax, criteria } = call.rubric;
  const complete = criteria.every((criterion) => sheet.scores[criterion.key] !== null && sheet.scores[criterion.key] !== undefined);
  const editable = call.state === 'in_review';

  const body = () => ({
    scores: criteria.map((criterion) => ({ criterion: criterion.key, score: sheet.scores[criterion.key]!, ...(sheet.comments[criterion.key]?.trim() ? { comment: sheet.comments[criterion.key]!.trim() } : {}) })),
    ...(sheet.commentsForApplicant.trim() ? { commentsForApplicant: sheet.commentsForApplicant } : {}),
    ...(sheet.confidentialNotes.trim() ? { confidentialNotes: sheet.confidentialNotes } : {}),
  });

  // Autosave: a review not yet submitted is kept on this device; a submitted one is revised on the server.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => {
      if (review.state === 'assigned') {
        localStorage.setItem(draftKey(review.id), JSON.stringify(sheet));
        setSaved({ where: 'device', at: new Date() });
      } else if (complete && editable) {
        api.put('/api/v1/reviews/{id}', { path: { id: review.id }, body: body() }).then(
          () => setSaved({ where: 'server', at: new Date() }),
          (caught: unknown) => setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', '')),
        );
      }
    }, 600);
    return () => clearTimeout(timer);
  }, [sheet]);

  async function submit() {
    if (!complete) {
      setError(new ApiError(400, 'local', t('review.scoreAll'), t('review.scoreAll')));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.put('/api/v1/reviews/{id}', { path: { id: review.id }, body: body() });
      localStorage.removeItem(draftKey(review.id));
      toast(t('review.submitted'));
      onChange();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }

  const points = Array.from({ length: scaleMax - scaleMin + 1 }, (_, i) => scaleMin + i);
  return (
    <section className="card" aria-labelledby="score-title">
      <h2 id="score-title">{t('review.rubric')}</h2>
      <p className="muted">{t('review.scale', { min: scaleMin, max: scaleMax })}</p>
      {!editable && <p className="notice-inline">{call.state === 'closed' || call.state === 'open' ? t('review.notYet') : t('review.closed')}</p>}
      {error && (
        <div className="form-error" role="alert">
          {error.status === 0 ? t('state.network') : error.detail || error.title}
        </div>
      )}
      {criteria.map((criterion) => (
        <fieldset key={criterion.key} className="criterion">
          <legend>
            {criterion.name} <span className="muted">({t('review.weight', { weight: criterion.weight })})</span>
          </legend>
          {criterion.description && <p className="muted">{criterion.description}</p>}
          <div className="scale" role="radiogroup" aria-label={criterion.name}>
            {points.map((point) => (
              <label key={point} className="scale-point">
                <input
                  type="radio"
                  name={`score-${criterion.key}`}
                  value={point}
                  disabled={!editable}
                  checked={sheet.scores[criterion.key] === point}
                  onChange={() => setSheet((s) => ({ ...s, scores: { ...s.scores, [criterion.key]: point } }))}
                />
                <span>{point}</span>
              </label>
            ))}
          </div>
          <TextAreaField
            label={t('review.criterionComment', { name: criterion.name })}
            rows={2}
            disabled={!editable}
            value={sheet.comments[criterion.key] ?? ''}
            onChange={(e) => setSheet((s) => ({ ...s, comments: { ...s.comments, [criterion.key]: e.target.value } }))}
          />
        </fieldset>
      ))}
      <TextAreaField label={t('review.forApplicant')} hint={t('review.forApplicantHint')} disabled={!editable} value={sheet.commentsForApplicant} onChange={(e) => setSheet((s) => ({ ...s, commentsForApplicant: e.target.value }))} />
      <TextAreaField label={t('review.confidential')} hint={t('review.confidentialHint')} disabled={!editable} value={sheet.confidentialNotes} onChange={(e) => setSheet((s) => ({ ...s, confidentialNotes: e.target.value }))} />
      <p className="muted" role="status" aria-live="polite">
        {saved ? t(saved.where === 'device' ? 'review.savedDevice' : 'review.savedServer', { time: saved.at.toLocaleTimeString(i18n.language) }) : review.state === 'submitted' ? t('review.submittedAt') : ''}
        {review.state === 'submitted' && review.submittedAt && !saved && <DateTime value={review.submittedAt} />}
      </p>
      <div className="form-actions">
        {review.state === 'assigned' && (
          <button type="button" className="button button-quiet" onClick={() => setConflict(true)}>
            {t('review.declare')}
          </button>
        )}
        {review.state === 'assigned' && (
          <button type="button" className="button button-primary" disabled={busy || !editable} onClick={() => void submit()}>
            {busy ? t('review.submitting') : t('review.submit')}
          </button>
        )}
      </div>
      {conflict && <ConflictDialog applicationId={review.applicationId} onClose={() => setConflict(false)} onDone={() => navigate('/reviews')} />}
    </section>
  );
}

function ConflictDialog({ applicationId, onClose, onDone }: { applicationId: string; onClose(): void; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function declare() {
    if (!reason.trim()) {
      setError(t('review.conflictReasonNeeded'));
      return;
    }
    try {
      await api.post('/api/v1/applications/{id}/conflicts', { path: { id: applicationId }, body: { reason: reason.trim() } });
      toast(t('review.conflictDeclared'));
      onClose();
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.detail || caught.title : t('state.network'));
    }
  }
  return (
    <Dialog title={t('review.conflictTitle')} onClose={onClose}>
      <div className="dialog-body">
        <p>{t('review.conflictLead')}</p>
        <TextAreaField label={t('review.conflictReason')} value={reason} onChange={(e) => setReason(e.target.value)} error={error ?? undefined} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="button" className="button button-danger" onClick={() => void declare()}>
            {t('review.declareConfirm')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
