import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api, ApiError, type Answer, type FieldError } from '../api/client';
import { useAuth } from '../auth';
import { Dialog } from '../components/dialog';
import { Field, SelectField } from '../components/field';
import { focusField, focusFirst, ServerError, useChecks } from '../components/form-checks';
import { Empty, ErrorState, Loading, Pager } from '../components/states';
import { useToast } from '../components/toast';
import { Badge, PageHeader } from '../components/ui';
import { useLoad, usePages } from '../components/use-load';
import type { Problems } from '../lib/application-rules';
import {
  allRoles,
  editBody,
  editProblems,
  emptyUser,
  inRoleOrder,
  institutionBody,
  institutionProblems,
  limits,
  newUserBody,
  newUserProblems,
  passwordResetProblems,
  refusalKey,
  type InstitutionDraft,
  type NewUserDraft,
  type PasswordDraft,
  type UserEditDraft,
  type UserRole,
} from '../lib/user-rules';

type User = Answer<'/api/v1/users/{id}', 'get'>;
type Institution = Answer<'/api/v1/institutions', 'get'>['items'][number];
type Open = { kind: 'add' } | { kind: 'institution' } | { kind: 'edit'; user: User } | { kind: 'password'; user: User } | { kind: 'toggle'; user: User };

const PAGE = 50;
/** How long the search waits after the last key before it asks the server. */
const DEBOUNCE_MS = 300;

const asApiError = (caught: unknown): ApiError => (caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));

/** The page's words for a refusal it knows (in the admin's language), else the server's. */
function useRefusal() {
  const { t } = useTranslation();
  return {
    field: (error: ApiError | null) => (found: FieldError) => {
      const key = error ? refusalKey(error.type, found) : undefined;
      return key ? t(`${key}Field`) : found.message;
    },
    summary: (error: ApiError | null): string | undefined => {
      if (!error) return undefined;
      const key = error.errors.map((found) => refusalKey(error.type, found)).find(Boolean);
      return key ? t(key) : undefined;
    },
  };
}

/** The admin's user accounts: find, add, edit, set a new password, disable and enable; and register an institution. */
export default function UsersPage() {
  const { t } = useTranslation();
  const { user: me, refresh } = useAuth();
  const [params, setParams] = useSearchParams();
  const q = (params.get('q') ?? '').trim();
  const [text, setText] = useState(q);
  // The search this page last put in the address: another (back, a link) replaces what is typed.
  const pushed = useRef(q);
  const [open, setOpen] = useState<Open | null>(null);
  // Users added or changed here, shown at once without reading every page again.
  const [added, setAdded] = useState<User[]>([]);
  const [changed, setChanged] = useState<Record<string, User>>({});
  const [institutions] = useLoad((signal) => api.get('/api/v1/institutions', { signal }), []);
  // Institutions registered here, offered at once without asking the server for the list again.
  const [registered, setRegistered] = useState<Institution[]>([]);
  const { rows, cursor, status, error, more, reload } = usePages((after) => api.get('/api/v1/users', { query: { limit: PAGE, q: q || undefined, cursor: after } }), [q]);

  function search(value: string) {
    const typed = value.trim();
    if (typed === pushed.current) return;
    pushed.current = typed;
    setParams(typed ? { q: typed } : {}, { replace: true });
  }

  useEffect(() => {
    if (q === pushed.current) return;
    pushed.current = q;
    setText(q);
  }, [q]);
  useEffect(() => {
    const timer = setTimeout(() => search(text), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  useEffect(() => {
    setAdded([]);
    setChanged({});
  }, [q]);

  function submit(event: FormEvent) {
    event.preventDefault();
    search(text);
  }

  function saved(user: User) {
    setChanged((all) => ({ ...all, [user.id]: user }));
    if (user.id === me?.id) void refresh();
  }

  const loadedIds = new Set(institutions.status === 'ok' ? institutions.data.items.map((institution) => institution.id) : []);
  const institutionList = [...(institutions.status === 'ok' ? institutions.data.items : []), ...registered.filter((institution) => !loadedIds.has(institution.id))].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  const institutionOf = new Map(institutionList.map((institution) => [institution.id, institution]));
  const addedIds = new Set(added.map((user) => user.id));
  const users = [...added, ...rows.filter((user) => !addedIds.has(user.id))].map((user) => changed[user.id] ?? user);
  const addButton = (label: string) => (
    <button type="button" className="button button-primary" onClick={() => setOpen({ kind: 'add' })}>
      {label}
    </button>
  );
  const headerActions = (
    <>
      <button type="button" className="button" onClick={() => setOpen({ kind: 'institution' })}>
        {t('users.addInstitution')}
      </button>
      {addButton(t('users.add'))}
    </>
  );

  return (
    <>
      <PageHeader title={t('users.title')} lead={t('users.lead')} actions={headerActions} />
      <form className="card user-search" onSubmit={submit} role="search" aria-label={t('users.search')}>
        <div className="user-search-row">
          <Field label={t('users.find')} type="search" name="q" maxLength={limits.email} autoComplete="off" spellCheck={false} value={text} aria-describedby="user-search-hint" onChange={(event) => setText(event.target.value)} />
          {text && (
            <button type="button" className="button button-quiet" onClick={() => setText('')}>
              {t('users.clear')}
            </button>
          )}
        </div>
        <small id="user-search-hint" className="hint">
          {t('users.findHint')}
        </small>
      </form>

      {status === 'loading' && <Loading />}
      {status === 'error' && <ErrorState error={error} onRetry={reload} />}
      {(status === 'ok' || status === 'more') && users.length === 0 && <Empty action={q ? undefined : addButton(t('users.add'))}>{q ? t('users.empty', { q }) : t('users.emptyAll')}</Empty>}
      {users.length > 0 && status !== 'loading' && (
        <>
          <div className="table-wrap users-wrap">
            <table className="table users-table">
              <caption className="visually-hidden">{t('users.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('users.name')}</th>
                  <th scope="col">{t('users.email')}</th>
                  <th scope="col">{t('users.institution')}</th>
                  <th scope="col">{t('users.roles')}</th>
                  <th scope="col">{t('users.status')}</th>
                  <th scope="col">{t('users.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {users.map((user) => {
                  const institution = user.institutionId ? institutionOf.get(user.institutionId) : undefined;
                  const self = user.id === me?.id;
                  return (
                    <tr key={user.id} className={user.disabled ? 'row-disabled' : undefined}>
                      <th scope="row">
                        {user.name}
                        {self && (
                          <>
                            {' '}
                            <Badge tone="blue">{t('users.you')}</Badge>
                          </>
                        )}
                      </th>
                      <td className="email-cell">
                        <EmailAddress email={user.email} />
                      </td>
                      <td>
                        {institution ? (
                          <>
                            {institution.name} <span className="muted small">{institution.code}</span>
                          </>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>
                        {user.roles.length === 0 ? (
                          <span className="muted">{t('users.noRoles')}</span>
                        ) : (
                          inRoleOrder(user.roles).map((role) => (
                            <Badge key={role} tone={role === 'admin' ? 'violet' : 'gray'}>
                              {t(`roles.${role}`)}
                            </Badge>
                          ))
                        )}
                      </td>
                      <td>{user.disabled ? <Badge tone="red">{t('users.disabled')}</Badge> : <Badge tone="green">{t('users.enabled')}</Badge>}</td>
                      <td>
                        <div className="row-actions">
                          <button type="button" className="button button-small" onClick={() => setOpen({ kind: 'edit', user })}>
                            {t('users.edit')}
                            <span className="visually-hidden"> {user.name}</span>
                          </button>
                          {self ? (
                            <span className="muted small self-note">
                              <Link to="/account">{t('users.ownPassword')}</Link>
                              <span>{t('users.selfNote')}</span>
                            </span>
                          ) : (
                            <>
                              <button type="button" className="button button-small" onClick={() => setOpen({ kind: 'password', user })}>
                                {t('users.newPassword')}
                                <span className="visually-hidden"> {user.name}</span>
                              </button>
                              <button type="button" className={user.disabled ? 'button button-small' : 'button button-small button-danger'} onClick={() => setOpen({ kind: 'toggle', user })}>
                                {user.disabled ? t('users.enable') : t('users.disable')}
                                <span className="visually-hidden"> {user.name}</span>
                              </button>
                            </>
                          )}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager
            shown={t('users.shown', { count: users.length })}
            hasMore={!!cursor}
            loading={status === 'more'}
            onMore={more}
            labels={{ more: t('users.more'), loading: t('users.loadingMore'), end: t('users.end') }}
          />
        </>
      )}

      {open?.kind === 'add' && (
        <AddUserDialog
          institutions={institutionList}
          onClose={() => setOpen(null)}
          onAdded={(user) => {
            setAdded((all) => [user, ...all]);
            setOpen(null);
          }}
        />
      )}
      {open?.kind === 'institution' && (
        <AddInstitutionDialog
          onClose={() => setOpen(null)}
          onAdded={(institution) => {
            setRegistered((all) => [...all, institution]);
            setOpen(null);
          }}
        />
      )}
      {open?.kind === 'password' && <PasswordDialog user={open.user} onClose={() => setOpen(null)} onDone={() => setOpen(null)} />}
      {open?.kind === 'edit' && (
        <EditUserDialog
          user={open.user}
          self={open.user.id === me?.id}
          institutions={institutionList}
          onClose={() => setOpen(null)}
          onSaved={(user) => {
            saved(user);
            setOpen(null);
          }}
        />
      )}
      {open?.kind === 'toggle' && (
        <ToggleDialog
          user={open.user}
          onClose={() => setOpen(null)}
          onDone={(user) => {
            saved(user);
            setOpen(null);
          }}
        />
      )}
    </>
  );
}

/** An e-mail address that wraps before its @ rather than inside a word. */
function EmailAddress({ email }: { email: string }) {
  const at = email.lastIndexOf('@');
  if (at <= 0) return <>{email}</>;
  return (
    <>
      {email.slice(0, at)}
      <wbr />
      {email.slice(at)}
    </>
  );
}

function InstitutionSelect({ institutions, value, onChange, error }: { institutions: Institution[]; value: string; onChange(value: string): void; error?: string | undefined }) {
  const { t } = useTranslation();
  return (
    <SelectField label={t('users.institution')} value={value} onChange={onChange} error={error}>
      <option value="">{t('users.choose')}</option>
      {institutions.map((institution) => (
        <option key={institution.id} value={institution.id}>
          {institution.code} · {institution.name}
        </option>
      ))}
    </SelectField>
  );
}

/** The six roles as checkboxes, each with what it lets a user do. */
function RoleChecks({ value, onChange, error, note }: { value: UserRole[]; onChange(roles: UserRole[]): void; error?: string | undefined; note?: string | undefined }) {
  const { t } = useTranslation();
  const id = useId();
  const described = [`${id}-hint`, note ? `${id}-note` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <fieldset data-field="roles" aria-describedby={described} aria-invalid={error ? true : undefined}>
      <legend>{t('users.rolesLegend')}</legend>
      <small id={`${id}-hint`} className="hint">
        {t('users.rolesHint')}
      </small>
      <div className="role-list">
        {allRoles.map((role) => (
          <div className="role-option" key={role}>
            <input
              id={`${id}-${role}`}
              type="checkbox"
              checked={value.includes(role)}
              aria-describedby={`${id}-${role}-help`}
              onChange={(event) => onChange(event.target.checked ? inRoleOrder([...value, role]) : value.filter((r) => r !== role))}
            />
            <label htmlFor={`${id}-${role}`}>{t(`roles.${role}`)}</label>
            <small id={`${id}-${role}-help`}>{t(`users.roleHelp.${role}`)}</small>
          </div>
        ))}
      </div>
      {note && (
        <p id={`${id}-note`} className="notice-inline small">
          {note}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/**
 * A dialog's form: the draft, its checks as typed, the server's refusal put
 * on the fields, and a submission that sends only a draft without problems
 * (focusing the first field at fault otherwise). `send` does the request and
 * what follows; while it runs the dialog is busy, and a refusal reopens it.
 */
function useDialogForm<D extends object>(initial: D | (() => D), problemsOf: (draft: D) => Problems, send: (draft: D) => Promise<void>) {
  const refusal = useRefusal();
  const form = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState<D>(initial);
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const problems = problemsOf(draft);
  const { errorFor, touch, edit, attempt } = useChecks(problems, serverError, refusal.field(serverError));

  async function submit() {
    attempt();
    setServerError(null);
    if (Object.keys(problems).length > 0) {
      focusFirst(form.current, problems);
      return;
    }
    setBusy(true);
    try {
      await send(draft);
    } catch (caught) {
      const error = asApiError(caught);
      setServerError(error);
      setBusy(false);
      // The first field the server named.
      focusField(form.current, error.errors[0]?.field);
    }
  }

  return {
    form,
    draft,
    busy,
    errorFor,
    touch,
    /** One field's new value; the server's refusal of that field no longer applies. */
    set<K extends keyof D & string>(field: K, value: D[K]) {
      setDraft((current) => ({ ...current, [field]: value }));
      edit(field);
    },
    refusal: <ServerError error={serverError} message={refusal.summary(serverError)} />,
    onSubmit(event: FormEvent) {
      event.preventDefault();
      void submit();
    },
  };
}

/** Cancel, and the submit button that reads `busyLabel` while the request runs. */
function DialogActions({ busy, label, busyLabel, onClose }: { busy: boolean; label: string; busyLabel: string; onClose(): void }) {
  const { t } = useTranslation();
  return (
    <div className="dialog-actions">
      <button type="button" className="button" onClick={onClose}>
        {t('common.cancel')}
      </button>
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </div>
  );
}

function AddUserDialog({ institutions, onClose, onAdded }: { institutions: Institution[]; onClose(): void; onAdded(user: User): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const { form, draft, busy, errorFor, touch, set, refusal, onSubmit } = useDialogForm<NewUserDraft>(emptyUser, newUserProblems, async (sent) => {
    const user = await api.post('/api/v1/users', { body: newUserBody(sent) });
    toast(t('users.added', { name: user.name }));
    onAdded(user);
  });

  return (
    <Dialog title={t('users.addTitle')} onClose={onClose} wide>
      <form ref={form} className="dialog-body user-dialog" onSubmit={onSubmit} noValidate>
        <p className="muted">{t('users.addLead')}</p>
        {refusal}
        <div className="form-grid">
          <div data-field="email">
            <Field
              label={t('users.email')}
              type="email"
              required
              maxLength={limits.email}
              autoComplete="off"
              spellCheck={false}
              value={draft.email}
              placeholder="name@example.org"
              onChange={(event) => set('email', event.target.value)}
              onBlur={() => touch('email')}
              error={errorFor('email')}
            />
          </div>
          <div data-field="name">
            <Field label={t('users.name')} required maxLength={limits.name} autoComplete="off" value={draft.name} onChange={(event) => set('name', event.target.value)} onBlur={() => touch('name')} error={errorFor('name')} />
          </div>
          <div data-field="institutionId">
            <InstitutionSelect institutions={institutions} value={draft.institutionId} onChange={(value) => set('institutionId', value)} error={errorFor('institutionId')} />
          </div>
          <div data-field="password">
            <Field
              label={t('users.password')}
              type="password"
              required
              maxLength={limits.passwordMax}
              autoComplete="new-password"
              value={draft.password}
              hint={t('users.passwordHint', { min: limits.passwordMin })}
              onChange={(event) => set('password', event.target.value)}
              onBlur={() => touch('password')}
              error={errorFor('password')}
            />
          </div>
        </div>
        <RoleChecks value={draft.roles} onChange={(roles) => set('roles', roles)} error={errorFor('roles')} />
        <DialogActions busy={busy} label={t('users.addSubmit')} busyLabel={t('users.adding')} onClose={onClose} />
      </form>
    </Dialog>
  );
}

function EditUserDialog({ user, self, institutions, onClose, onSaved }: { user: User; self: boolean; institutions: Institution[]; onClose(): void; onSaved(user: User): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const initial = (): UserEditDraft => ({ name: user.name, institutionId: user.institutionId ?? '', roles: inRoleOrder(user.roles) });
  const { form, draft, busy, errorFor, touch, set, refusal, onSubmit } = useDialogForm(initial, editProblems, async (sent) => {
    const body = editBody(user, sent);
    if (Object.keys(body).length === 0) {
      toast(t('users.unchanged'), 'info');
      onClose();
      return;
    }
    const updated = await api.patch('/api/v1/users/{id}', { path: { id: user.id }, body });
    toast(t('users.saved', { name: updated.name }));
    onSaved(updated);
  });
  const losesAdmin = self && user.roles.includes('admin') && !draft.roles.includes('admin');

  return (
    <Dialog title={t('users.editTitle', { name: user.name })} onClose={onClose} wide>
      <form ref={form} className="dialog-body user-dialog" onSubmit={onSubmit} noValidate>
        <p className="muted">{t('users.editLead', { email: user.email })}</p>
        {refusal}
        <div className="form-grid">
          <div data-field="name">
            <Field label={t('users.name')} required maxLength={limits.name} autoComplete="off" value={draft.name} onChange={(event) => set('name', event.target.value)} onBlur={() => touch('name')} error={errorFor('name')} />
          </div>
          <div data-field="institutionId">
            <InstitutionSelect institutions={institutions} value={draft.institutionId} onChange={(value) => set('institutionId', value)} error={errorFor('institutionId')} />
          </div>
        </div>
        <RoleChecks value={draft.roles} onChange={(roles) => set('roles', roles)} error={errorFor('roles')} note={losesAdmin ? t('users.selfAdminNote') : undefined} />
        <DialogActions busy={busy} label={t('common.save')} busyLabel={t('users.saving')} onClose={onClose} />
      </form>
    </Dialog>
  );
}

/** Register an institution: code, name and the body it belongs to (optional). */
function AddInstitutionDialog({ onClose, onAdded }: { onClose(): void; onAdded(institution: Institution): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const { form, draft, busy, errorFor, touch, set, refusal, onSubmit } = useDialogForm<InstitutionDraft>({ code: '', name: '', parentBody: '' }, institutionProblems, async (sent) => {
    const institution = await api.post('/api/v1/institutions', { body: institutionBody(sent) });
    toast(t('users.institutionForm.added', { code: institution.code, name: institution.name }));
    onAdded(institution);
  });

  return (
    <Dialog title={t('users.institutionForm.title')} onClose={onClose}>
      <form ref={form} className="dialog-body user-dialog" onSubmit={onSubmit} noValidate>
        <p className="muted">{t('users.institutionForm.lead')}</p>
        {refusal}
        <div data-field="code">
          <Field
            label={t('users.institutionForm.code')}
            required
            maxLength={limits.code}
            autoComplete="off"
            spellCheck={false}
            value={draft.code}
            hint={t('users.institutionForm.codeHint')}
            onChange={(event) => set('code', event.target.value)}
            onBlur={() => touch('code')}
            error={errorFor('code')}
          />
        </div>
        <div data-field="name">
          <Field label={t('users.institutionForm.name')} required maxLength={limits.name} autoComplete="off" value={draft.name} onChange={(event) => set('name', event.target.value)} onBlur={() => touch('name')} error={errorFor('name')} />
        </div>
        <div data-field="parentBody">
          <Field
            label={t('users.institutionForm.parentBody')}
            maxLength={limits.parentBody}
            autoComplete="off"
            value={draft.parentBody}
            hint={t('users.institutionForm.parentBodyHint')}
            onChange={(event) => set('parentBody', event.target.value)}
            onBlur={() => touch('parentBody')}
            error={errorFor('parentBody')}
          />
        </div>
        <DialogActions busy={busy} label={t('users.institutionForm.submit')} busyLabel={t('users.institutionForm.adding')} onClose={onClose} />
      </form>
    </Dialog>
  );
}

/**
 * A new password for a user who lost theirs, typed twice, after saying what
 * it does: signed out everywhere, API tokens revoked; and that it must reach
 * them safely. Never offered for the admin's own account (the server refuses it).
 */
function PasswordDialog({ user, onClose, onDone }: { user: User; onClose(): void; onDone(): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const { form, draft, busy, errorFor, touch, set, refusal, onSubmit } = useDialogForm<PasswordDraft>({ password: '', again: '' }, passwordResetProblems, async (sent) => {
    await api.post('/api/v1/users/{id}/password', { path: { id: user.id }, body: { password: sent.password } });
    toast(t('users.passwordForm.done', { name: user.name }));
    onDone();
  });
  const who = { name: user.name, email: user.email };

  return (
    <Dialog title={t('users.passwordForm.title', who)} onClose={onClose}>
      <form ref={form} className="dialog-body user-dialog" onSubmit={onSubmit} noValidate>
        <p>{t('users.passwordForm.lead', who)}</p>
        <ul>
          <li>{t('users.passwordForm.signOut')}</li>
          <li>{t('users.passwordForm.tokens')}</li>
          <li>{t('users.passwordForm.forgiven')}</li>
        </ul>
        <p className="notice-inline small">{t('users.passwordForm.handOver')}</p>
        {refusal}
        <div data-field="password">
          <Field
            label={t('users.passwordForm.password')}
            type="password"
            required
            maxLength={limits.passwordMax}
            autoComplete="new-password"
            value={draft.password}
            hint={t('users.passwordForm.passwordHint', { min: limits.passwordMin })}
            onChange={(event) => set('password', event.target.value)}
            onBlur={() => touch('password')}
            error={errorFor('password')}
          />
        </div>
        <div data-field="again">
          <Field
            label={t('users.passwordForm.again')}
            type="password"
            required
            maxLength={limits.passwordMax}
            autoComplete="new-password"
            value={draft.again}
            onChange={(event) => set('again', event.target.value)}
            onBlur={() => touch('again')}
            error={errorFor('again')}
          />
        </div>
        <DialogActions busy={busy} label={t('users.passwordForm.submit')} busyLabel={t('users.passwordForm.setting')} onClose={onClose} />
      </form>
    </Dialog>
  );
}

/** Disable (every session and API token revoked) or enable an account, after saying what happens. */
function ToggleDialog({ user, onClose, onDone }: { user: User; onClose(): void; onDone(user: User): void }) {
  const { t } = useTranslation();
  const toast = useToast();
  const refusal = useRefusal();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const disabling = !user.disabled;
  const who = { name: user.name, email: user.email };

  async function confirm(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const updated = await api.patch('/api/v1/users/{id}', { path: { id: user.id }, body: { disabled: disabling } });
      toast(t(disabling ? 'users.disabledDone' : 'users.enabledDone', { name: updated.name }));
      onDone(updated);
    } catch (caught) {
      setError(asApiError(caught));
      setBusy(false);
    }
  }

  const refused = error && (error.status === 0 ? t('state.network') : (refusal.summary(error) ?? (error.detail || error.title)));
  return (
    <Dialog title={t(disabling ? 'users.disableTitle' : 'users.enableTitle', who)} onClose={onClose}>
      <form className="dialog-body user-dialog" onSubmit={(event) => void confirm(event)}>
        {disabling ? (
          <>
            <p>{t('users.disableLead', who)}</p>
            <ul>
              <li>{t('users.disableSignOut')}</li>
              <li>{t('users.disableTokens')}</li>
              <li>{t('users.disableNoSignIn')}</li>
            </ul>
            <p className="muted">{t('users.disableKeeps')}</p>
          </>
        ) : (
          <p>{t('users.enableLead', who)}</p>
        )}
        {refused && (
          <div className="form-error" role="alert">
            {refused}
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className={disabling ? 'button button-danger' : 'button button-primary'} disabled={busy}>
            {disabling ? (busy ? t('users.disabling') : t('users.disableConfirm')) : busy ? t('users.enabling') : t('users.enableConfirm')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
