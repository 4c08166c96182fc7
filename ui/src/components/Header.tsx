import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLocation, useSearch } from 'wouter-preact';
import { signOut } from '../api/accounts.ts';
import { errorMessage } from '../api/messages.ts';
import { useSession } from '../lib/session.tsx';
import { useToasts } from '../lib/toasts.tsx';
import { Link } from './Link.tsx';
import { ThemeToggle } from './ThemeToggle.tsx';

function NavLink({ href, current, children, class: className }: { href: string; current: string; children: ComponentChildren; class?: string }) {
  const here = current === href || (href !== '/' && current.startsWith(`${href}/`));
  return (
    <Link href={href} aria-current={here ? 'page' : undefined} {...(className !== undefined && { class: className })}>
      {children}
    </Link>
  );
}

/** The site's header: the name, navigation (a menu button on narrow screens), the account, the theme. */
export function Header() {
  const [path, navigate] = useLocation();
  const search = useSearch();
  const state = useSession();
  const { notify } = useToasts();
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setMenuOpen(false);
      document.querySelector<HTMLElement>('.menu-toggle')?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  const here = search === '' ? path : `${path}?${search}`;
  const signInHref = path === '/signin' || path === '/' ? '/signin' : `/signin?next=${encodeURIComponent(here)}`;
  const { user, open, session } = state;

  const doSignOut = async () => {
    try {
      await signOut();
      state.signedOut();
      notify('Signed out');
      navigate('/');
    } catch (err) {
      notify(errorMessage(err), 'error');
    }
  };

  return (
    <header class="site-header">
      <div class="header-inner">
        <Link href="/" class="brand">
          <span class="brand-mark" aria-hidden="true">⚓</span> berth
        </Link>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="site-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="site-nav" class={menuOpen ? 'site-nav open' : 'site-nav'} aria-label="Main">
          <ul>
            <li>
              <NavLink current={path} href="/search">Explore</NavLink>
            </li>
            {open && (
              <>
                <li>
                  <NavLink current={path} href="/admin">Admin</NavLink>
                </li>
                <li class="nav-notice">Open registry: no accounts yet</li>
              </>
            )}
            {!open && user !== null && (
              <>
                <li>
                  <NavLink current={path} href={`/u/${encodeURIComponent(user.name)}`} class="nav-user">
                    {user.name}
                  </NavLink>
                </li>
                <li>
                  <NavLink current={path} href="/settings">Account settings</NavLink>
                </li>
                <li>
                  <NavLink current={path} href="/orgs">Organisations</NavLink>
                </li>
                {user.admin && (
                  <li>
                    <NavLink current={path} href="/admin">Admin</NavLink>
                  </li>
                )}
                <li>
                  <button type="button" class="link-button" onClick={() => void doSignOut()}>
                    Sign out
                  </button>
                </li>
              </>
            )}
            {!open && user === null && session !== undefined && (
              <li>
                <NavLink current={path} href={signInHref}>
                  Sign in
                </NavLink>
              </li>
            )}
          </ul>
        </nav>
        <ThemeToggle />
      </div>
    </header>
  );
}
