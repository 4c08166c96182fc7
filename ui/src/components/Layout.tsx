import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { Header } from './Header.tsx';

/** Skip link, header, the page's main content, footer. */
export function Layout({ children }: { children: ComponentChildren }) {
  const main = useRef<HTMLElement>(null);
  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          const target = main.current?.querySelector<HTMLElement>('h1') ?? main.current;
          target?.focus();
        }}
      >
        Skip to content
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
      <footer class="site-footer">
        <p>berth, a self-hosted container image registry</p>
      </footer>
    </>
  );
}
