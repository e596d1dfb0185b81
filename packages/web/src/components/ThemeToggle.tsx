import { useEffect, useState } from 'react';

type Theme = 'system' | 'light' | 'dark';
const KEY = 'flotilla.theme';
const NEXT: Record<Theme, Theme> = { system: 'dark', dark: 'light', light: 'system' };

function stored(): Theme {
  const value = window.localStorage.getItem(KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

/**
 * Light, dark, or the system's choice (`prefers-color-scheme`, the default): the choice is
 * `data-theme` on the root element, which the stylesheet reads, and kept in this browser.
 */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(stored);
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'system') {
      root.removeAttribute('data-theme');
      window.localStorage.removeItem(KEY);
    } else {
      root.setAttribute('data-theme', theme);
      window.localStorage.setItem(KEY, theme);
    }
  }, [theme]);
  const label = { system: 'Theme: system', dark: 'Theme: dark', light: 'Theme: light' }[theme];
  return (
    <button
      type="button"
      className="icon-button"
      onClick={() => setTheme(NEXT[theme])}
      aria-label={`${label}; change`}
      title={label}
    >
      <span aria-hidden="true">{theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}</span>
    </button>
  );
}
