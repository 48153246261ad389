import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { SampleState, Unit } from '../api/contract';
import { toneOf } from '../lib/workflow';

/** A quantity exactly as the API sent it, with the unit in the current language: "17.4764 克". */
export function Quantity({ value, unit }: { value: string; unit: Unit | string }) {
  const { t } = useTranslation();
  return (
    <span className="quantity">
      {value}
      {'\u00a0'}
      {t(`units.${unit}`, { defaultValue: unit })}
    </span>
  );
}

const stateTone: Record<string, string> = {
  available: 'green',
  reserved: 'amber',
  on_loan: 'blue',
  in_transit: 'blue',
  returned: 'gray',
  consumed: 'gray',
  destroyed: 'red',
  quarantined: 'red',
};

export function StateBadge({ state }: { state: SampleState | string }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${stateTone[state] ?? 'gray'}`}>{t(`sampleState.${state}`, { defaultValue: state })}</span>;
}

export function Badge({ tone = 'gray', children }: { tone?: string; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function PageHeader({ title, lead, actions }: { title: string; lead?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {lead && <p className="lead">{lead}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

export function DateTime({ value }: { value: string | null | undefined }) {
  const { i18n } = useTranslation();
  if (!value) return <span>—</span>;
  const date = new Date(value);
  return <time dateTime={value}>{date.toLocaleString(i18n.language, { dateStyle: 'medium', timeStyle: 'short' })}</time>;
}

/** A call, application or review state in the current language, coloured by where it stands. */
/** A state in the reader's language; `of` names the entity where a state's word differs (a loan is "open" otherwise than a call). */
export function StatusBadge({ state, of }: { state: string; of?: 'loan' }) {
  const { t } = useTranslation();
  const general = t(`status.${state}`, { defaultValue: state.replace(/_/g, ' ') });
  return <span className={`badge badge-${toneOf(state)}`}>{of ? t(`statusOf.${of}.${state}`, { defaultValue: general }) : general}</span>;
}

/** A bar that says how far a long action has got (upload, import, execution). */
export function Progress({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className="progress">
      <progress max={100} value={percent} aria-label={label} />
      <span aria-hidden="true">{percent}%</span>
    </div>
  );
}

/** A choice between a few views, shown as a pressed-button group (keyboard: Tab and Enter/Space). */
export function Segmented({ label, value, options, onChange }: { label: string; value: string; options: Array<[string, string]>; onChange(value: string): void }) {
  return (
    <div className="segmented" role="group" aria-label={label}>
      {options.map(([key, text]) => (
        <button key={key} type="button" aria-pressed={value === key} className={value === key ? 'active' : ''} onClick={() => onChange(key)}>
          {text}
        </button>
      ))}
    </div>
  );
}
