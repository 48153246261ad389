import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api/client';
import type { Collection, Sample } from '../api/contract';
import { Dialog } from '../components/dialog';
import { Field } from '../components/field';
import { useToast } from '../components/toast';
import { Quantity } from '../components/ui';
import { formatQuantity, fromWire, parseQuantity, type ParseResult } from '../lib/quantity';

interface Part {
  key: number;
  quantity: string;
  kind: string;
  identifier: string;
}

let partKey = 1;
const newPart = (): Part => ({ key: partKey++, quantity: '', kind: '', identifier: '' });

/**
 * Splits a sample into subsamples. The remainder is computed live with BigInt
 * and the dialog refuses what the ledger would: more decimals than the
 * collection's scale, zero, or more than is available. The server checks
 * again; its field errors show next to the field they name.
 */
export function SplitDialog({ sample, collection, onClose, onDone }: { sample: Sample; collection: Collection; onClose(): void; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const scale = collection.scale;
  const unit = t(`units.${sample.unit}`);
  const [parts, setParts] = useState<Part[]>([newPart()]);
  const [loss, setLoss] = useState('');
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<ApiError | null>(null);
  // One key per dialog: a retried submit replays the first answer instead of splitting twice.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const available = fromWire(sample.available, scale);

  const parsed = useMemo(() => parts.map((part) => parseQuantity(part.quantity, scale)), [parts, scale]);
  const parsedLoss = loss.trim() === '' ? ({ ok: true, value: 0n } as const) : parseQuantity(loss, scale);
  const total = parsed.reduce((sum, result) => sum + (result.ok ? result.value : 0n), 0n) + (parsedLoss.ok ? parsedLoss.value : 0n);
  const remainder = available - total;
  const tooMuch = remainder < 0n;

  const message = (result: ParseResult, allowZero = false): string | undefined => {
    if (!result.ok) {
      if (result.reason === 'scale') return scale === 0 ? t('split.errScale0') : t('split.errScale', { scale });
      if (result.reason === 'format') return t('split.errFormat');
      if (result.reason === 'negative') return t('split.errNegative');
      return t('split.errEmpty');
    }
    if (!allowZero && result.value <= 0n) return t('split.errZero');
    return undefined;
  };
  const partErrors = parsed.map((result, index) => (touched || parts[index]!.quantity !== '' ? message(result) : undefined));
  const lossError = loss.trim() === '' ? undefined : message(parsedLoss, true);
  const reasonError = touched && reason.trim() === '' ? t('split.errReason') : undefined;
  const totalError = tooMuch
    ? t('split.errTooMuch', { available: sample.available, total: formatQuantity(total, scale), unit })
    : undefined;
  const valid = parsed.every((result) => !message(result)) && !lossError && !tooMuch && reason.trim() !== '';

  function update(key: number, change: Partial<Part>) {
    setParts((all) => all.map((part) => (part.key === key ? { ...part, ...change } : part)));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (!valid) return;
    setBusy(true);
    setServerError(null);
    try {
      const result = await api.post('/api/v1/samples/{id}/split', {
        path: { id: sample.id },
        idempotencyKey,
        body: {
          parts: parts.map((part, index) => ({
            quantity: formatQuantity((parsed[index] as { value: bigint }).value, scale),
            ...(part.kind.trim() ? { kind: part.kind.trim() } : {}),
            ...(part.identifier.trim() ? { identifier: part.identifier.trim() } : {}),
          })),
          ...(parsedLoss.ok && parsedLoss.value > 0n ? { loss: formatQuantity(parsedLoss.value, scale) } : {}),
          reason: reason.trim(),
        },
      });
      toast(t('split.done', { count: result.children.length }));
      onDone();
    } catch (caught) {
      setServerError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }

  const serverField = (name: string) => serverError?.field(name);
  return (
    <Dialog title={t('split.title', { identifier: sample.identifier })} onClose={onClose} wide>
      <form onSubmit={submit} noValidate className="dialog-body">
        <p className="muted">{t('split.lead')}</p>
        {serverError && (
          <div className="form-error" role="alert">
            <strong>{serverError.title}</strong> {serverError.status === 0 ? t('state.network') : serverError.detail}
          </div>
        )}
        <p>
          {t('split.available')}: <Quantity value={sample.available} unit={sample.unit} />
        </p>
        <fieldset className="parts">
          {parts.map((part, index) => (
            <div className="part" key={part.key}>
              <div className="part-title">
                <strong>{t('split.part', { n: index + 1 })}</strong>
                {parts.length > 1 && (
                  <button type="button" className="button button-quiet button-small" onClick={() => setParts(parts.filter((p) => p.key !== part.key))}>
                    {t('split.removePart', { n: index + 1 })}
                  </button>
                )}
              </div>
              <div className="part-fields">
                <Field
                  label={t('split.quantity', { unit })}
                  inputMode="decimal"
                  autoComplete="off"
                  required
                  className="field-quantity"
                  value={part.quantity}
                  onChange={(event) => update(part.key, { quantity: event.target.value })}
                  error={partErrors[index] ?? serverField(`parts.${index}.quantity`)}
                  autoFocus={index === 0}
                />
                <Field label={t('split.kind')} value={part.kind} placeholder={sample.kind} onChange={(event) => update(part.key, { kind: event.target.value })} error={serverField(`parts.${index}.kind`)} />
                <Field
                  label={t('split.identifier')}
                  value={part.identifier}
                  spellCheck={false}
                  onChange={(event) => update(part.key, { identifier: event.target.value })}
                  error={serverField(`parts.${index}.identifier`)}
                />
              </div>
            </div>
          ))}
          <button type="button" className="button button-small" onClick={() => setParts([...parts, newPart()])}>
            + {t('split.addPart')}
          </button>
        </fieldset>
        <div className="form-row">
          <Field label={t('split.loss', { unit })} inputMode="decimal" autoComplete="off" value={loss} onChange={(event) => setLoss(event.target.value)} error={lossError ?? serverField('loss')} />
          <Field label={t('split.reason')} hint={t('split.reasonHint')} required value={reason} onChange={(event) => setReason(event.target.value)} error={reasonError ?? serverField('reason')} />
        </div>
        <div className={`remainder ${tooMuch ? 'remainder-bad' : ''}`} aria-live="polite" data-testid="split-remainder">
          <span>
            {t('split.total')}: <span className="quantity">{formatQuantity(total, scale)}&nbsp;{unit}</span>
          </span>
          <span>
            {t('split.remainder', { identifier: sample.identifier })}: <strong className="quantity">{formatQuantity(remainder, scale)}&nbsp;{unit}</strong>
          </span>
          {totalError && <span className="field-error" role="alert">{totalError}</span>}
        </div>
        <div className="dialog-actions">
          <button type="button" className="button button-quiet" onClick={onClose}>
            {t('split.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy || (touched && !valid)}>
            {busy ? t('split.submitting') : t('split.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
