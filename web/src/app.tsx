import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { areas, mayEnter, useAuth, type Area } from './auth';
import { Loading } from './components/states';
import { setLanguage, type Language } from './i18n';
import { CatalogPage } from './pages/catalog';
import { NotAllowedPage, NotFoundPage } from './pages/not-allowed';
import { SignInPage } from './pages/sign-in';

// Pages past the first load their code when opened, so the catalog starts small.
const StatisticsPage = lazy(() => import('./pages/statistics'));
const SamplesPage = lazy(() => import('./pages/samples'));
const SamplePage = lazy(() => import('./pages/sample'));
const StoragePage = lazy(() => import('./pages/storage'));
const ImportPage = lazy(() => import('./pages/import'));
const AccountPage = lazy(() => import('./pages/account'));
const CallsPage = lazy(() => import('./pages/calls'));
const MyApplications = lazy(() => import('./pages/application').then((m) => ({ default: m.MyApplications })));
const ApplicationPage = lazy(() => import('./pages/application'));
const ApplicationFormPage = lazy(() => import('./pages/application-form'));
const ReviewsPage = lazy(() => import('./pages/reviews'));
const ReviewWorkspace = lazy(() => import('./pages/reviews').then((m) => ({ default: m.ReviewWorkspace })));
const CommitteePage = lazy(() => import('./pages/committee'));
const AllocationPage = lazy(() => import('./pages/allocation'));
const ShipmentsPage = lazy(() => import('./pages/shipments'));
const ShipmentPage = lazy(() => import('./pages/shipments').then((m) => ({ default: m.ShipmentPage })));
const LoansPage = lazy(() => import('./pages/loans'));
const ReturnsPage = lazy(() => import('./pages/returns'));
const IncidentsPage = lazy(() => import('./pages/returns').then((m) => ({ default: m.IncidentsPage })));
const CommitteeCall = lazy(() => import('./pages/committee').then((m) => ({ default: m.CommitteeCall })));
const AuditPage = lazy(() => import('./pages/audit'));

interface NavItem {
  to: string;
  label: string;
  area?: Area;
  signedIn?: boolean;
}

function Header() {
  const { t, i18n } = useTranslation();
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  const items: NavItem[] = [
    { to: '/', label: t('nav.catalog') },
    { to: '/statistics', label: t('nav.statistics') },
    { to: '/calls', label: t('nav.calls'), signedIn: true },
    { to: '/samples', label: t('nav.samples'), area: 'console' },
    { to: '/storage', label: t('nav.storage'), area: 'console' },
    { to: '/import', label: t('nav.import'), area: 'console' },
    { to: '/shipments', label: t('nav.shipments'), area: 'console' },
    { to: '/loans', label: t('nav.loans'), area: 'console' },
    { to: '/returns', label: t('nav.returns'), area: 'console' },
    { to: '/incidents', label: t('nav.incidents'), area: 'console' },
    { to: '/applications', label: t('nav.applications'), area: 'applications' },
    { to: '/reviews', label: t('nav.reviews'), area: 'reviews' },
    { to: '/committee', label: t('nav.committee'), area: 'committee' },
    { to: '/audit', label: t('nav.audit'), area: 'audit' },
  ];
  const visible = items.filter((item) => (item.area ? mayEnter(user, item.area) : !item.signedIn || !!user));
  const language = i18n.language as Language;
  return (
    <header className="app-header">
      <div className="header-inner">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">样本库</span>
          <span className="brand-latin">SampleBank</span>
        </Link>
        <nav aria-label={t('nav.label')} className="main-nav">
          <ul>
            {visible.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === '/'}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="header-tools">
          <div className="lang-switch" role="group" aria-label={t('lang.label')}>
            {(['zh-CN', 'en'] as const).map((code) => (
              <button
                key={code}
                type="button"
                lang={code}
                aria-pressed={language === code}
                className={language === code ? 'active' : ''}
                onClick={() => setLanguage(code)}
              >
                {code === 'zh-CN' ? '中文' : 'English'}
              </button>
            ))}
          </div>
          {user ? (
            <UserMenu name={user.name} onSignOut={async () => {
              await signOut();
              navigate('/');
            }} />
          ) : (
            <Link className="button button-primary button-small" to="/sign-in">
              {t('auth.signIn')}
            </Link>
          )}
        </div>
      </div>
    </header>
  );
}

function UserMenu({ name, onSignOut }: { name: string; onSignOut(): void }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const location = useLocation();
  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent | KeyboardEvent) => {
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !ref.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="user-menu" ref={ref}>
      <button type="button" className="user-button" aria-expanded={open} aria-haspopup="true" onClick={() => setOpen(!open)}>
        <span className="avatar" aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-name">{name}</span>
        <span className="visually-hidden">{t('auth.menu')}</span>
      </button>
      {open && (
        <ul className="menu">
          <li>
            <Link to="/account">{t('account.title')}</Link>
          </li>
          <li>
            <Link to="/account#tokens">{t('account.tokens')}</Link>
          </li>
          <li>
            <button type="button" onClick={onSignOut}>
              {t('auth.signOut')}
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}

/** Shows a page only to the roles of its area; others see why not (the server refuses them too). */
function Guard({ area, children }: { area?: Area; children: ReactNode }) {
  const { user, ready } = useAuth();
  if (!ready) return <Loading />;
  if (!user) return <SignInPage />;
  if (area && !mayEnter(user, area)) return <NotAllowedPage allowed={[...areas[area]]} />;
  return <>{children}</>;
}

/** Moves focus to the main heading after navigation, so screen readers hear the new page. */
function useFocusOnNavigate() {
  const location = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => {
      const main = document.getElementById('main');
      const heading = main?.querySelector('h1');
      (heading as HTMLElement | null)?.setAttribute('tabindex', '-1');
      (heading as HTMLElement | null)?.focus({ preventScroll: false });
    }, 50);
    return () => clearTimeout(timer);
  }, [location.pathname]);
}

export function App() {
  const { t } = useTranslation();
  const { ready } = useAuth();
  useFocusOnNavigate();
  useEffect(() => {
    document.title = `${t('product')} · SampleBank`;
  }, [t]);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <Header />
      <main id="main" className="app-main">
        {!ready ? (
          <Loading />
        ) : (
          <Suspense fallback={<Loading />}>
            <Routes>
              <Route path="/" element={<CatalogPage />} />
              <Route path="/sign-in" element={<SignInPage />} />
              <Route path="/statistics" element={<StatisticsPage />} />
              <Route path="/samples" element={<Guard area="console"><SamplesPage /></Guard>} />
              <Route path="/samples/:id" element={<Guard area="console"><SamplePage /></Guard>} />
              <Route path="/storage" element={<Guard area="console"><StoragePage /></Guard>} />
              <Route path="/storage/:id" element={<Guard area="console"><StoragePage /></Guard>} />
              <Route path="/import" element={<Guard area="console"><ImportPage /></Guard>} />
              <Route path="/account" element={<Guard><AccountPage /></Guard>} />
              <Route path="/calls" element={<Guard><CallsPage /></Guard>} />
              <Route path="/applications" element={<Guard area="applications"><MyApplications /></Guard>} />
              <Route path="/applications/new" element={<Guard area="applications"><ApplicationFormPage /></Guard>} />
              <Route path="/applications/:id/edit" element={<Guard area="applications"><ApplicationFormPage /></Guard>} />
              <Route path="/applications/:id" element={<Guard><ApplicationPage /></Guard>} />
              <Route path="/reviews" element={<Guard area="reviews"><ReviewsPage /></Guard>} />
              <Route path="/reviews/:id" element={<Guard area="reviews"><ReviewWorkspace /></Guard>} />
              <Route path="/committee" element={<Guard area="committee"><CommitteePage /></Guard>} />
              <Route path="/committee/:id" element={<Guard area="committee"><CommitteeCall /></Guard>} />
              <Route path="/committee/:id/allocation" element={<Guard area="committee"><AllocationPage /></Guard>} />
              <Route path="/shipments" element={<Guard area="console"><ShipmentsPage /></Guard>} />
              <Route path="/shipments/:id" element={<Guard><ShipmentPage /></Guard>} />
              <Route path="/loans" element={<Guard area="console"><LoansPage /></Guard>} />
              <Route path="/returns" element={<Guard area="console"><ReturnsPage /></Guard>} />
              <Route path="/incidents" element={<Guard area="console"><IncidentsPage /></Guard>} />
              <Route path="/audit" element={<Guard area="audit"><AuditPage /></Guard>} />
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </Suspense>
        )}
      </main>
      <footer className="app-footer">
        <span>样本库 SampleBank</span>
        <a href="/api/docs">API</a>
      </footer>
    </>
  );
}
