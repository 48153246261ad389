import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api, ApiError, upload, type Answer } from '../api/client';
import { useAuth } from '../auth';
import { Dialog } from '../components/dialog';
import { TextAreaField } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { DateTime, PageHeader, Progress, Quantity, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';
import { inUseOrder } from '../lib/consent';
import { applicationSteps, stepOf, withdrawable } from '../lib/workflow';
import { Distribution } from './loans';

type Application = Answer<'/api/v1/applications/{id}', 'get'>;
type Call = Answer<'/api/v1/calls/{id}', 'get'>;
type Uses = Answer<'/api/v1/applications/{id}/uses', 'get'>;

/** An application: where it stands, what it asks for, its files and the decision letter. */
export default function ApplicationPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const [state, reload] = useLoad(async (signal) => {
    const application = await api.get('/api/v1/applications/{id}', { path: { id }, signal });
    const call = await api.get('/api/v1/calls/{id}', { path: { id: application.callId }, signal }).catch(() => null);
    // Human material: the research uses the applicant declared (and those the donors' consent must cover).
    const uses = call?.humanConsent ? await api.get('/api/v1/applications/{id}/uses', { path: { id: application.id }, signal }).catch(() => null) : null;
    return { application, call, uses };
  }, [id]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const { application, call, uses } = state.data;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/applications">{t('portal.back')}</Link>
      </p>
      <PageHeader title={application.title} lead={call ? call.title : undefined} actions={<Actions application={application} onChange={reload} />} />
      <p>
        {t('portal.state')}: <StatusBadge state={application.state} />
      </p>
      <Steps state={application.state} />
      {application.decision && <DecisionLetter decision={application.decision} />}
      {['allocated', 'shipped', 'received', 'reporting', 'closed'].includes(application.state) && <Distribution applicationId={application.id} onChange={reload} />}
      <div className="layout-2">
        <Details application={application} call={call} uses={uses} />
        <Attachments application={application} onChange={reload} />
      </div>
    </>
  );
}

function Steps({ state }: { state: string }) {
  const { t } = useTranslation();
  const reached = stepOf(state);
  if (state === 'withdrawn') return <p className="notice-inline">{t('portal.withdrawnNote')}</p>;
  return (
    <ol className="steps" aria-label={t('portal.progress')}>
      {applicationSteps.map((step, index) => (
        <li key={step} className={index < reached ? 'done' : index === reached ? 'current' : ''} aria-current={index === reached ? 'step' : undefined}>
          {step === 'decided' && index <= reached ? t(`status.${state === 'rejected' ? 'rejected' : 'decided'}`) : t(`status.${step}`)}
        </li>
      ))}
    </ol>
  );
}

function DecisionLetter({ decision }: { decision: NonNullable<Application['decision']> }) {
  const { t } = useTranslation();
  return (
    <section className={`card ${decision.outcome === 'rejected' ? 'card-bad' : 'card-ok'}`} aria-labelledby="letter-title">
      <h2 id="letter-title">{t('portal.letter')}</h2>
      <p>
        <StatusBadge state={decision.outcome} /> <DateTime value={decision.decidedAt} />
      </p>
      {decision.letter && <pre className="letter">{decision.letter}</pre>}
      {decision.reviewComments && decision.reviewComments.length > 0 && (
        <>
          <h3>{t('portal.reviewComments')}</h3>
          <ul>
            {decision.reviewComments.map((comment, index) => (
              <li key={index}>{comment}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Details({ application, call, uses }: { application: Application; call: Call | null; uses: Uses | null }) {
  const { t } = useTranslation();
  return (
    <section className="card" aria-labelledby="details-title">
      <h2 id="details-title">{t('portal.details')}</h2>
      <dl className="details">
        <dt>{t('apply.fields.direction')}</dt>
        <dd>{application.researchDirection ?? application.researchDirectionOther ?? '—'}</dd>
        <dt>{t('apply.fields.methods')}</dt>
        <dd>{application.methods ?? '—'}</dd>
        <dt>{t('apply.fields.justification')}</dt>
        <dd>{application.justification ?? '—'}</dd>
        <dt>{t('portal.destructive')}</dt>
        <dd>{application.destructive ? t('common.yes') : t('common.no')}</dd>
        {uses && (
          <>
            <dt>{t('uses.title')}</dt>
            <dd data-testid="declared-uses">{uses.uses.length > 0 ? inUseOrder(uses.uses).map((use) => t(`allocation.explain.use.${use}`, { defaultValue: use })).join(t('donors.separator')) : t('uses.none')}</dd>
            {uses.required.some((use) => !uses.uses.includes(use)) && (
              <>
                <dt>{t('uses.required')}</dt>
                <dd>{inUseOrder(uses.required).map((use) => t(`allocation.explain.use.${use}`, { defaultValue: use })).join(t('donors.separator'))}</dd>
              </>
            )}
          </>
        )}
        {application.submittedAt && (
          <>
            <dt>{t('portal.submittedAt')}</dt>
            <dd>
              <DateTime value={application.submittedAt} />
            </dd>
          </>
        )}
        {call?.reviewDeadline && (
          <>
            <dt>{t('portal.reviewDeadline')}</dt>
            <dd>
              <DateTime value={call.reviewDeadline} />
            </dd>
          </>
        )}
      </dl>
      <table className="table table-compact">
        <caption>{t('apply.items')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('apply.fields.kind')}</th>
            <th scope="col" className="num">{t('portal.asked')}</th>
            <th scope="col" className="num">{t('portal.minimum')}</th>
            <th scope="col" className="num">{t('portal.approved')}</th>
          </tr>
        </thead>
        <tbody>
          {application.items.map((item) => (
            <tr key={item.kind}>
              <th scope="row">{item.kind}</th>
              <td className="num"><Quantity value={item.quantity} unit={application.unit} /></td>
              <td className="num"><Quantity value={item.minimum} unit={application.unit} /></td>
              <td className="num">{item.approved === null ? '—' : <Quantity value={item.approved} unit={application.unit} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Attachments({ application, onChange }: { application: Application; onChange(): void }) {
  const { t, i18n } = useTranslation();
  const { user } = useAuth();
  const toast = useToast();
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mine = user?.id === application.applicantId;
  const editable = mine && application.state === 'draft';
  async function send(file: File) {
    setError(null);
    if (file.type && file.type !== 'application/pdf') {
      setError(t('portal.pdfOnly'));
      return;
    }
    setProgress(0);
    try {
      await upload(`/api/v1/applications/${application.id}/attachments?name=${encodeURIComponent(file.name)}`, file, 'application/pdf', setProgress);
      toast(t('portal.attached', { name: file.name }));
      onChange();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.detail || caught.title : t('state.network'));
    } finally {
      setProgress(null);
      if (input.current) input.current.value = '';
    }
  }
  async function remove(attachmentId: string, name: string) {
    if (!window.confirm(t('portal.removeConfirm', { name }))) return;
    try {
      await api.delete('/api/v1/applications/{id}/attachments/{attachmentId}', { path: { id: application.id, attachmentId } });
      onChange();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.detail || caught.title : t('state.network'));
    }
  }
  const size = (bytes: number) => new Intl.NumberFormat(i18n.language, { style: 'unit', unit: 'kilobyte', maximumFractionDigits: 0 }).format(Math.ceil(bytes / 1024));
  return (
    <section className="card" aria-labelledby="files-title">
      <h2 id="files-title">{t('portal.attachments')}</h2>
      {error && (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
      {application.attachments.length === 0 ? (
        <p className="muted">{editable ? t('portal.noFilesDraft') : t('portal.noFiles')}</p>
      ) : (
        <ul className="file-list">
          {application.attachments.map((file) => (
            <li key={file.id}>
              <a href={`/api/v1/applications/${application.id}/attachments/${file.id}`} download>
                {file.name}
              </a>{' '}
              <span className="muted">{size(file.sizeBytes)}</span>
              {editable && (
                <button type="button" className="button button-quiet button-small" aria-label={`${t('portal.remove')}: ${file.name}`} onClick={() => void remove(file.id, file.name)}>
                  {t('portal.remove')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {editable && (
        <div className="field">
          <label htmlFor="attach">{t('portal.attach')}</label>
          <input id="attach" ref={input} type="file" accept="application/pdf" disabled={progress !== null} onChange={(e) => e.target.files?.[0] && void send(e.target.files[0])} aria-describedby="attach-hint" />
          <small id="attach-hint" className="hint">{t('portal.attachHint')}</small>
        </div>
      )}
      {progress !== null && <Progress value={progress} label={t('portal.uploading')} />}
    </section>
  );
}

function Actions({ application, onChange }: { application: Application; onChange(): void }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [withdrawing, setWithdrawing] = useState(false);
  if (user?.id !== application.applicantId) return null;
  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/applications/{id}/submit', { path: { id: application.id } });
      toast(t('apply.submitted'));
      onChange();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      {error && (
        <div className="form-error" role="alert">
          {error.detail || error.title}
          {error.errors.length > 0 && (
            <>
              {' '}
              <Link to={`/applications/${application.id}/edit`}>{t('portal.fixInForm')}</Link>
            </>
          )}
        </div>
      )}
      {application.state === 'draft' && (
        <>
          <Link className="button" to={`/applications/${application.id}/edit`}>
            {t('portal.edit')}
          </Link>
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void submit()}>
            {busy ? t('apply.submitting') : t('apply.submit')}
          </button>
        </>
      )}
      {withdrawable.includes(application.state) && (
        <button type="button" className="button button-danger" onClick={() => setWithdrawing(true)}>
          {t('portal.withdraw')}
        </button>
      )}
      {withdrawing && <WithdrawDialog id={application.id} onClose={() => setWithdrawing(false)} onDone={onChange} />}
    </>
  );
}

function WithdrawDialog({ id, onClose, onDone }: { id: string; onClose(): void; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function confirm() {
    try {
      await api.post('/api/v1/applications/{id}/withdraw', { path: { id }, body: reason.trim() ? { reason: reason.trim() } : {} });
      toast(t('portal.withdrawn'));
      onClose();
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.detail || caught.title : t('state.network'));
    }
  }
  return (
    <Dialog title={t('portal.withdrawTitle')} onClose={onClose}>
      <div className="dialog-body">
        <p>{t('portal.withdrawLead')}</p>
        {error && <div className="form-error" role="alert">{error}</div>}
        <TextAreaField label={t('portal.withdrawReason')} value={reason} onChange={(e) => setReason(e.target.value)} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="button" className="button button-danger" onClick={() => void confirm()}>
            {t('portal.withdraw')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}

/** The applicant's own applications. */
export function MyApplications() {
  const { t } = useTranslation();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/applications', { query: { limit: 100, mine: 'true' }, signal }), []);
  return (
    <>
      <PageHeader title={t('list.applications.title')} lead={t('list.applications.lead')} actions={<Link className="button button-primary" to="/calls">{t('portal.browseCalls')}</Link>} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.items.length === 0 && (
        <Empty action={<Link className="button button-primary" to="/calls">{t('portal.browseCalls')}</Link>}>{t('list.applications.empty')}</Empty>
      )}
      {state.status === 'ok' && state.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('list.applications.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('list.title')}</th>
                <th scope="col">{t('list.state')}</th>
                <th scope="col">{t('portal.submittedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {state.data.items.map((item) => (
                <tr key={item.id}>
                  <th scope="row">
                    <Link to={`/applications/${item.id}`}>{item.title}</Link>
                  </th>
                  <td>
                    <StatusBadge state={item.state} />
                  </td>
                  <td>{item.submittedAt ? <DateTime value={item.submittedAt} /> : t('portal.notSubmitted')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
