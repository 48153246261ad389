import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { useAuth } from '../auth';
import { Dialog } from '../components/dialog';
import { Field, SelectField, TextAreaField } from '../components/field';
import { focusFirst, ServerError, useChecks } from '../components/form-checks';
import { Empty, ErrorState, Loading, Pager } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, DateTime, PageHeader, Quantity, StateBadge, StatusBadge } from '../components/ui';
import { useLoad, usePages } from '../components/use-load';
import { consentUses, inUseOrder, type ConsentUse } from '../lib/consent';
import {
  biosafetyLevels,
  collectionMethods,
  donorBody,
  donorProblems,
  emptyDonor,
  emptySpecimen,
  fixations,
  specimenBody,
  specimenProblems,
  type DonorDraft,
  type SpecimenDraft,
} from '../lib/pathology-rules';

type Donor = Answer<'/api/v1/donors/{id}', 'get'>;
type Withdrawal = Answer<'/api/v1/donors/{id}/consent-withdrawal', 'post'>;
type Holdings = Answer<'/api/v1/donors/{id}/holdings', 'get'>;
type Collection = Answer<'/api/v1/collections/{id}', 'get'>;

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
  const { user } = useAuth();
  const curator = !!user?.roles.includes('curator');
  const [registering, setRegistering] = useState(false);
  const [params, setParams] = useSearchParams();
  const collectionId = params.get('collectionId') ?? '';
  const [draft, setDraft] = useState(collectionId);
  const [collections] = useLoad((signal) => api.get('/api/v1/collections', { query: { limit: 100 }, signal }), []);
  const { rows, cursor, status, error, more, reload } = usePages((after) => api.get('/api/v1/donors', { query: { limit: PAGE, collectionId: collectionId || undefined, cursor: after } }), [collectionId]);

  useEffect(() => setDraft(collectionId), [collectionId]);

  function submit(event: FormEvent) {
    event.preventDefault();
    setParams(draft ? { collectionId: draft } : {});
  }

  const human = collections.status === 'ok' ? collections.data.items.filter((collection) => collection.humanConsent) : [];
  const codeOf = new Map(human.map((collection) => [collection.id, collection.code]));

  return (
    <>
      <PageHeader
        title={t('donors.title')}
        lead={t('donors.lead')}
        actions={
          curator && !registering ? (
            <button type="button" className="button button-primary" onClick={() => setRegistering(true)}>
              {t('register.donor')}
            </button>
          ) : undefined
        }
      />
      {curator && registering && (
        <RegisterDonorForm
          collections={human}
          loaded={collections.status !== 'loading'}
          initialCollectionId={collectionId || (human.length === 1 ? human[0]!.id : '')}
          onCancel={() => setRegistering(false)}
        />
      )}
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
      {status === 'error' && <ErrorState error={error} onRetry={reload} />}
      {(status === 'ok' || status === 'more') && rows.length === 0 && (
        <Empty
          action={
            curator && !registering && !collectionId ? (
              <button type="button" className="button button-primary" onClick={() => setRegistering(true)}>
                {t('register.donorFirst')}
              </button>
            ) : undefined
          }
        >
          {collectionId ? t('donors.empty') : curator ? t('donors.emptyAll') : t('donors.emptyAllReader')}
        </Empty>
      )}
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
          <Pager
            shown={t('donors.shown', { count: rows.length })}
            hasMore={!!cursor}
            loading={status === 'more'}
            onMore={more}
            labels={{ more: t('donors.more'), loading: t('donors.loadingMore'), end: t('donors.end') }}
          />
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
      <SpecimensSection donor={donor} collection={collection} curator={curator} onDone={reload} />
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

/** Register a donor by pseudonymous code; the new donor's page opens for their consent and specimens. */
function RegisterDonorForm({ collections, loaded, initialCollectionId, onCancel }: { collections: Collection[]; loaded: boolean; initialCollectionId: string; onCancel(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const navigate = useNavigate();
  const form = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState<DonorDraft>(() => emptyDonor(initialCollectionId));
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const problems = donorProblems(draft);
  const { errorFor, touch, attempt } = useChecks(problems, serverError);
  const change = (patch: Partial<DonorDraft>) => setDraft((current) => ({ ...current, ...patch }));

  useEffect(() => form.current?.querySelector<HTMLElement>('input, select, button')?.focus(), []);
  useEffect(() => {
    if (!draft.collectionId && initialCollectionId) change({ collectionId: initialCollectionId });
  }, [initialCollectionId]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    attempt();
    setServerError(null);
    if (Object.keys(problems).length > 0) {
      focusFirst(form.current, problems);
      return;
    }
    setBusy(true);
    try {
      const donor = await api.post('/api/v1/donors', { body: donorBody(draft) });
      toast(t('register.donorDone', { code: donor.code }));
      navigate(`/donors/${donor.id}`);
    } catch (caught) {
      setServerError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
      setBusy(false);
    }
  }

  return (
    <form id="register-donor" ref={form} className="card form" aria-labelledby="register-donor-title" onSubmit={(event) => void submit(event)} noValidate>
      <h2 id="register-donor-title">{t('register.donorTitle')}</h2>
      <p className="notice-inline" id="register-donor-privacy">
        {t('register.privacy')}
      </p>
      {loaded && collections.length === 0 ? (
        <>
          <p>{t('register.noCollection')}</p>
          <div className="form-actions">
            <button type="button" className="button" onClick={onCancel}>
              {t('common.cancel')}
            </button>
          </div>
        </>
      ) : (
        <>
          <ServerError error={serverError} />
          <div className="form-grid">
            <div data-field="code">
              <Field
                label={t('donors.code')}
                required
                maxLength={32}
                autoComplete="off"
                spellCheck={false}
                value={draft.code}
                placeholder="CQ-COVID-0042"
                hint={t('register.codeHint')}
                onChange={(event) => change({ code: event.target.value })}
                onBlur={() => touch('code')}
                error={errorFor('code')}
              />
            </div>
            <div data-field="collectionId">
              <SelectField label={t('donors.collection')} value={draft.collectionId} onChange={(value) => { change({ collectionId: value }); touch('collectionId'); }} error={errorFor('collectionId')}>
                <option value="">{t('apply.choose')}</option>
                {collections.map((collection) => (
                  <option key={collection.id} value={collection.id}>
                    {collection.code} · {collection.name}
                  </option>
                ))}
              </SelectField>
            </div>
            <div data-field="collectedOn">
              <Field label={t('donors.collectedOn')} type="date" value={draft.collectedOn} onChange={(event) => { change({ collectedOn: event.target.value }); touch('collectedOn'); }} error={errorFor('collectedOn')} />
            </div>
            <div data-field="collectionSite">
              <Field label={t('donors.site')} maxLength={200} value={draft.collectionSite} hint={t('register.siteHint')} onChange={(event) => change({ collectionSite: event.target.value })} onBlur={() => touch('collectionSite')} error={errorFor('collectionSite')} />
            </div>
            <div data-field="diagnoses">
              <Field
                label={t('donors.diagnoses')}
                value={draft.diagnoses}
                autoComplete="off"
                spellCheck={false}
                placeholder="U07.1, J80"
                hint={t('register.diagnosesHint')}
                onChange={(event) => change({ diagnoses: event.target.value })}
                onBlur={() => touch('diagnoses')}
                error={errorFor('diagnoses')}
              />
            </div>
          </div>
          <p className="muted small">{t('register.donorNext')}</p>
          <div className="form-actions">
            <button type="button" className="button" onClick={onCancel}>
              {t('common.cancel')}
            </button>
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? t('register.registering') : t('register.donorSubmit')}
            </button>
          </div>
        </>
      )}
    </form>
  );
}

type DonorSpecimen = Answer<'/api/v1/donors/{id}/specimens', 'get'>['items'][number];

/** What the form tells the section about a registration: enough to say so; the table is the server's list. */
interface Registered {
  sampleId: string;
  identifier: string;
}

/**
 * The donor's specimens: the server's list a page at a time (each with its
 * sample, pre-analytical data and how many subsamples were cut from it), and
 * the form to register another, after which the list is read again.
 */
function SpecimensSection({ donor, collection, curator, onDone }: { donor: Donor; collection: Collection | null; curator: boolean; onDone(): void }) {
  const { t } = useTranslation();
  const [rows, setRows] = useState<DonorSpecimen[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<'loading' | 'more' | 'ok' | 'error'>('loading');
  const [error, setError] = useState<unknown>(null);
  const request = useRef(0);
  const loaded = useRef(0);
  const withdrawn = donor.consentWithdrawnAt !== null;
  const hasConsent = donor.consents.some((consent) => consent.withdrawnAt === null);

  /** A further page after `after`, or the list from the start (as many rows as were shown, and one more). */
  async function load(after: string | null, refresh = false) {
    const id = ++request.current;
    if (after) setStatus('more');
    else if (!refresh) setStatus('loading');
    try {
      const limit = after ? PAGE : Math.min(500, Math.max(PAGE, loaded.current + 1));
      const page = await api.get('/api/v1/donors/{id}/specimens', { path: { id: donor.id }, query: { limit, cursor: after ?? undefined } });
      if (id !== request.current) return;
      setRows((current) => {
        const next = after ? [...current, ...page.items] : page.items;
        loaded.current = next.length;
        return next;
      });
      setCursor(page.nextCursor);
      setStatus('ok');
    } catch (caught) {
      if (id !== request.current) return;
      setError(caught);
      setStatus('error');
    }
  }

  // Another donor starts afresh; the same donor read again (a withdrawal quarantined their material) refreshes in place.
  const shownFor = useRef<string | null>(null);
  useEffect(() => {
    const same = shownFor.current === donor.id;
    shownFor.current = donor.id;
    if (!same) {
      loaded.current = 0;
      setRows([]);
    }
    void load(null, same);
  }, [donor.id, donor.consentWithdrawnAt]);

  const empty = status === 'ok' && rows.length === 0;
  return (
    <section className="card" aria-labelledby="donor-specimens">
      <h2 id="donor-specimens">{t('register.specimensSection')}</h2>
      {empty ? (
        <p className="muted" data-testid="specimen-count">
          {withdrawn ? t('register.noSpecimensWithdrawn') : curator ? (hasConsent ? t('register.noSpecimens') : t('register.noSpecimensNoConsent')) : t('register.noSpecimensReader')}
        </p>
      ) : (
        donor.specimens > 0 && <p data-testid="specimen-count">{t('register.specimenCount', { count: donor.specimens })}</p>
      )}
      {withdrawn && donor.specimens > 0 && <p className="muted">{t('register.noNewWithdrawn')}</p>}
      {status === 'loading' && <Loading />}
      {status === 'error' && <ErrorState error={error} onRetry={() => void load(null)} />}
      {rows.length > 0 && status !== 'loading' && (
        <>
          <div className="table-wrap">
            <table className="table table-compact">
              <caption className="visually-hidden">{t('register.specimensTable')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('register.col.identifier')}</th>
                  <th scope="col">{t('register.col.kind')}</th>
                  <th scope="col" className="num">{t('register.col.quantity')}</th>
                  <th scope="col">{t('register.col.state')}</th>
                  <th scope="col">{t('register.col.fixation')}</th>
                  <th scope="col" className="num">{t('register.col.coldIschaemia')}</th>
                  <th scope="col">{t('register.col.sprec')}</th>
                  <th scope="col" className="num">{t('register.col.subsamples')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ sample, specimen, descendants }) => (
                  <tr key={sample.id}>
                    <th scope="row">
                      <Link className="mono" to={`/samples/${sample.id}`}>
                        {sample.identifier}
                      </Link>
                    </th>
                    <td>{sample.kind}</td>
                    <td className="num">
                      <Quantity value={sample.quantity} unit={sample.unit} />
                    </td>
                    <td>
                      <StateBadge state={sample.state} />
                    </td>
                    <td>{specimen.fixation ? t(`register.fix.${specimen.fixation}`, { defaultValue: specimen.fixation }) : '—'}</td>
                    <td className="num">{specimen.coldIschaemiaMinutes === null ? '—' : t('register.minutes', { count: specimen.coldIschaemiaMinutes })}</td>
                    <td className="mono">{specimen.sprec ?? '—'}</td>
                    <td className="num">{descendants}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            shown={t('register.specimensShown', { shown: rows.length, count: Math.max(donor.specimens, rows.length) })}
            hasMore={!!cursor}
            loading={status === 'more'}
            onMore={() => { if (cursor) void load(cursor); }}
            labels={{ more: t('register.more'), loading: t('register.loadingMore'), end: t('register.allShown') }}
          />
        </>
      )}
      {curator && !withdrawn && collection && (
        <SpecimenForm
          donor={donor}
          collection={collection}
          onDone={() => {
            void load(null, true);
            onDone();
          }}
        />
      )}
    </section>
  );
}

function SpecimenForm({ donor, collection, onDone }: { donor: Donor; collection: Collection; onDone(specimen: Registered): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const form = useRef<HTMLFormElement>(null);
  const firstKind = collection.kinds.length === 1 ? collection.kinds[0]! : '';
  const [draft, setDraft] = useState<SpecimenDraft>(() => emptySpecimen(firstKind));
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const problems = specimenProblems(draft, collection);
  const { errorFor, touch, attempt, reset } = useChecks(problems, serverError);
  const change = (patch: Partial<SpecimenDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const unit = t(`units.${collection.unit}`, { defaultValue: collection.unit });

  async function submit(event: FormEvent) {
    event.preventDefault();
    attempt();
    setServerError(null);
    if (Object.keys(problems).length > 0) {
      focusFirst(form.current, problems);
      return;
    }
    setBusy(true);
    try {
      const body = specimenBody(draft);
      const specimen = await api.post('/api/v1/donors/{id}/specimens', { path: { id: donor.id }, body });
      const sample = await api.get('/api/v1/samples/{id}', { path: { id: specimen.sampleId } }).catch(() => null);
      const identifier = sample?.identifier ?? body.identifier ?? specimen.sampleId;
      toast(t('register.specimenDone', { identifier }));
      // The pre-analytical data often repeat from one specimen to the next; the sample's own fields start again.
      setDraft((current) => ({ ...current, quantity: '', identifier: '' }));
      reset();
      onDone({ sampleId: specimen.sampleId, identifier });
    } catch (caught) {
      setServerError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form ref={form} className="subform" aria-labelledby="specimen-form-title" onSubmit={(event) => void submit(event)} noValidate>
      <h3 id="specimen-form-title">{t('register.specimenTitle')}</h3>
      <p className="muted small">{t('register.specimenLead')}</p>
      <ServerError error={serverError} />
      <fieldset>
        <legend>{t('register.sampleLegend')}</legend>
        <div className="form-grid">
          <div data-field="kind">
            <SelectField label={t('register.kind')} value={draft.kind} onChange={(value) => { change({ kind: value }); touch('kind'); }} error={errorFor('kind')}>
              <option value="">{t('apply.choose')}</option>
              {collection.kinds.map((kind) => (
                <option key={kind} value={kind}>
                  {kind}
                </option>
              ))}
            </SelectField>
          </div>
          <div data-field="quantity">
            <Field
              label={t('register.quantity', { unit })}
              required
              inputMode={collection.scale === 0 ? 'numeric' : 'decimal'}
              value={draft.quantity}
              hint={collection.scale === 0 ? t('register.quantityWhole') : t('register.quantityScale', { scale: collection.scale })}
              onChange={(event) => { change({ quantity: event.target.value }); touch('quantity'); }}
              error={errorFor('quantity')}
            />
          </div>
          <div data-field="identifier">
            <Field label={t('register.identifier')} maxLength={64} autoComplete="off" spellCheck={false} value={draft.identifier} hint={t('register.identifierHint')} onChange={(event) => { change({ identifier: event.target.value }); touch('identifier'); }} error={errorFor('identifier')} />
          </div>
        </div>
      </fieldset>
      <fieldset>
        <legend>{t('register.preanalytical')}</legend>
        <div className="form-grid">
          <div data-field="collectionMethod">
            <SelectField label={t('register.collectionMethod')} value={draft.collectionMethod} onChange={(value) => change({ collectionMethod: value })} error={errorFor('collectionMethod')}>
              <option value="">{t('register.notRecorded')}</option>
              {collectionMethods.map((method) => (
                <option key={method} value={method}>
                  {t(`register.method.${method}`)}
                </option>
              ))}
            </SelectField>
          </div>
          <div data-field="bodySite">
            <Field label={t('register.bodySite')} maxLength={200} value={draft.bodySite} placeholder={t('register.bodySiteExample')} onChange={(event) => change({ bodySite: event.target.value })} onBlur={() => touch('bodySite')} error={errorFor('bodySite')} />
          </div>
          <div data-field="collectedAt">
            <Field label={t('register.collectedAt')} type="datetime-local" value={draft.collectedAt} onChange={(event) => { change({ collectedAt: event.target.value }); touch('collectedAt'); }} error={errorFor('collectedAt')} />
          </div>
          <div data-field="fixation">
            <SelectField label={t('register.fixation')} value={draft.fixation} onChange={(value) => change({ fixation: value })} error={errorFor('fixation')}>
              <option value="">{t('register.notRecorded')}</option>
              {fixations.map((fixation) => (
                <option key={fixation} value={fixation}>
                  {t(`register.fix.${fixation}`)}
                </option>
              ))}
            </SelectField>
          </div>
          <div data-field="coldIschaemiaMinutes">
            <Field label={t('register.coldIschaemia')} inputMode="numeric" value={draft.coldIschaemiaMinutes} hint={t('register.coldIschaemiaHint')} onChange={(event) => { change({ coldIschaemiaMinutes: event.target.value }); touch('coldIschaemiaMinutes'); }} error={errorFor('coldIschaemiaMinutes')} />
          </div>
          <div data-field="storageTemperatureC">
            <Field label={t('register.storageTemperature')} inputMode="numeric" value={draft.storageTemperatureC} placeholder="-80" onChange={(event) => { change({ storageTemperatureC: event.target.value }); touch('storageTemperatureC'); }} error={errorFor('storageTemperatureC')} />
          </div>
          <div data-field="sprec">
            <Field label={t('register.sprec')} maxLength={40} autoComplete="off" spellCheck={false} value={draft.sprec} placeholder="TIS-ARM-A-B-FOR-S-A" hint={t('register.sprecHint')} onChange={(event) => change({ sprec: event.target.value })} onBlur={() => touch('sprec')} error={errorFor('sprec')} />
          </div>
          <div data-field="biosafetyLevel">
            <SelectField label={t('register.biosafety')} value={draft.biosafetyLevel} onChange={(value) => change({ biosafetyLevel: value })} error={errorFor('biosafetyLevel')}>
              <option value="">{collection.biosafetyLevel ? t('register.biosafetyCollection', { level: collection.biosafetyLevel }) : t('register.notRecorded')}</option>
              {biosafetyLevels.map((level) => (
                <option key={level} value={level}>
                  {t('register.bsl', { level })}
                </option>
              ))}
            </SelectField>
          </div>
        </div>
      </fieldset>
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? t('register.registering') : t('register.specimenSubmit')}
      </button>
    </form>
  );
}
