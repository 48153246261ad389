import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router-dom';
import { api, ApiError } from '../api/client';
import { useAuth } from '../auth';
import { Field } from '../components/field';
import { ErrorState, Loading } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, DateTime, PageHeader } from '../components/ui';
import { useLoad } from '../components/use-load';

export default function AccountPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const location = useLocation();
  useEffect(() => {
    if (location.hash === '#tokens') document.getElementById('tokens')?.scrollIntoView();
  }, [location.hash]);
  if (!user) return null;
  return (
    <>
      <PageHeader title={t('account.title')} lead={`${user.name} · ${user.email}`} />
      <p>
        {t('account.roles')}:{' '}
        {user.roles.map((role) => (
          <Badge key={role} tone="blue">
            {t(`roles.${role}`)}
          </Badge>
        ))}
      </p>
      <div className="layout-2">
        <PasswordForm />
        <Tokens />
      </div>
    </>
  );
}

function PasswordForm() {
  const { t } = useTranslation();
  const toast = useToast();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/me/password', { body: { currentPassword: current, newPassword: next } });
      setCurrent('');
      setNext('');
      toast(t('account.changed'));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">{t('account.password')}</h2>
      <form onSubmit={submit} noValidate>
        {error && !error.errors.length && (
          <div className="form-error" role="alert">
            {error.status === 0 ? t('state.network') : error.detail}
          </div>
        )}
        <Field label={t('account.current')} type="password" autoComplete="current-password" value={current} onChange={(event) => setCurrent(event.target.value)} error={error?.field('currentPassword')} />
        <Field label={t('account.next')} type="password" autoComplete="new-password" hint={t('account.nextHint')} value={next} onChange={(event) => setNext(event.target.value)} error={error?.field('newPassword')} />
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('account.change')}
        </button>
      </form>
    </section>
  );
}

function Tokens() {
  const { t } = useTranslation();
  const toast = useToast();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/auth/tokens', { signal }), []);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<{ name: string; token: string; expiresAt: string } | null>(null);
  const [copied, setCopied] = useState(false);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setCopied(false);
    try {
      const token = await api.post('/api/v1/auth/tokens', { body: { name, ...(days.trim() ? { expiresInDays: Number(days) } : {}) } });
      setCreated({ name: token.name, token: token.token, expiresAt: token.expiresAt });
      setName('');
      setDays('');
      toast(t('account.created'));
      reload();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    }
  }

  async function revoke(id: string, tokenName: string) {
    if (!window.confirm(t('account.revokeConfirm', { name: tokenName }))) return;
    try {
      await api.delete('/api/v1/auth/tokens/{id}', { path: { id } });
      toast(t('account.revoked'));
      reload();
    } catch (caught) {
      toast(caught instanceof ApiError ? caught.detail : t('state.network'), 'error');
    }
  }

  return (
    <section className="card" id="tokens" aria-labelledby="tokens-title">
      <h2 id="tokens-title">{t('account.tokens')}</h2>
      <p className="muted">{t('account.tokensLead')}</p>
      <form className="inline-form" onSubmit={create} noValidate>
        <Field label={t('account.tokenName')} value={name} onChange={(event) => setName(event.target.value)} error={error?.field('name') ?? (error && !error.errors.length ? error.detail : undefined)} />
        <Field label={t('account.expires')} inputMode="numeric" value={days} onChange={(event) => setDays(event.target.value)} error={error?.field('expiresInDays')} />
        <button type="submit" className="button button-primary">
          {t('account.create')}
        </button>
      </form>
      {created && (
        <div className="secret" role="status">
          <p>
            <strong>{created.name}</strong>: {t('account.shownOnce')}
          </p>
          {/* Left empty, the days field gives the server's default: say when that is. */}
          <p>
            {t('account.expiresAt')}: <DateTime value={created.expiresAt} />
          </p>
          <div className="secret-row">
            <code data-testid="new-token">{created.token}</code>
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                void navigator.clipboard?.writeText(created.token).then(() => setCopied(true));
              }}
            >
              {copied ? t('account.copied') : t('account.copy')}
            </button>
          </div>
        </div>
      )}
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={reload} />}
      {state.status === 'ok' && state.data.items.length === 0 && <p className="muted">{t('account.none')}</p>}
      {state.status === 'ok' && state.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table table-compact">
            <thead>
              <tr>
                <th scope="col">{t('account.name')}</th>
                <th scope="col">{t('account.createdAt')}</th>
                <th scope="col">{t('account.expiresAt')}</th>
                <th scope="col">{t('account.lastUsed')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('account.revoke')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {state.data.items.map((token) => (
                <tr key={token.id}>
                  <th scope="row">{token.name}</th>
                  <td>
                    <DateTime value={token.createdAt} />
                  </td>
                  <td>{token.expiresAt ? <DateTime value={token.expiresAt} /> : t('account.never')}</td>
                  <td>{token.lastUsedAt ? <DateTime value={token.lastUsedAt} /> : t('account.never')}</td>
                  <td>
                    <button type="button" className="button button-small button-danger" onClick={() => void revoke(token.id, token.name)} aria-label={`${t('account.revoke')}: ${token.name}`}>
                      {t('account.revoke')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
