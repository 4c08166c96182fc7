import { render } from 'preact';
import { App } from './app.tsx';
import { applyTheme, storedTheme } from './lib/theme.ts';
import './styles/base.css';
import './styles/layout.css';
import './styles/controls.css';
import './styles/components.css';
import './styles/pages.css';

applyTheme(storedTheme());

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
