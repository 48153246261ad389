import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError } from '../api/client';
import { useAuth } from '../auth';
import { Field } from '../components/field';

export function SignInPage() {
  const { t } = useTranslation();
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
      // On /sign-in go where the user was headed; on a guarded page, stay (it now renders).
      if (location.pathname === '/sign-in') {
        const next = params.get('next');
        navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
      }
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="sign-in card">
      <h1>{t('auth.signInTitle')}</h1>
      <p className="lead">{t('auth.signInLead')}</p>
      <form onSubmit={submit} noValidate>
        {error && (
          <div className="form-error" role="alert">
            <strong>{t('auth.failed')}</strong> {error.status === 0 ? t('state.network') : error.detail}
          </div>
        )}
        <Field label={t('auth.email')} type="email" name="email" autoComplete="username" required value={email} onChange={(event) => setEmail(event.target.value)} error={error?.field('email')} />
        <Field
          label={t('auth.password')}
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={error?.field('password')}
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? t('auth.signingIn') : t('auth.signIn')}
        </button>
      </form>
    </section>
  );
}
