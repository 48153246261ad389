import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { useAuth } from '../auth';
import { Field, SelectField } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { DateTime, PageHeader, Quantity, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';

type Shipment = Answer<'/api/v1/shipments/{id}', 'get'>;

/** The curator's shipments, and a new shipment for an application whose material is reserved. */
export default function ShipmentsPage() {
  const { t } = useTranslation();
  const [state, reload] = useLoad(async (signal) => {
    const [shipments, allocated] = await Promise.all([
      api.get('/api/v1/shipments', { query: { limit: 100 }, signal }),
      api.get('/api/v1/applications', { query: { state: 'allocated', limit: 200 }, signal }),
    ]);
    return { shipments: shipments.items, allocated: allocated.items };
  }, []);
  return (
    <>
      <PageHeader title={t('shipments.title')} lead={t('shipments.lead')} />
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && (
        <>
          <NewShipment applications={state.data.allocated} />
          {state.data.shipments.length === 0 ? (
            <Empty>{t('shipments.empty')}</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">{t('shipments.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('shipments.reference')}</th>
                    <th scope="col">{t('shipments.application')}</th>
                    <th scope="col">{t('shipments.recipient')}</th>
                    <th scope="col" className="num">{t('shipments.total')}</th>
                    <th scope="col">{t('list.state')}</th>
                    <th scope="col">{t('shipments.created')}</th>
                  </tr>
                </thead>
                <tbody>
                  {state.data.shipments.map((shipment) => (
                    <tr key={shipment.id}>
                      <th scope="row">
                        <Link to={`/shipments/${shipment.id}`}>{shipment.reference}</Link>
                      </th>
                      <td>{shipment.applicationTitle}</td>
                      <td>
                        {shipment.recipient.name} · {shipment.recipient.institution}
                      </td>
                      <td className="num">
                        <Quantity value={shipment.total} unit={shipment.unit} />
                      </td>
                      <td>
                        <StatusBadge state={shipment.state} />
                      </td>
                      <td>
                        <DateTime value={shipment.createdAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}

function NewShipment({ applications }: { applications: Array<{ id: string; title: string; institution?: { name: string } | undefined }> }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [applicationId, setApplicationId] = useState(applications[0]?.id ?? '');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(() => crypto.randomUUID());
  if (applications.length === 0) return <p className="muted">{t('shipments.nothingToShip')}</p>;
  async function create(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const shipment = await api.post('/api/v1/shipments', { body: { applicationId }, idempotencyKey: `${key}-${applicationId}` });
      navigate(`/shipments/${shipment.id}`);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="card inline-form" onSubmit={create} aria-label={t('shipments.new')}>
      <SelectField label={t('shipments.forApplication')} value={applicationId} onChange={setApplicationId} error={error?.field('applicationId') ?? (error && !error.errors.length ? error.detail : undefined)}>
        {applications.map((application) => (
          <option key={application.id} value={application.id}>
            {application.title}
            {application.institution ? ` · ${application.institution.name}` : ''}
          </option>
        ))}
      </SelectField>
      <button type="submit" className="button button-primary" disabled={busy}>
        {t('shipments.prepare')}
      </button>
    </form>
  );
}

/** One shipment: its items, the chain of custody, labels and packing list, and the next step. */
export function ShipmentPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const { user } = useAuth();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/shipments/{id}', { path: { id }, signal }), [id]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const shipment = state.data;
  const curator = !!user?.roles.some((role) => role === 'curator');
  return (
    <>
      <p className="breadcrumb">{curator ? <Link to="/shipments">{t('shipments.back')}</Link> : <Link to={`/applications/${shipment.applicationId}`}>{t('shipments.backToApplication')}</Link>}</p>
      <PageHeader
        title={t('shipments.one', { reference: shipment.reference })}
        lead={
          <>
            <StatusBadge state={shipment.state} /> {shipment.applicationTitle} · {shipment.recipient.name}, {shipment.recipient.institution}
          </>
        }
        actions={
          <>
            <a className="button" href={`/api/v1/shipments/${shipment.id}/labels.pdf`} target="_blank" rel="noreferrer">
              {t('shipments.labels')}
            </a>
            <a className="button" href={`/api/v1/shipments/${shipment.id}/packing-list.pdf`} target="_blank" rel="noreferrer">
              {t('shipments.packingList')}
            </a>
          </>
        }
      />
      {curator && <CuratorSteps shipment={shipment} onChange={reload} />}
      {user?.id === shipment.recipient.id && shipment.state === 'dispatched' && <ReceiptForm shipment={shipment} onDone={reload} />}
      <div className="layout-2">
        <ShipmentItems shipment={shipment} />
        <Custody shipment={shipment} />
      </div>
    </>
  );
}

export function ShipmentItems({ shipment }: { shipment: Shipment }) {
  const { t } = useTranslation();
  return (
    <section className="card" aria-labelledby={`items-${shipment.id}`}>
      <h2 id={`items-${shipment.id}`}>{t('shipments.items')}</h2>
      <table className="table table-compact">
        <caption className="visually-hidden">{t('shipments.items')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('samples.identifierCol')}</th>
            <th scope="col">{t('apply.fields.kind')}</th>
            <th scope="col" className="num">{t('shipments.quantity')}</th>
            <th scope="col" className="num">{t('shipments.received')}</th>
          </tr>
        </thead>
        <tbody>
          {shipment.items.map((item) => (
            <tr key={item.sampleId}>
              <th scope="row" className="mono">
                {item.identifier}
              </th>
              <td>{item.kind}</td>
              <td className="num">
                <Quantity value={item.quantity} unit={shipment.unit} />
              </td>
              <td className="num">
                {item.receivedQuantity === null ? '—' : <Quantity value={item.receivedQuantity} unit={shipment.unit} />} {item.condition && t(`shipments.condition.${item.condition}`)}
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={2}>
              {t('shipments.total')}
            </th>
            <td className="num">
              <Quantity value={shipment.total} unit={shipment.unit} />
            </td>
            <td />
          </tr>
        </tfoot>
      </table>
      {shipment.incidents.length > 0 && (
        <>
          <h3>{t('shipments.incidents')}</h3>
          <ul>
            {shipment.incidents.map((incident) => (
              <li key={incident.id}>
                <StatusBadge state={incident.state} /> {incident.identifier}: {incident.description}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Custody({ shipment }: { shipment: Shipment }) {
  const { t } = useTranslation();
  return (
    <section className="card" aria-labelledby={`custody-${shipment.id}`}>
      <h2 id={`custody-${shipment.id}`}>{t('shipments.custody')}</h2>
      {shipment.courier && (
        <p>
          {t('shipments.courier')}: {shipment.courier} · {t('shipments.tracking')}: <span className="mono">{shipment.trackingNumber}</span>
        </p>
      )}
      <ol className="timeline">
        {shipment.events.map((event, index) => (
          <li key={index}>
            <strong>{t(`shipments.event.${event.kind}`, { defaultValue: event.kind })}</strong> <DateTime value={event.at} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function CuratorSteps({ shipment, onChange }: { shipment: Shipment; onChange(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [courier, setCourier] = useState('');
  const [tracking, setTracking] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(() => crypto.randomUUID());
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
  if (shipment.state === 'prepared') {
    return (
      <div className="card">
        <p>{t('shipments.packLead')}</p>
        {error && <div className="form-error" role="alert">{error.detail || error.title}</div>}
        <button type="button" className="button button-primary" disabled={busy} onClick={() => void run(() => api.post('/api/v1/shipments/{id}/pack', { path: { id: shipment.id } }), t('shipments.packed'))}>
          {t('shipments.pack')}
        </button>
      </div>
    );
  }
  if (shipment.state === 'packed') {
    return (
      <form
        className="card inline-form"
        aria-label={t('shipments.dispatch')}
        onSubmit={(event) => {
          event.preventDefault();
          void run(() => api.post('/api/v1/shipments/{id}/dispatch', { path: { id: shipment.id }, idempotencyKey: key, body: { courier: courier.trim(), trackingNumber: tracking.trim() } }), t('shipments.dispatched'));
        }}
      >
        <Field label={t('shipments.courier')} value={courier} onChange={(e) => setCourier(e.target.value)} error={error?.field('courier')} />
        <Field label={t('shipments.tracking')} value={tracking} onChange={(e) => setTracking(e.target.value)} error={error?.field('trackingNumber')} />
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('shipments.dispatch')}
        </button>
        {error && !error.errors.length && <div className="form-error" role="alert">{error.detail || error.title}</div>}
      </form>
    );
  }
  return null;
}

/** The recipient confirms what arrived: quantity and condition per sample; a difference opens an incident. */
export function ReceiptForm({ shipment, onDone }: { shipment: Shipment; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [found, setFound] = useState<Record<string, { quantity: string; condition: 'intact' | 'damaged' | 'missing' }>>(() =>
    Object.fromEntries(shipment.items.map((item) => [item.sampleId, { quantity: item.quantity, condition: 'intact' as const }])),
  );
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(() => crypto.randomUUID());
  async function confirm(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/shipments/{id}/receipt', {
        path: { id: shipment.id },
        idempotencyKey: key,
        body: { items: shipment.items.map((item) => ({ sampleId: item.sampleId, quantity: found[item.sampleId]!.quantity.trim(), condition: found[item.sampleId]!.condition })) },
      });
      toast(t('shipments.receiptDone'));
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="card" onSubmit={confirm} aria-labelledby={`receipt-${shipment.id}`}>
      <h2 id={`receipt-${shipment.id}`}>{t('shipments.confirmTitle', { reference: shipment.reference })}</h2>
      <p className="muted">{t('shipments.confirmLead')}</p>
      {error && <div className="form-error" role="alert">{error.detail || error.title}</div>}
      {shipment.items.map((item, index) => (
        <div className="inline-form" key={item.sampleId} role="group" aria-label={item.identifier}>
          <Field
            label={t('shipments.foundQuantity', { identifier: item.identifier, unit: t(`units.${shipment.unit}`, { defaultValue: shipment.unit }) })}
            inputMode="decimal"
            value={found[item.sampleId]!.quantity}
            onChange={(e) => setFound((all) => ({ ...all, [item.sampleId]: { ...all[item.sampleId]!, quantity: e.target.value } }))}
            error={error?.field(`items.${index}.quantity`)}
          />
          <SelectField
            label={t('shipments.foundCondition', { identifier: item.identifier })}
            value={found[item.sampleId]!.condition}
            onChange={(value) => setFound((all) => ({ ...all, [item.sampleId]: { ...all[item.sampleId]!, condition: value as 'intact' | 'damaged' | 'missing' } }))}
          >
            {(['intact', 'damaged', 'missing'] as const).map((condition) => (
              <option key={condition} value={condition}>
                {t(`shipments.condition.${condition}`)}
              </option>
            ))}
          </SelectField>
        </div>
      ))}
      <button type="submit" className="button button-primary" disabled={busy}>
        {t('shipments.confirm')}
      </button>
    </form>
  );
}
