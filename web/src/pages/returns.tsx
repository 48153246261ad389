import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api, ApiError, type Answer } from '../api/client';
import { Dialog } from '../components/dialog';
import { Field, SelectField, TextAreaField } from '../components/field';
import { ListState } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, DateTime, PageHeader, Quantity, Segmented, StatusBadge } from '../components/ui';
import { useLoad } from '../components/use-load';

type Return = Answer<'/api/v1/loans/returns', 'get'>['items'][number];
type Incident = Answer<'/api/v1/incidents', 'get'>['items'][number];

function errorOf(caught: unknown): ApiError {
  return caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', '');
}

/** The curator's returns desk: material on its way back, and receipt of it. */
export default function ReturnsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const state = params.get('state') === 'received' ? 'received' : 'in_transit';
  const [load, reload] = useLoad((signal) => api.get('/api/v1/loans/returns', { query: { state, limit: 200 }, signal }), [state]);
  const [receiving, setReceiving] = useState<Return | null>(null);
  return (
    <>
      <PageHeader
        title={t('desk.returns.title')}
        lead={t('desk.returns.lead')}
        actions={
          <Segmented
            label={t('desk.returns.show')}
            value={state}
            options={[
              ['in_transit', t('desk.returns.inTransit')],
              ['received', t('desk.returns.received')],
            ]}
            onChange={(value) => setParams(value === 'received' ? { state: 'received' } : {})}
          />
        }
      />
      <ListState load={load} reload={reload} empty={state === 'received' ? t('desk.returns.noneReceived') : t('desk.returns.none')}>
        {(items) => (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{state === 'received' ? t('desk.returns.received') : t('desk.returns.inTransit')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('desk.returns.returned')}</th>
                  <th scope="col">{t('desk.returns.recipient')}</th>
                  <th scope="col" className="num">{t('desk.returns.declared')}</th>
                  <th scope="col">{t('desk.returns.returnedAt')}</th>
                  {state === 'received' ? (
                    <>
                      <th scope="col" className="num">{t('desk.returns.found')}</th>
                      <th scope="col">{t('desk.returns.receivedAt')}</th>
                    </>
                  ) : (
                    <th scope="col">
                      <span className="visually-hidden">{t('desk.returns.receive')}</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {items.map((item) => (
                  <tr key={item.id}>
                    <th scope="row">
                      <Link to={`/samples/${item.returnedSampleId}`}>{item.returnedIdentifier}</Link>
                      <div className="muted small">
                        {item.kind} · {t('desk.returns.from')} {item.sampleIdentifier}
                      </div>
                    </th>
                    <td>
                      <Link to={`/applications/${item.applicationId}`}>{item.applicationTitle}</Link>
                      <div className="muted small">
                        {item.applicant.name}
                        {item.applicant.institution ? ` · ${item.applicant.institution}` : ''}
                      </div>
                    </td>
                    <td className="num">
                      <Quantity value={item.quantity} unit={item.unit} />
                      {item.condition === 'damaged' && (
                        <>
                          {' '}
                          <Badge tone="amber">{t('desk.returns.damaged')}</Badge>
                        </>
                      )}
                    </td>
                    <td>
                      <DateTime value={item.returnedAt} />
                    </td>
                    {state === 'received' ? (
                      <>
                        <td className="num">
                          {item.receivedQuantity && <Quantity value={item.receivedQuantity} unit={item.unit} />} {item.returnedState && <StatusBadge state={item.returnedState} />}
                          {item.receiptNote && <div className="muted small">{item.receiptNote}</div>}
                        </td>
                        <td>
                          <DateTime value={item.receivedAt} />
                        </td>
                      </>
                    ) : (
                      <td>
                        <button type="button" className="button button-small button-primary" aria-label={t('desk.returns.receiveOf', { identifier: item.returnedIdentifier })} onClick={() => setReceiving(item)}>
                          {t('desk.returns.receive')}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      {receiving && <ReceiveDialog item={receiving} onClose={() => setReceiving(null)} onDone={reload} />}
    </>
  );
}

function ReceiveDialog({ item, onClose, onDone }: { item: Return; onClose(): void; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [quantity, setQuantity] = useState(item.quantity);
  const [condition, setCondition] = useState<'intact' | 'damaged'>(item.condition === 'damaged' ? 'damaged' : 'intact');
  const [locationId, setLocationId] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(() => crypto.randomUUID());
  const [locations] = useLoad((signal) => api.get('/api/v1/locations', { query: { limit: 200 }, signal }), []);
  async function confirm(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { condition, quantity: quantity.trim(), ...(locationId ? { locationId } : {}), ...(note.trim() ? { note: note.trim() } : {}) };
      await api.post('/api/v1/loans/returns/{id}/receipt', { path: { id: item.id }, body, idempotencyKey: `${key}-${JSON.stringify(body)}` });
      toast(t('desk.returns.done', { identifier: item.returnedIdentifier }));
      onClose();
      onDone();
    } catch (caught) {
      setError(errorOf(caught));
    } finally {
      setBusy(false);
    }
  }
  const unit = t(`units.${item.unit}`, { defaultValue: item.unit });
  return (
    <Dialog title={t('desk.returns.receiveOf', { identifier: item.returnedIdentifier })} onClose={onClose}>
      <form className="dialog-body" onSubmit={(event) => void confirm(event)}>
        <p className="muted">
          {item.applicationTitle} · {t('desk.returns.declared')} <Quantity value={item.quantity} unit={item.unit} />
          {item.note ? ` · ${item.note}` : ''}
        </p>
        {error && !error.errors.length && (
          <div className="form-error" role="alert">
            {error.detail || error.title}
          </div>
        )}
        <Field label={t('desk.returns.quantityFound', { unit })} hint={t('desk.returns.quantityHint')} inputMode="decimal" value={quantity} onChange={(e) => setQuantity(e.target.value)} error={error?.field('quantity')} />
        <fieldset className="field">
          <legend>{t('desk.returns.condition')}</legend>
          {(['intact', 'damaged'] as const).map((value) => (
            <label key={value} className="radio">
              <input type="radio" name="condition" value={value} checked={condition === value} onChange={() => setCondition(value)} /> {t(`desk.returns.${value}`)}
            </label>
          ))}
        </fieldset>
        <SelectField label={t('desk.returns.location')} value={locationId} onChange={setLocationId} error={error?.field('locationId')}>
          <option value="">{t('desk.returns.noLocation')}</option>
          {locations.status === 'ok' &&
            locations.data.items.map((location) => (
              <option key={location.id} value={location.id}>
                {location.code} · {location.name}
              </option>
            ))}
        </SelectField>
        <TextAreaField label={t('desk.returns.note')} value={note} onChange={(e) => setNote(e.target.value)} error={error?.field('note')} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {t('desk.returns.confirm')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Discrepancies recipients found on receipt, for the curator to resolve. */
export function IncidentsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const state = params.get('state') === 'resolved' ? 'resolved' : 'open';
  const [load, reload] = useLoad((signal) => api.get('/api/v1/incidents', { query: { state, limit: 200 }, signal }), [state]);
  const [resolving, setResolving] = useState<Incident | null>(null);
  return (
    <>
      <PageHeader
        title={t('desk.incidents.title')}
        lead={t('desk.incidents.lead')}
        actions={
          <Segmented
            label={t('desk.incidents.show')}
            value={state}
            options={[
              ['open', t('desk.incidents.open')],
              ['resolved', t('desk.incidents.resolved')],
            ]}
            onChange={(value) => setParams(value === 'resolved' ? { state: 'resolved' } : {})}
          />
        }
      />
      <ListState load={load} reload={reload} empty={state === 'resolved' ? t('desk.incidents.noneResolved') : t('desk.incidents.none')}>
        {(items) => (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{t('desk.incidents.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('desk.incidents.sample')}</th>
                  <th scope="col">{t('desk.incidents.shipment')}</th>
                  <th scope="col">{t('desk.incidents.kind')}</th>
                  <th scope="col" className="num">{t('desk.incidents.expected')}</th>
                  <th scope="col" className="num">{t('desk.incidents.found')}</th>
                  <th scope="col">{t('desk.incidents.description')}</th>
                  <th scope="col">{state === 'resolved' ? t('desk.incidents.resolution_') : <span className="visually-hidden">{t('desk.incidents.resolve')}</span>}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((incident) => (
                  <tr key={incident.id}>
                    <th scope="row">
                      <Link to={`/samples/${incident.sampleId}`}>{incident.identifier}</Link>
                    </th>
                    <td>
                      <Link to={`/shipments/${incident.shipmentId}`}>{incident.shipmentReference}</Link>
                    </td>
                    <td>
                      {t(`desk.incidents.kinds.${incident.kind}`)} <StatusBadge state={incident.condition} />
                    </td>
                    <td className="num">{incident.expected}</td>
                    <td className="num">{incident.found}</td>
                    <td>{incident.description}</td>
                    <td>
                      {incident.state === 'open' ? (
                        <button type="button" className="button button-small button-primary" aria-label={t('desk.incidents.resolveOf', { identifier: incident.identifier })} onClick={() => setResolving(incident)}>
                          {t('desk.incidents.resolve')}
                        </button>
                      ) : (
                        <>
                          {incident.action && <Badge tone={incident.action === 'adjust' ? 'amber' : 'green'}>{t(`desk.incidents.${incident.action}`)}</Badge>}
                          <div className="muted small">{incident.resolution}</div>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      {resolving && <ResolveDialog incident={resolving} onClose={() => setResolving(null)} onDone={reload} />}
    </>
  );
}

function ResolveDialog({ incident, onClose, onDone }: { incident: Incident; onClose(): void; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const [action, setAction] = useState<'accept' | 'adjust'>('adjust');
  const [resolution, setResolution] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(() => crypto.randomUUID());
  async function confirm(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/incidents/{id}/resolve', { path: { id: incident.id }, body: { action, resolution: resolution.trim() }, idempotencyKey: `${key}-${action}-${resolution.trim()}` });
      toast(t('desk.incidents.done', { identifier: incident.identifier }));
      onClose();
      onDone();
    } catch (caught) {
      setError(errorOf(caught));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog title={t('desk.incidents.resolveOf', { identifier: incident.identifier })} onClose={onClose}>
      <form className="dialog-body" onSubmit={(event) => void confirm(event)}>
        <p className="muted">
          {incident.shipmentReference} · {t('desk.incidents.expected')} {incident.expected} · {t('desk.incidents.found')} {incident.found} · {incident.description}
        </p>
        {error && !error.errors.length && (
          <div className="form-error" role="alert">
            {error.detail || error.title}
          </div>
        )}
        <fieldset className="field">
          <legend>{t('desk.incidents.action')}</legend>
          {(['adjust', 'accept'] as const).map((value) => (
            <label key={value} className="radio">
              <input type="radio" name="action" value={value} checked={action === value} onChange={() => setAction(value)} /> {t(`desk.incidents.${value}`)}
            </label>
          ))}
        </fieldset>
        <TextAreaField label={t('desk.incidents.resolution')} required value={resolution} onChange={(e) => setResolution(e.target.value)} error={error?.field('resolution')} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {t('desk.incidents.confirm')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
