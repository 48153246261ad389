import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { Field, SelectField, TextAreaField } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { DateTime, PageHeader, Quantity } from '../components/ui';
import { useLoad } from '../components/use-load';
import { consentUses, isConsentUse, type ConsentUse } from '../lib/consent';
import { draftProblems, OTHER, submitProblems, toBody, type ApplicationDraft, type Offer, type Problem, type Problems } from '../lib/application-rules';

type Call = Answer<'/api/v1/calls/{id}', 'get'>;
type Application = Answer<'/api/v1/applications/{id}', 'get'>;

interface Loaded {
  call: Call;
  offer: Offer;
  application: Application | null;
  /** The intended research uses declared so far (human material only). */
  uses: ConsentUse[];
}

async function load(callId: string | null, applicationId: string | undefined, signal: AbortSignal): Promise<Loaded | null> {
  const application = applicationId ? await api.get('/api/v1/applications/{id}', { path: { id: applicationId }, signal }) : null;
  const id = application?.callId ?? callId;
  if (!id) return null;
  const [call, pool] = await Promise.all([api.get('/api/v1/calls/{id}', { path: { id }, signal }), api.get('/api/v1/calls/{id}/pool', { path: { id }, signal })]);
  const releasable = Object.fromEntries(pool.kinds.map((kind) => [kind.kind, kind.releasable]));
  const declared = call.humanConsent && application ? (await api.get('/api/v1/applications/{id}/uses', { path: { id: application.id }, signal })).uses.filter(isConsentUse) : [];
  return { call, application, uses: declared, offer: { scale: call.scale, unit: call.unit, directions: call.researchDirections, releasable, humanConsent: call.humanConsent } };
}

function draftOf(application: Application | null, offer: Offer): ApplicationDraft {
  const kinds = Object.keys(offer.releasable);
  if (!application) {
    return { title: '', researchDirection: '', researchDirectionOther: '', methods: '', destructive: false, justification: '', ethicsReference: '', items: [{ kind: kinds.length === 1 ? kinds[0]! : '', quantity: '', minimum: '' }] };
  }
  return {
    title: application.title,
    researchDirection: application.researchDirection ?? (application.researchDirectionOther ? OTHER : ''),
    researchDirectionOther: application.researchDirectionOther ?? '',
    methods: application.methods ?? '',
    destructive: application.destructive,
    justification: application.justification ?? '',
    ethicsReference: application.ethicsReference ?? '',
    items: application.items.map((item) => ({ kind: item.kind, quantity: item.quantity, minimum: item.minimum === item.quantity ? '' : item.minimum })),
  };
}

/** Start a draft for a call (`/applications/new?call=`) or edit one (`/applications/:id/edit`). */
export default function ApplicationFormPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const [params] = useSearchParams();
  const callId = params.get('call');
  const [state, reload] = useLoad((signal) => load(callId, id, signal), [callId, id]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  if (!state.data) {
    return (
      <>
        <PageHeader title={t('apply.title')} />
        <Empty action={<Link className="button button-primary" to="/calls">{t('apply.browse')}</Link>}>{t('apply.noCall')}</Empty>
      </>
    );
  }
  if (state.data.application && state.data.application.state !== 'draft') {
    return (
      <>
        <PageHeader title={t('apply.title')} />
        <Empty action={<Link className="button" to={`/applications/${state.data.application.id}`}>{t('apply.view')}</Link>}>{t('apply.notDraft')}</Empty>
      </>
    );
  }
  return <ApplicationForm {...state.data} />;
}

function ApplicationForm({ call, offer, application, uses: declared }: Loaded) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const toast = useToast();
  const [draft, setDraft] = useState<ApplicationDraft>(() => draftOf(application, offer));
  const [uses, setUses] = useState<ConsentUse[]>(declared);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [attempted, setAttempted] = useState<'none' | 'save' | 'submit'>('none');
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<'save' | 'submit' | null>(null);
  const kinds = Object.keys(offer.releasable);

  // Draft problems show as soon as a field is touched; what a submission needs shows after trying to submit.
  const problems: Problems = attempted === 'submit' ? submitProblems(draft, offer) : draftProblems(draft, offer);
  const message = (problem: Problem | undefined) => (problem ? t(problem.key, problem.values) : undefined);
  const errorFor = (field: string): string | undefined => {
    const local = touched.has(field) || attempted !== 'none' ? message(problems[field]) : undefined;
    return local ?? serverError?.field(field);
  };
  const touch = (field: string) => setTouched((all) => (all.has(field) ? all : new Set(all).add(field)));
  const change = (patch: Partial<ApplicationDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const changeItem = (index: number, patch: Partial<ApplicationDraft['items'][number]>) =>
    setDraft((current) => ({ ...current, items: current.items.map((item, i) => (i === index ? { ...item, ...patch } : item)) }));

  async function save(submit: boolean): Promise<void> {
    setAttempted(submit ? 'submit' : 'save');
    setServerError(null);
    const found = submit ? submitProblems(draft, offer) : draftProblems(draft, offer);
    if (Object.keys(found).length > 0) {
      const first = Object.keys(found)[0]!;
      document.querySelector<HTMLElement>(`[data-field="${first}"] input, [data-field="${first}"] textarea, [data-field="${first}"] select`)?.focus();
      return;
    }
    setBusy(submit ? 'submit' : 'save');
    try {
      const body = toBody(draft, offer);
      const saved = application
        ? await api.patch('/api/v1/applications/{id}', { path: { id: application.id }, body })
        : await api.post('/api/v1/applications', { body: { callId: call.id, ...body } });
      if (offer.humanConsent) {
        try {
          await api.put('/api/v1/applications/{id}/uses', { path: { id: saved.id }, body: { uses: consentUses.filter((use) => uses.includes(use)) } });
        } catch (caught) {
          // The application itself is saved: go on editing it rather than create it again.
          toast(`${t('uses.saveFailed')} ${caught instanceof ApiError ? caught.detail || caught.title : t('state.network')}`, 'error');
          navigate(`/applications/${saved.id}/edit`);
          return;
        }
      }
      if (submit) {
        await api.post('/api/v1/applications/{id}/submit', { path: { id: saved.id } });
        toast(t('apply.submitted'));
      } else {
        toast(t('apply.saved'));
      }
      navigate(`/applications/${saved.id}`);
    } catch (caught) {
      setServerError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(null);
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void save(true);
  }

  const other = draft.researchDirection === OTHER || offer.directions.length === 0;
  return (
    <>
      <PageHeader
        title={application ? t('apply.editTitle') : t('apply.title')}
        lead={
          <>
            {call.title} · {t('calls.closes')} <DateTime value={call.closesAt} />
          </>
        }
      />
      <form className="card form" onSubmit={onSubmit} noValidate aria-describedby="apply-lead">
        <p id="apply-lead" className="muted">
          {call.blind ? t('apply.blindLead') : t('apply.lead')}
        </p>
        {serverError && (
          <div className="form-error" role="alert">
            {serverError.status === 0 ? t('state.network') : serverError.detail || serverError.title} {serverError.errors.length > 0 && t('apply.fixFields')}
          </div>
        )}
        <div data-field="title">
          <Field label={t('apply.fields.title')} required value={draft.title} maxLength={300} onChange={(e) => change({ title: e.target.value })} onBlur={() => touch('title')} error={errorFor('title')} />
        </div>
        <div data-field="researchDirection">
          {offer.directions.length > 0 && (
            <SelectField label={t('apply.fields.direction')} value={draft.researchDirection} onChange={(value) => { change({ researchDirection: value }); touch('researchDirection'); }} error={errorFor('researchDirection')}>
              <option value="">{t('apply.choose')}</option>
              {offer.directions.map((direction) => (
                <option key={direction} value={direction}>
                  {direction}
                </option>
              ))}
              <option value={OTHER}>{t('apply.otherDirection')}</option>
            </SelectField>
          )}
          {other && (
            <Field label={t('apply.fields.directionOther')} value={draft.researchDirectionOther} onChange={(e) => change({ researchDirectionOther: e.target.value })} error={offer.directions.length === 0 ? errorFor('researchDirection') : errorFor('researchDirectionOther')} />
          )}
        </div>
        <div data-field="methods">
          <TextAreaField label={t('apply.fields.methods')} value={draft.methods} onChange={(e) => change({ methods: e.target.value })} onBlur={() => touch('methods')} error={errorFor('methods')} />
        </div>
        <div className="field field-check">
          <input id="destructive" type="checkbox" checked={draft.destructive} onChange={(e) => change({ destructive: e.target.checked })} />
          <label htmlFor="destructive">{t('apply.fields.destructive')}</label>
        </div>
        <div data-field="justification">
          <TextAreaField label={t('apply.fields.justification')} value={draft.justification} onChange={(e) => change({ justification: e.target.value })} onBlur={() => touch('justification')} error={errorFor('justification')} />
        </div>
        {offer.humanConsent && (
          <div data-field="ethicsReference">
            <Field label={t('apply.fields.ethics')} value={draft.ethicsReference} onChange={(e) => change({ ethicsReference: e.target.value })} onBlur={() => touch('ethicsReference')} error={errorFor('ethicsReference')} />
          </div>
        )}

        {offer.humanConsent && (
          <fieldset className="uses" data-field="uses" aria-describedby="uses-lead uses-hint">
            <legend>{t('uses.legend')}</legend>
            <p id="uses-lead" className="muted">{t('uses.lead')}</p>
            <div className="check-list">
              {consentUses.map((use) => (
                <div className="check" key={use}>
                  <input id={`use-${use}`} type="checkbox" checked={uses.includes(use)} onChange={(e) => setUses((all) => (e.target.checked ? [...all, use] : all.filter((u) => u !== use)))} />
                  <label htmlFor={`use-${use}`}>{t(`allocation.explain.use.${use}`)}</label>
                </div>
              ))}
            </div>
            <small id="uses-hint" className="hint">{t('uses.hint')}</small>
            {serverError?.field('uses') && <p className="field-error">{serverError.field('uses')}</p>}
          </fieldset>
        )}

        <fieldset className="items" data-field="items">
          <legend>{t('apply.items')}</legend>
          {errorFor('items') && <p className="field-error">{errorFor('items')}</p>}
          {kinds.length === 0 && <p className="muted">{t('apply.nothingOffered')}</p>}
          {draft.items.map((item, index) => (
            <div className="part" key={index} role="group" aria-label={t('apply.item', { n: index + 1 })}>
              <div className="part-fields">
                <div data-field={`items.${index}.kind`}>
                  <SelectField label={t('apply.fields.kind')} value={item.kind} onChange={(value) => { changeItem(index, { kind: value }); touch(`items.${index}.kind`); }} error={errorFor(`items.${index}.kind`)}>
                    <option value="">{t('apply.choose')}</option>
                    {kinds.map((kind) => (
                      <option key={kind} value={kind}>
                        {kind}
                      </option>
                    ))}
                  </SelectField>
                </div>
                <div data-field={`items.${index}.quantity`}>
                  <Field
                    label={t('apply.fields.quantity', { unit: t(`units.${offer.unit}`, { defaultValue: offer.unit }) })}
                    inputMode="decimal"
                    value={item.quantity}
                    onChange={(e) => { changeItem(index, { quantity: e.target.value }); touch(`items.${index}.quantity`); }}
                    hint={item.kind && offer.releasable[item.kind] !== undefined ? <>{t('apply.releasable')} <Quantity value={offer.releasable[item.kind]!} unit={offer.unit} /></> : undefined}
                    error={errorFor(`items.${index}.quantity`)}
                  />
                </div>
                <div data-field={`items.${index}.minimum`}>
                  <Field
                    label={t('apply.fields.minimum', { unit: t(`units.${offer.unit}`, { defaultValue: offer.unit }) })}
                    inputMode="decimal"
                    value={item.minimum}
                    hint={t('apply.minimumHint')}
                    onChange={(e) => { changeItem(index, { minimum: e.target.value }); touch(`items.${index}.minimum`); }}
                    error={errorFor(`items.${index}.minimum`)}
                  />
                </div>
              </div>
              {draft.items.length > 1 && (
                <button type="button" className="button button-quiet button-small" onClick={() => change({ items: draft.items.filter((_, i) => i !== index) })}>
                  {t('apply.removeItem', { n: index + 1 })}
                </button>
              )}
            </div>
          ))}
          {draft.items.length < kinds.length && (
            <button type="button" className="button button-small" onClick={() => change({ items: [...draft.items, { kind: '', quantity: '', minimum: '' }] })}>
              {t('apply.addItem')}
            </button>
          )}
        </fieldset>

        <div className="form-actions">
          <button type="button" className="button" disabled={busy !== null} onClick={() => void save(false)}>
            {busy === 'save' ? t('apply.saving') : t('apply.saveDraft')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy !== null}>
            {busy === 'submit' ? t('apply.submitting') : t('apply.submit')}
          </button>
        </div>
        <p className="muted small">{t('apply.attachLater')}</p>
      </form>
    </>
  );
}
