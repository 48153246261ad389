import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api/client';
import { useAuth } from '../auth';
import { Dialog } from './dialog';
import { useToast } from './toast';

/**
 * On every page while demo accounts exist (their password is published):
 * says so, and lets an admin remove them. Read again after each sign-in or
 * sign-out, so it goes as soon as the accounts do.
 */
export function DemoBanner() {
  const { t } = useTranslation();
  const { user, refresh } = useAuth();
  const toast = useToast();
  const [accounts, setAccounts] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);

  const load = useCallback(() => {
    api
      .get('/api/v1/demo')
      .then((state) => setAccounts(state.accounts))
      .catch(() => setAccounts(0));
  }, []);
  useEffect(load, [load, user?.id]);

  if (accounts === 0) return null;
  const isAdmin = user?.roles.includes('admin') ?? false;

  const remove = async (): Promise<void> => {
    setBusy(true);
    setRefusal(null);
    try {
      const result = await api.delete('/api/v1/demo/accounts');
      setConfirming(false);
      toast(t('demo.removed', { count: result.removed.length }));
      load();
      // An admin who was a demo account is signed out with the rest.
      await refresh();
    } catch (error) {
      setRefusal(error instanceof ApiError && error.status === 409 ? t('demo.noAdminLeft') : t('demo.failed'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="demo-banner" role="region" aria-label={t('demo.label')}>
      <p>
        <strong>{t('demo.title')}</strong> {t('demo.body', { count: accounts })}
      </p>
      {isAdmin && (
        <button type="button" className="button button-small" onClick={() => setConfirming(true)}>
          {t('demo.remove')}
        </button>
      )}
      {confirming && (
        <Dialog title={t('demo.confirmTitle')} onClose={() => setConfirming(false)}>
          <div className="dialog-body">
            <p>{t('demo.confirmBody', { count: accounts })}</p>
            {refusal && (
              <p className="notice-inline" role="alert">
                {refusal}
              </p>
            )}
          </div>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={() => setConfirming(false)}>
              {t('common.cancel')}
            </button>
            <button type="button" className="button button-danger" disabled={busy} onClick={() => void remove()}>
              {t('demo.confirm')}
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
