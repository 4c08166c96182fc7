import { useEffect, useState } from 'preact/hooks';
import { currentTheme, saveTheme, storedTheme, systemTheme, type Theme } from '../lib/theme.ts';

/** Dark mode on or off; follows the system until pressed, then remembers the choice. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(currentTheme);

  useEffect(() => {
    const media = matchMedia('(prefers-color-scheme: dark)');
    const follow = () => {
      if (storedTheme() === null) setTheme(systemTheme());
    };
    media.addEventListener('change', follow);
    return () => media.removeEventListener('change', follow);
  }, []);

  const dark = theme === 'dark';
  return (
    <button
      type="button"
      class="theme-toggle"
      aria-pressed={dark}
      title={dark ? 'Dark mode is on' : 'Dark mode is off'}
      onClick={() => {
        const next: Theme = dark ? 'light' : 'dark';
        saveTheme(next);
        setTheme(next);
      }}
    >
      <span aria-hidden="true">{dark ? '☾' : '☀'}</span>
      <span class="sr-only">Dark mode</span>
    </button>
  );
}
