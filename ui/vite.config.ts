/**
 * Builds the web UI (ui/src) into ui/dist, which `berth serve` serves at `/` (or under
 * `http.prefix`). Run from the repository root: `vite build --config ui/vite.config.ts`.
 * No plugin: Preact's TSX goes through Vite's own oxc transform.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    cssTarget: 'chrome111',
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    rolldownOptions: {
      output: {
        // What the first page needs (shell, router, Preact, home, search, sign-in) in one chunk;
        // each lazy page in its own, with what only it uses (marked and DOMPurify: the repository page).
        codeSplitting: {
          groups: [
            { name: 'app', tags: ['$initial'] },
            { name: 'markdown', test: /node_modules[\\/](marked|dompurify)[\\/]|src[\\/](lib[\\/]markdown|components[\\/]Markdown)\./ },
          ],
        },
      },
    },
  },
  experimental: {
    // index.html's `/assets/` references are rewritten by the server for a path prefix; anything the
    // scripts load later (lazy pages) is resolved relative to the script itself, never from `/`.
    renderBuiltUrl(_filename, { hostType }) {
      return hostType === 'html' ? undefined : { relative: true };
    },
  },
  server: {
    // `vite --config ui/vite.config.ts` against a running berth (BERTH_URL, default 127.0.0.1:5000).
    proxy: { '/api': process.env.BERTH_URL ?? 'http://127.0.0.1:5000' },
  },
});
