import { Suspense, useEffect, useRef, useState, type ComponentType, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, matchPath, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { areas, mayEnter, useAuth, type Area } from './auth';
import { DemoBanner } from './components/demo-banner';
import { Loading } from './components/states';
import { lazyPage, type LazyPage } from './lib/lazy-page';
import { setLanguage, type Language } from './i18n';
import { CatalogPage } from './pages/catalog';
import { NotAllowedPage, NotFoundPage } from './pages/not-allowed';
import { SignInPage } from './pages/sign-in';

// Pages past the first load their code when opened, so the catalog starts small.
const StatisticsPage = lazyPage(() => import('./pages/statistics'));
const SamplesPage = lazyPage(() => import('./pages/samples'));
const SamplePage = lazyPage(() => import('./pages/sample'));
const StoragePage = lazyPage(() => import('./pages/storage'));
const ImportPage = lazyPage(() => import('./pages/import'));
const AccountPage = lazyPage(() => import('./pages/account'));
const CallsPage = lazyPage(() => import('./pages/calls'));
const MyApplications = lazyPage(() => import('./pages/application').then((m) => ({ default: m.MyApplications })));
const ApplicationPage = lazyPage(() => import('./pages/application'));
const ApplicationFormPage = lazyPage(() => import('./pages/application-form'));
const ReviewsPage = lazyPage(() => import('./pages/reviews'));
const ReviewWorkspace = lazyPage(() => import('./pages/reviews').then((m) => ({ default: m.ReviewWorkspace })));
const CommitteePage = lazyPage(() => import('./pages/committee'));
const AllocationPage = lazyPage(() => import('./pages/allocation'));
const ShipmentsPage = lazyPage(() => import('./pages/shipments'));
const ShipmentPage = lazyPage(() => import('./pages/shipments').then((m) => ({ default: m.ShipmentPage })));
const LoansPage = lazyPage(() => import('./pages/loans'));
const ReturnsPage = lazyPage(() => import('./pages/returns'));
const IncidentsPage = lazyPage(() => import('./pages/returns').then((m) => ({ default: m.IncidentsPage })));
const CommitteeCall = lazyPage(() => import('./pages/committee').then((m) => ({ default: m.CommitteeCall })));
const AuditPage = lazyPage(() => import('./pages/audit'));
const DonorsPage = lazyPage(() => import('./pages/donors'));
const DonorPage = lazyPage(() => import('./pages/donors').then((m) => ({ default: m.DonorPage })));
const UsersPage = lazyPage(() => import('./pages/users'));

interface PageRoute {
  path: string;
  page: ComponentType;
  /** Signed-in only (and, with an area, only for the roles that may enter it). */
  guard?: boolean;
  area?: Area;
}

const routes: PageRoute[] = [
  { path: '/', page: CatalogPage },
  { path: '/sign-in', page: SignInPage },
  { path: '/statistics', page: StatisticsPage },
  { path: '/samples', page: SamplesPage, guard: true, area: 'console' },
  { path: '/samples/:id', page: SamplePage, guard: true, area: 'console' },
  { path: '/storage', page: StoragePage, guard: true, area: 'console' },
  { path: '/storage/:id', page: StoragePage, guard: true, area: 'console' },
  { path: '/import', page: ImportPage, guard: true, area: 'console' },
  { path: '/account', page: AccountPage, guard: true },
  { path: '/calls', page: CallsPage, guard: true },
  { path: '/applications', page: MyApplications, guard: true, area: 'applications' },
  { path: '/applications/new', page: ApplicationFormPage, guard: true, area: 'applications' },
  { path: '/applications/:id/edit', page: ApplicationFormPage, guard: true, area: 'applications' },
  { path: '/applications/:id', page: ApplicationPage, guard: true },
  { path: '/reviews', page: ReviewsPage, guard: true, area: 'reviews' },
  { path: '/reviews/:id', page: ReviewWorkspace, guard: true, area: 'reviews' },
  { path: '/committee', page: CommitteePage, guard: true, area: 'committee' },
  { path: '/committee/:id', page: CommitteeCall, guard: true, area: 'committee' },
  { path: '/committee/:id/allocation', page: AllocationPage, guard: true, area: 'committee' },
  { path: '/shipments', page: ShipmentsPage, guard: true, area: 'console' },
  { path: '/shipments/:id', page: ShipmentPage, guard: true },
  { path: '/loans', page: LoansPage, guard: true, area: 'console' },
  { path: '/returns', page: ReturnsPage, guard: true, area: 'console' },
  { path: '/incidents', page: IncidentsPage, guard: true, area: 'console' },
  { path: '/donors', page: DonorsPage, guard: true, area: 'donors' },
  { path: '/donors/:id', page: DonorPage, guard: true, area: 'donors' },
  { path: '/audit', page: AuditPage, guard: true, area: 'audit' },
  { path: '/users', page: UsersPage, guard: true, area: 'users' },
  { path: '*', page: NotFoundPage },
];

// A page opened by its address loads its code while the session is checked, so its route renders without suspending.
const opened = routes.find((route) => route.path !== '*' && matchPath(route.path, window.location.pathname));
if (opened && 'preload' in opened.page) void (opened.page as LazyPage).preload();

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
    { to: '/donors', label: t('nav.donors'), area: 'donors' },
    { to: '/applications', label: t('nav.applications'), area: 'applications' },
    { to: '/reviews', label: t('nav.reviews'), area: 'reviews' },
    { to: '/committee', label: t('nav.committee'), area: 'committee' },
    { to: '/audit', label: t('nav.audit'), area: 'audit' },
    { to: '/users', label: t('nav.users'), area: 'users' },
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
      <DemoBanner />
      <main id="main" className="app-main">
        {!ready ? (
          <Loading />
        ) : (
          <Suspense fallback={<Loading />}>
            <Routes>
              {routes.map(({ path, page: Page, guard, area }) => (
                <Route key={path} path={path} element={guard ? <Guard {...(area ? { area } : {})}><Page /></Guard> : <Page />} />
              ))}
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
