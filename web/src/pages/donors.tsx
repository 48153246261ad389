import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { useAuth } from '../auth';
import { Dialog } from '../components/dialog';
import { Field, SelectField, TextAreaField } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, DateTime, PageHeader, Quantity, StateBadge, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';
import { consentUses, inUseOrder, type ConsentUse } from '../lib/consent';

type Donor = Answer<'/api/v1/donors/{id}', 'get'>;
type Withdrawal = Answer<'/api/v1/donors/{id}/consent-withdrawal', 'post'>;
type Holdings = Answer<'/api/v1/donors/{id}/holdings', 'get'>;

const PAGE = 50;

/** A donor's consent in a word: withdrawn, given, or none on record. */
function ConsentBadge({ donor }: { donor: Donor }) {
  const { t } = useTranslation();
  if (donor.consentWithdrawnAt) return <Badge tone="red">{t('donors.consentWithdrawn')}</Badge>;
  if (donor.consents.some((consent) => consent.withdrawnAt === null)) return <Badge tone="green">{t('donors.consentGiven')}</Badge>;
  return <Badge tone="amber">{t('donors.consentNone')}</Badge>;
}

function UseList({ uses }: { uses: readonly string[] }) {
  const { t } = useTranslation();
  if (uses.length === 0) return <span className="muted">{t('donors.scopeNone')}</span>;
  return <>{inUseOrder(uses).map((use) => t(`allocation.explain.use.${use}`, { defaultValue: use })).join(t('donors.separator'))}</>;
}

/** The curator's donors: by collection, a page at a time. */
export default function DonorsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const collectionId = params.get('collectionId') ?? '';
  const [draft, setDraft] = useState(collectionId);
  const [collections] = useLoad((signal) => api.get('/api/v1/collections', { query: { limit: 100 }, signal }), []);
  const [rows, setRows] = useState<Donor[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<'loading' | 'more' | 'ok' | 'error'>('loading');
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  const request = useRef(0);

  useEffect(() => setDraft(collectionId), [collectionId]);

  async function load(after: string | null) {
    const id = ++request.current;
    setStatus(after ? 'more' : 'loading');
    try {
      const page = await api.get('/api/v1/donors', { query: { limit: PAGE, collectionId: collectionId || undefined, cursor: after ?? undefined } });
      if (id !== request.current) return;
      setRows((current) => (after ? [...current, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setStatus('ok');
    } catch (caught) {
      if (id !== request.current) return;
      setError(caught);
      setStatus('error');
    }
  }

  useEffect(() => {
    setRows([]);
    void load(null);
  }, [collectionId, round]);

  function submit(event: FormEvent) {
    event.preventDefault();
    setParams(draft ? { collectionId: draft } : {});
  }

  const human = collections.status === 'ok' ? collections.data.items.filter((collection) => collection.humanConsent) : [];
  const codeOf = new Map(human.map((collection) => [collection.id, collection.code]));

  return (
    <>
      <PageHeader title={t('donors.title')} lead={t('donors.lead')} />
      {human.length > 1 || collectionId ? (
        <form className="filters card" onSubmit={submit} role="search" aria-label={t('donors.filters')}>
          <SelectField label={t('donors.collection')} value={draft} onChange={setDraft}>
            <option value="">{t('donors.any')}</option>
            {human.map((collection) => (
              <option key={collection.id} value={collection.id}>
                {collection.code} · {collection.name}
              </option>
            ))}
          </SelectField>
          <div className="filter-actions">
            <button type="submit" className="button button-primary">
              {t('donors.search')}
            </button>
            {collectionId && (
              <button type="button" className="button button-quiet" onClick={() => setParams({})}>
                {t('donors.clear')}
              </button>
            )}
          </div>
        </form>
      ) : null}

      {status === 'loading' && <Loading />}
      {status === 'error' && <ErrorState error={error} onRetry={() => setRound(round + 1)} />}
      {(status === 'ok' || status === 'more') && rows.length === 0 && <Empty>{collectionId ? t('donors.empty') : t('donors.emptyAll')}</Empty>}
      {rows.length > 0 && status !== 'loading' && (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{t('donors.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('donors.code')}</th>
                  <th scope="col">{t('donors.collection')}</th>
                  <th scope="col">{t('donors.collectedOn')}</th>
                  <th scope="col">{t('donors.site')}</th>
                  <th scope="col">{t('donors.diagnoses')}</th>
                  <th scope="col">{t('donors.consent')}</th>
                  <th scope="col">{t('donors.quarantinedCol')}</th>
                  <th scope="col" className="num">{t('donors.specimens')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((donor) => (
                  <tr key={donor.id}>
                    <th scope="row">
                      <Link className="mono" to={`/donors/${donor.id}`}>
                        {donor.code}
                      </Link>
                    </th>
                    <td>{codeOf.get(donor.collectionId) ?? '—'}</td>
                    <td>{donor.collectedOn ?? '—'}</td>
                    <td>{donor.collectionSite ?? '—'}</td>
                    <td className="mono">{donor.diagnoses.length > 0 ? donor.diagnoses.join(', ') : '—'}</td>
                    <td>
                      <ConsentBadge donor={donor} />
                    </td>
                    <td>{donor.consentWithdrawnAt ? <Badge tone="red">{t('donors.quarantined')}</Badge> : t('common.no')}</td>
                    <td className="num">{donor.specimens}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <span className="muted" aria-live="polite">
              {t('donors.shown', { count: rows.length })}
            </span>
            {cursor ? (
              <button type="button" className="button" disabled={status === 'more'} onClick={() => void load(cursor)}>
                {status === 'more' ? t('donors.loadingMore') : t('donors.more')}
              </button>
            ) : (
              <span className="muted">{t('donors.end')}</span>
            )}
          </div>
        </>
      )}
    </>
  );
}

/** One donor: consent records, a new consent, withdrawal, and where their material is once consent is withdrawn. */
export function DonorPage() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const { user } = useAuth();
  const curator = !!user?.roles.includes('curator');
  const [result, setResult] = useState<Withdrawal | null>(null);
  const [withdrawing, setWithdrawing] = useState(false);
  const [state, reload] = useLoad(async (signal) => {
    const donor = await api.get('/api/v1/donors/{id}', { path: { id }, signal });
    const [collection, holdings] = await Promise.all([
      api.get('/api/v1/collections/{id}', { path: { id: donor.collectionId }, signal }).catch(() => null),
      donor.consentWithdrawnAt ? api.get('/api/v1/donors/{id}/holdings', { path: { id }, signal }) : Promise.resolve(null),
    ]);
    return { donor, collection, holdings };
  }, [id]);
  // A reload (after a consent or the withdrawal) keeps the page in place instead of flashing the spinner.
  const shown = useRef<(typeof state & { status: 'ok' })['data'] | null>(null);
  if (state.status === 'ok') shown.current = state.data;
  const last = shown.current?.donor.id === id ? shown.current : null;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  if (state.status === 'loading' && !last) return <Loading />;
  const { donor, collection, holdings } = state.status === 'ok' ? state.data : last!;
  const withdrawn = donor.consentWithdrawnAt !== null;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/donors">{t('donors.back')}</Link>
      </p>
      <PageHeader
        title={t('donors.one', { code: donor.code })}
        lead={t('donors.noIdentity')}
        actions={
          curator && !withdrawn ? (
            <button type="button" className="button button-danger" onClick={() => setWithdrawing(true)}>
              {t('donors.withdraw')}
            </button>
          ) : undefined
        }
      />
      {withdrawn && (
        <p className="notice-inline" role="status">
          <Badge tone="red">{t('donors.consentWithdrawn')}</Badge> {t('donors.withdrawnNote', { date: new Date(donor.consentWithdrawnAt!).toLocaleString(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }) })}
        </p>
      )}
      {result && <WithdrawalResult result={result} unit={collection?.unit ?? null} />}
      {withdrawn && <HoldingsPanel holdings={result?.holdings ?? holdings} unit={collection?.unit ?? null} />}
      <div className="layout-2">
        <section className="card" aria-labelledby="donor-details">
          <h2 id="donor-details">{t('donors.details')}</h2>
          <dl className="details">
            <dt>{t('donors.code')}</dt>
            <dd className="mono">{donor.code}</dd>
            <dt>{t('donors.collection')}</dt>
            <dd>{collection ? `${collection.code} · ${collection.name}` : '—'}</dd>
            <dt>{t('donors.collectedOn')}</dt>
            <dd>{donor.collectedOn ?? '—'}</dd>
            <dt>{t('donors.site')}</dt>
            <dd>{donor.collectionSite ?? '—'}</dd>
            <dt>{t('donors.diagnoses')}</dt>
            <dd className="mono">{donor.diagnoses.length > 0 ? donor.diagnoses.join(', ') : '—'}</dd>
            <dt>{t('donors.consent')}</dt>
            <dd>
              <ConsentBadge donor={donor} />
            </dd>
            <dt>{t('donors.specimens')}</dt>
            <dd>{donor.specimens}</dd>
            <dt>{t('donors.registeredAt')}</dt>
            <dd>
              <DateTime value={donor.createdAt} />
            </dd>
            {withdrawn && (
              <>
                <dt>{t('donors.withdrawnAt')}</dt>
                <dd>
                  <DateTime value={donor.consentWithdrawnAt} />
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="donor-consents">
          <h2 id="donor-consents">{t('donors.consents')}</h2>
          {donor.consents.length === 0 ? (
            <p className="muted">{t('donors.noConsents')}</p>
          ) : (
            <table className="table table-compact">
              <caption className="visually-hidden">{t('donors.consents')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('donors.givenOn')}</th>
                  <th scope="col">{t('donors.formVersion')}</th>
                  <th scope="col">{t('donors.scope')}</th>
                  <th scope="col">{t('donors.state')}</th>
                </tr>
              </thead>
              <tbody>
                {donor.consents.map((consent) => (
                  <tr key={consent.id}>
                    <th scope="row">{consent.givenOn}</th>
                    <td>{consent.formVersion}</td>
                    <td>
                      <UseList uses={consent.scope} />
                    </td>
                    <td>{consent.withdrawnAt ? <Badge tone="red">{t('donors.recordWithdrawn')}</Badge> : <Badge tone="green">{t('donors.current')}</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {curator && !withdrawn && <ConsentForm donor={donor} onDone={reload} />}
        </section>
      </div>
      {withdrawing && (
        <WithdrawDialog
          donor={donor}
          onClose={() => setWithdrawing(false)}
          onDone={(done) => {
            setResult(done);
            setWithdrawing(false);
            reload();
          }}
        />
      )}
    </>
  );
}

function ConsentForm({ donor, onDone }: { donor: Donor; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [scope, setScope] = useState<ConsentUse[]>([]);
  const [givenOn, setGivenOn] = useState('');
  const [formVersion, setFormVersion] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/donors/{id}/consents', { path: { id: donor.id }, body: { scope, givenOn, formVersion: formVersion.trim() } });
      toast(t('donors.recorded'));
      setScope([]);
      setGivenOn('');
      setFormVersion('');
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="subform" aria-labelledby="consent-form-title" onSubmit={(event) => void submit(event)} noValidate>
      <h3 id="consent-form-title">{t('donors.addConsent')}</h3>
      <p className="muted small">{t('donors.addConsentLead')}</p>
      {error && !error.errors.length && (
        <div className="form-error" role="alert">
          {error.status === 0 ? t('state.network') : error.detail || error.title}
        </div>
      )}
      <fieldset>
        <legend>{t('donors.scopeLegend')}</legend>
        <div className="check-list">
          {consentUses.map((use) => (
            <div className="check" key={use}>
              <input
                id={`consent-${use}`}
                type="checkbox"
                checked={scope.includes(use)}
                onChange={(event) => setScope((all) => (event.target.checked ? [...all, use] : all.filter((u) => u !== use)))}
              />
              <label htmlFor={`consent-${use}`}>{t(`allocation.explain.use.${use}`)}</label>
            </div>
          ))}
        </div>
        {error?.field('scope') && <p className="field-error">{error.field('scope')}</p>}
      </fieldset>
      <Field label={t('donors.givenOn')} type="date" required value={givenOn} onChange={(event) => setGivenOn(event.target.value)} error={error?.field('givenOn')} />
      <Field label={t('donors.formVersion')} required maxLength={64} value={formVersion} placeholder="v2.1" onChange={(event) => setFormVersion(event.target.value)} error={error?.field('formVersion')} />
      <button type="submit" className="button button-primary" disabled={busy}>
        {t('donors.record')}
      </button>
    </form>
  );
}

function WithdrawDialog({ donor, onClose, onDone }: { donor: Donor; onClose(): void; onDone(result: Withdrawal): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function confirm(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api.post('/api/v1/donors/{id}/consent-withdrawal', { path: { id: donor.id }, body: reason.trim() ? { reason: reason.trim() } : {} });
      toast(t('donors.withdrawn'));
      onDone(result);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.detail || caught.title : t('state.network'));
      setBusy(false);
    }
  }
  return (
    <Dialog title={t('donors.withdrawTitle', { code: donor.code })} onClose={onClose}>
      <form className="dialog-body" onSubmit={(event) => void confirm(event)}>
        <p>{t('donors.withdrawLead')}</p>
        <ul>
          <li>{t('donors.withdrawQuarantine')}</li>
          <li>{t('donors.withdrawNoLonger')}</li>
          <li>{t('donors.withdrawReleased')}</li>
          <li>{t('donors.withdrawAway')}</li>
        </ul>
        {error && (
          <div className="form-error" role="alert">
            {error}
          </div>
        )}
        <TextAreaField label={t('donors.reason')} hint={t('donors.reasonHint')} maxLength={2000} rows={2} value={reason} onChange={(event) => setReason(event.target.value)} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-danger" disabled={busy}>
            {busy ? t('donors.withdrawing') : t('donors.confirm')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** What the withdrawal just did: the samples it quarantined and the reservations it released. */
function WithdrawalResult({ result, unit }: { result: Withdrawal; unit: string | null }) {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="card card-bad" aria-labelledby="withdrawal-result">
      <h2 id="withdrawal-result" ref={heading} tabIndex={-1}>
        {t('donors.result')}
      </h2>
      <h3>{t('donors.quarantinedSamples')}</h3>
      {result.quarantined.length === 0 ? (
        <p className="muted">{t('donors.noneQuarantined')}</p>
      ) : (
        <ul className="plain" aria-label={t('donors.quarantinedSamples')}>
          {result.quarantined.map((sample) => (
            <li key={sample.sampleId}>
              <Link className="mono" to={`/samples/${sample.sampleId}`}>
                {sample.identifier}
              </Link>{' '}
              <StateBadge state="quarantined" />
            </li>
          ))}
        </ul>
      )}
      <h3>{t('donors.releasedReservations')}</h3>
      {result.releasedReservations.length === 0 ? (
        <p className="muted">{t('donors.noneReleased')}</p>
      ) : (
        <ul className="plain" aria-label={t('donors.releasedReservations')}>
          {result.releasedReservations.map((reservation) => (
            <li key={reservation.reservationId}>
              <Link className="mono" to={`/samples/${reservation.sampleId}`}>
                {reservation.identifier}
              </Link>{' '}
              {unit ? <Quantity value={reservation.quantity} unit={unit} /> : reservation.quantity} ·{' '}
              {reservation.applicationId ? (
                <Link to={`/applications/${reservation.applicationId}`}>{t('donors.forApplication')}</Link>
              ) : (
                <span className="muted">{t('donors.noApplication')}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Where the donor's material is outside the shelf: whom the curator contacts. */
function HoldingsPanel({ holdings, unit }: { holdings: Holdings | null; unit: string | null }) {
  const { t } = useTranslation();
  if (!holdings) return null;
  const rows = [
    ...holdings.loans.map((held) => ({ key: `loan-${held.loanId}-${held.sampleId}`, held, where: t('donors.loans'), applicationId: held.applicationId, detail: <>{t('donors.dueAt')} <DateTime value={held.dueAt} /></> })),
    ...holdings.shipments.map((held) => ({ key: `shipment-${held.shipmentId}-${held.sampleId}`, held, where: t('donors.shipments'), applicationId: held.applicationId, detail: <><Link to={`/shipments/${held.shipmentId}`}>{held.reference}</Link> <StatusBadge state={held.shipmentState} /></> })),
    ...holdings.reservations.map((held) => ({ key: `reservation-${held.reservationId}`, held, where: t('donors.reservations'), applicationId: held.applicationId, detail: unit ? <Quantity value={held.quantity} unit={unit} /> : <>{held.quantity}</> })),
    ...holdings.elsewhere.map((held) => ({ key: `elsewhere-${held.sampleId}`, held, where: t('donors.elsewhere'), applicationId: null, detail: null })),
  ];
  return (
    <section className="card" aria-labelledby="donor-holdings">
      <h2 id="donor-holdings">{t('donors.holdings')}</h2>
      {rows.length === 0 ? (
        <p className="muted">{t('donors.nothingHeld')}</p>
      ) : (
        <>
          <p>{t('donors.holdingsLead')}</p>
          <div className="table-wrap">
            <table className="table table-compact">
              <caption className="visually-hidden">{t('donors.holdings')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('donors.sample')}</th>
                  <th scope="col">{t('donors.state')}</th>
                  <th scope="col">{t('donors.where')}</th>
                  <th scope="col">{t('donors.application')}</th>
                  <th scope="col">{t('donors.detail')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.key}>
                    <th scope="row">
                      <Link className="mono" to={`/samples/${row.held.sampleId}`}>
                        {row.held.identifier}
                      </Link>
                    </th>
                    <td>
                      <StateBadge state={row.held.state} />
                    </td>
                    <td>{row.where}</td>
                    <td>{row.applicationId ? <Link to={`/applications/${row.applicationId}`}>{t('donors.forApplication')}</Link> : '—'}</td>
                    <td>{row.detail ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
