/** The routes. Pages beyond home, search and sign-in load on first visit. */
import { Route, Router, Switch, useLocation } from 'wouter-preact';
import { Layout } from './components/Layout.tsx';
import { lazyPage } from './components/Lazy.tsx';
import { BASE } from './lib/base.ts';
import { noteLocation } from './lib/focus.ts';
import { SessionProvider } from './lib/session.tsx';
import { ToastProvider } from './lib/toasts.tsx';
import { HomePage } from './pages/Home.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';
import { SearchPage } from './pages/Search.tsx';
import { SignInPage } from './pages/SignIn.tsx';

const NamespacePage = lazyPage(() => import('./pages/Namespace.tsx'));
const RepositoryPage = lazyPage(() => import('./pages/Repository.tsx'));
const RepoSettingsPage = lazyPage(() => import('./pages/RepoSettings.tsx'));
const RepoBuildsPage = lazyPage(() => import('./pages/RepoBuilds.tsx'));
const TagPage = lazyPage(() => import('./pages/Tag.tsx'));
const AccountPage = lazyPage(() => import('./pages/Account.tsx'));
const OrgsPage = lazyPage(() => import('./pages/Orgs.tsx'));
const OrgPage = lazyPage(() => import('./pages/Org.tsx'));
const AdminPage = lazyPage(() => import('./pages/Admin.tsx'));
const AdminGcPage = lazyPage(() => import('./pages/AdminGc.tsx'));
const AdminReplicationPage = lazyPage(() => import('./pages/AdminReplication.tsx'));

// Repository names hold slashes: /r/alice/web, /r/alice/web/settings, /r/alice/web/tag/1.0.
const REPO_SETTINGS = /^\/r\/(?<name>[^?#]+?)\/settings\/?$/;
const REPO_BUILDS = /^\/r\/(?<name>[^?#]+?)\/builds\/?$/;
const REPO_TAG = /^\/r\/(?<name>[^?#]+?)\/tag\/(?<reference>[^/]+)\/?$/;
const REPO = /^\/r\/(?<name>[^?#]+?)\/?$/;

function Routes() {
  const [path] = useLocation();
  noteLocation(path);
  return (
    <Switch key={path}>
      <Route path="/" component={HomePage} />
      <Route path="/search" component={SearchPage} />
      <Route path="/signin" component={SignInPage} />
      <Route path="/u/:namespace" component={NamespacePage} />
      <Route path={REPO_SETTINGS} component={RepoSettingsPage} />
      <Route path={REPO_BUILDS} component={RepoBuildsPage} />
      <Route path={REPO_TAG} component={TagPage} />
      <Route path={REPO} component={RepositoryPage} />
      <Route path="/settings" component={AccountPage} />
      <Route path="/orgs" component={OrgsPage} />
      <Route path="/orgs/:org" component={OrgPage} />
      <Route path="/admin" component={AdminPage} />
      <Route path="/admin/gc" component={AdminGcPage} />
      <Route path="/admin/replication" component={AdminReplicationPage} />
      <Route component={NotFoundPage} />
    </Switch>
  );
}

export function App() {
  return (
    <Router base={BASE}>
      <SessionProvider>
        <ToastProvider>
          <Layout>
            <Routes />
          </Layout>
        </ToastProvider>
      </SessionProvider>
    </Router>
  );
}
