import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useAuth, type Role } from '../auth';

export function NotAllowedPage({ allowed }: { allowed: Role[] }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const roleList = (roles: readonly string[]) => (roles.length ? roles.map((role) => t(`roles.${role}`)).join(' / ') : t('roles.none'));
  return (
    <section className="card notice" aria-labelledby="not-allowed-title">
      <h1 id="not-allowed-title">{t('notAllowed.title')}</h1>
      <p>{t('notAllowed.body', { roles: roleList(allowed), name: user?.name ?? '', mine: roleList(user?.roles ?? []) })}</p>
      <Link className="button" to="/">
        {t('notAllowed.home')}
      </Link>
    </section>
  );
}

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <section className="card notice">
      <h1>{t('notFound.title')}</h1>
      <p>{t('notFound.body')}</p>
      <Link className="button" to="/">
        {t('notFound.home')}
      </Link>
    </section>
  );
}
