import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { useAuth } from '../auth';
import { Field, TextAreaField } from '../components/field';
import { ErrorState, ListState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, DateTime, PageHeader, Quantity, Segmented, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';
import { ReceiptForm } from './shipments';

type Loan = Answer<'/api/v1/loans/{id}', 'get'>;

/** Loans for the curator; `?overdue=true` is the overdue view. */
export default function LoansPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const overdue = params.get('overdue') === 'true';
  const [state, reload] = useLoad((signal) => api.get('/api/v1/loans', { query: { limit: 200, ...(overdue ? { overdue: 'true' as const } : { state: 'open' as const }) }, signal }), [overdue]);
  return (
    <>
      <PageHeader
        title={overdue ? t('loans.overdueTitle') : t('loans.title')}
        lead={t('loans.lead')}
        actions={
          <Segmented
            label={t('loans.show')}
            value={overdue ? 'overdue' : 'open'}
            options={[
              ['open', t('loans.open')],
              ['overdue', t('loans.overdue')],
            ]}
            onChange={(value) => setParams(value === 'overdue' ? { overdue: 'true' } : {})}
          />
        }
      />
      <ListState load={state} reload={reload} empty={overdue ? t('loans.noneOverdue') : t('loans.none')}>
        {(items) => (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{overdue ? t('loans.overdueTitle') : t('loans.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('shipments.application')}</th>
                  <th scope="col">{t('shipments.recipient')}</th>
                  <th scope="col" className="num">{t('loans.outstanding')}</th>
                  <th scope="col">{t('loans.dueAt')}</th>
                  <th scope="col">{t('loans.reportDueAt')}</th>
                  <th scope="col">{t('list.state')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((loan) => (
                  <tr key={loan.id}>
                    <th scope="row">
                      <Link to={`/applications/${loan.applicationId}`}>{loan.applicationTitle}</Link>
                    </th>
                    <td>
                      {loan.applicant.name}
                      {loan.applicant.institution ? ` · ${loan.applicant.institution}` : ''}
                    </td>
                    <td className="num">
                      <Quantity value={loan.outstanding} unit={loan.unit} />
                    </td>
                    <td className={loan.overdue.material ? 'deadline-near' : ''}>
                      <DateTime value={loan.dueAt} />
                    </td>
                    <td className={loan.overdue.report ? 'deadline-near' : ''}>
                      <DateTime value={loan.reportDueAt} />
                    </td>
                    <td>
                      <StatusBadge state={loan.state} of="loan" />
                      {(loan.overdue.material || loan.overdue.report) && <Badge tone="red">{t('loans.overdueBadge')}</Badge>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
    </>
  );
}

/** On an application page: its shipments (confirm receipt) and its loan (reports, publications, returns). */
export function Distribution({ applicationId, onChange }: { applicationId: string; onChange(): void }) {
  const { t } = useTranslation();
  const [state, reload] = useLoad(async (signal) => {
    const [shipments, loans] = await Promise.all([
      api.get('/api/v1/shipments', { query: { applicationId, limit: 50 }, signal }),
      api.get('/api/v1/loans', { query: { applicationId, limit: 10 }, signal }),
    ]);
    return { shipments: shipments.items, loans: loans.items };
  }, [applicationId]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const { shipments, loans } = state.data;
  return (
    <>
      {shipments.length > 0 && (
        <section className="card" aria-labelledby="shipments-title">
          <h2 id="shipments-title">{t('shipments.title')}</h2>
          <ul className="plain">
            {shipments.map((shipment) => (
              <li key={shipment.id}>
                <Link to={`/shipments/${shipment.id}`}>{shipment.reference}</Link> <StatusBadge state={shipment.state} /> <Quantity value={shipment.total} unit={shipment.unit} />
                {shipment.dispatchedAt && (
                  <span className="muted">
                    {' '}
                    · {t('shipments.event.dispatched')} <DateTime value={shipment.dispatchedAt} />
                  </span>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {shipments
        .filter((shipment) => shipment.state === 'dispatched')
        .map((shipment) => (
          <ReceiptForm key={shipment.id} shipment={shipment} onDone={onChange} />
        ))}
      {loans.map((loan) => (
        <LoanPanel key={loan.id} loan={loan} onChange={reload} />
      ))}
    </>
  );
}

function LoanPanel({ loan, onChange }: { loan: Loan; onChange(): void }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const mine = user?.id === loan.applicant.id && loan.state === 'open';
  const manages = !!user?.roles.includes('curator') && loan.state === 'open';
  return (
    <section className="card" aria-labelledby={`loan-${loan.id}`}>
      <h2 id={`loan-${loan.id}`}>
        {t('loans.one')} <StatusBadge state={loan.state} of="loan" />
      </h2>
      <dl className="details">
        <dt>{t('loans.loaned')}</dt>
        <dd><Quantity value={loan.loaned} unit={loan.unit} /></dd>
        <dt>{t('loans.returned')}</dt>
        <dd><Quantity value={loan.returned} unit={loan.unit} /></dd>
        <dt>{t('loans.consumed')}</dt>
        <dd><Quantity value={loan.consumed} unit={loan.unit} /></dd>
        <dt>{t('loans.outstanding')}</dt>
        <dd><Quantity value={loan.outstanding} unit={loan.unit} /></dd>
        <dt>{t('loans.dueAt')}</dt>
        <dd className={loan.overdue.material ? 'deadline-near' : ''}>
          <DateTime value={loan.dueAt} /> {loan.overdue.material && t('review.overdue')}
        </dd>
        <dt>{t('loans.reportDueAt')}</dt>
        <dd className={loan.overdue.report ? 'deadline-near' : ''}>
          <DateTime value={loan.reportDueAt} /> {loan.overdue.report && t('review.overdue')}
        </dd>
      </dl>
      {loan.blockers.length > 0 && loan.state === 'open' && (
        <>
          <h3>{t('loans.toClose')}</h3>
          <ul>
            {loan.blockers.map((blocker, index) => (
              <li key={index}>{blockerText(t, blocker)}</li>
            ))}
          </ul>
        </>
      )}
      {loan.reports.length > 0 && (
        <>
          <h3>{t('loans.reports')}</h3>
          <ul>
            {loan.reports.map((report) => (
              <li key={report.id}>
                <DateTime value={report.filedAt} />: {report.summary}
              </li>
            ))}
          </ul>
        </>
      )}
      {loan.publications.length > 0 && (
        <>
          <h3>{t('loans.publications')}</h3>
          <ul>
            {loan.publications.map((publication) => (
              <li key={publication.id}>
                {publication.title} — <a href={`https://doi.org/${publication.doi}`}>{publication.doi}</a>
              </li>
            ))}
          </ul>
        </>
      )}
      {manages && <ManageLoan loan={loan} onDone={onChange} />}
      {mine && (
        <div className="layout-2">
          <ReportForm loan={loan} onDone={onChange} />
          <PublicationForm loan={loan} onDone={onChange} />
          <ReturnForm loan={loan} onDone={onChange} />
        </div>
      )}
    </section>
  );
}

function useAction(onDone: () => void) {
  const toast = useToast();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(action: () => Promise<unknown>, done: string): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      toast(done);
      onDone();
      return true;
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, run };
}

function MiniForm({ title, error, busy, submit, onSubmit, children }: { title: string; error: ApiError | null; busy: boolean; submit: string; onSubmit(): void; children: ReactNode }) {
  return (
    <form
      className="subform"
      aria-label={title}
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      <h3>{title}</h3>
      {error && !error.errors.length && <div className="form-error" role="alert">{error.detail || error.title}</div>}
      {children}
      <button type="submit" className="button" disabled={busy}>
        {submit}
      </button>
    </form>
  );
}

function ReportForm({ loan, onDone }: { loan: Loan; onDone(): void }) {
  const { t } = useTranslation();
  const [summary, setSummary] = useState('');
  const { error, busy, run } = useAction(onDone);
  return (
    <MiniForm title={t('loans.fileReport')} error={error} busy={busy} submit={t('loans.file')} onSubmit={() => void run(() => api.post('/api/v1/loans/{id}/reports', { path: { id: loan.id }, body: { summary: summary.trim() } }), t('loans.reportFiled')).then((ok) => ok && setSummary(''))}>
      <TextAreaField label={t('loans.summary')} value={summary} onChange={(e) => setSummary(e.target.value)} error={error?.field('summary')} />
    </MiniForm>
  );
}

function PublicationForm({ loan, onDone }: { loan: Loan; onDone(): void }) {
  const { t } = useTranslation();
  const [doi, setDoi] = useState('');
  const [title, setTitle] = useState('');
  const [acknowledgement, setAcknowledgement] = useState('');
  const { error, busy, run } = useAction(onDone);
  return (
    <MiniForm
      title={t('loans.addPublication')}
      error={error}
      busy={busy}
      submit={t('loans.register')}
      onSubmit={() => void run(() => api.post('/api/v1/loans/{id}/publications', { path: { id: loan.id }, body: { doi: doi.trim(), title: title.trim(), acknowledgement: acknowledgement.trim() } }), t('loans.publicationAdded'))}
    >
      <Field label="DOI" value={doi} placeholder="10.1038/…" onChange={(e) => setDoi(e.target.value)} error={error?.field('doi')} />
      <Field label={t('loans.pubTitle')} value={title} onChange={(e) => setTitle(e.target.value)} error={error?.field('title')} />
      <Field label={t('loans.acknowledgement')} value={acknowledgement} onChange={(e) => setAcknowledgement(e.target.value)} error={error?.field('acknowledgement')} />
    </MiniForm>
  );
}

function ReturnForm({ loan, onDone }: { loan: Loan; onDone(): void }) {
  const { t } = useTranslation();
  const held = loan.samples.filter((sample) => !/^0(\.0+)?$/.test(sample.held));
  const [quantities, setQuantities] = useState<Record<string, string>>({});
  const [key] = useState(() => crypto.randomUUID());
  const { error, busy, run } = useAction(onDone);
  if (held.length === 0) return null;
  const items = held.filter((sample) => (quantities[sample.sampleId] ?? '').trim() !== '').map((sample) => ({ sampleId: sample.sampleId, quantity: quantities[sample.sampleId]!.trim() }));
  return (
    <MiniForm title={t('loans.return')} error={error} busy={busy || items.length === 0} submit={t('loans.returnSubmit')} onSubmit={() => void run(() => api.post('/api/v1/loans/{id}/returns', { path: { id: loan.id }, idempotencyKey: `${key}-${JSON.stringify(items)}`, body: { items } }), t('loans.returnDone'))}>
      {held.map((sample, index) => (
        <Field
          key={sample.sampleId}
          label={t('loans.returnOf', { identifier: sample.identifier, unit: t(`units.${loan.unit}`, { defaultValue: loan.unit }) })}
          hint={<>{t('loans.held')} <Quantity value={sample.held} unit={loan.unit} /></>}
          inputMode="decimal"
          value={quantities[sample.sampleId] ?? ''}
          onChange={(e) => setQuantities((all) => ({ ...all, [sample.sampleId]: e.target.value }))}
          error={error?.field(`items.${index}.quantity`)}
        />
      ))}
    </MiniForm>
  );
}

/** The curator's side: move the due dates, and close the loan when the rules allow (the refusal names what is missing). */
function ManageLoan({ loan, onDone }: { loan: Loan; onDone(): void }) {
  const { t } = useTranslation();
  const day = (iso: string) => iso.slice(0, 10);
  const [dueAt, setDueAt] = useState(day(loan.dueAt));
  const [reportDueAt, setReportDueAt] = useState(day(loan.reportDueAt));
  const [note, setNote] = useState('');
  const dates = useAction(onDone);
  const closing = useAction(onDone);
  const endOfDay = (date: string) => `${date}T23:59:59.000Z`;
  const changes = {
    ...(dueAt && dueAt !== day(loan.dueAt) ? { dueAt: endOfDay(dueAt) } : {}),
    ...(reportDueAt && reportDueAt !== day(loan.reportDueAt) ? { reportDueAt: endOfDay(reportDueAt) } : {}),
  };
  const refusal = closing.error?.errors.length ? closing.error.errors : null;
  return (
    <section className="subform-group" aria-labelledby={`manage-${loan.id}`}>
      <h3 id={`manage-${loan.id}`}>{t('desk.loan.manage')}</h3>
      <div className="loan-manage">
        <MiniForm title={t('desk.loan.extend')} error={dates.error} busy={dates.busy || Object.keys(changes).length === 0} submit={t('desk.loan.extend')} onSubmit={() => void dates.run(() => api.patch('/api/v1/loans/{id}', { path: { id: loan.id }, body: changes }), t('desk.loan.extended'))}>
          <Field label={t('desk.loan.dueAt')} type="date" value={dueAt} onChange={(e) => setDueAt(e.target.value)} error={dates.error?.field('dueAt')} />
          <Field label={t('desk.loan.reportDueAt')} type="date" value={reportDueAt} onChange={(e) => setReportDueAt(e.target.value)} error={dates.error?.field('reportDueAt')} />
        </MiniForm>
        <MiniForm title={t('desk.loan.close')} error={refusal ? null : closing.error} busy={closing.busy} submit={t('desk.loan.close')} onSubmit={() => void closing.run(() => api.post('/api/v1/loans/{id}/close', { path: { id: loan.id }, body: note.trim() ? { note: note.trim() } : {} }), t('desk.loan.closed'))}>
          {refusal && (
            <div className="form-error" role="alert">
              {t('desk.loan.cannotClose')}
              <ul>
                {refusal.map((blocker, index) => (
                  <li key={index}>{blockerText(t, blocker)}</li>
                ))}
              </ul>
            </div>
          )}
          <Field label={t('desk.loan.closeNote')} value={note} onChange={(e) => setNote(e.target.value)} error={closing.error?.field('note')} />
        </MiniForm>
      </div>
    </section>
  );
}

/** A closing blocker in the reader's language; the server's (English) message for a field this page does not know. */
function blockerText(t: TFunction, blocker: { field: string; message: string }): string {
  return t(`loans.blocker.${blocker.field}`, { defaultValue: blocker.message });
}
