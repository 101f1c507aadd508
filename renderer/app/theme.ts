/**
 * The colour scheme: the system's (prefers-color-scheme) unless the person chose light or dark
 * in settings. Kept in this browser's localStorage: a display preference, not a setting the
 * agent needs. Applied as `data-theme` on <html>, which style.css reads.
 */
import { useSyncExternalStore } from 'react';

export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const KEY = 'foresight.theme';
const listeners = new Set<() => void>();

export function readTheme(): Theme {
  let v: string | null = null;
  try {
    v = localStorage.getItem(KEY);
  } catch {
    // storage refused (a private window): the system's scheme
  }
  return THEMES.find((t) => t === v) ?? 'system';
}

export function applyTheme(theme: Theme = readTheme()): void {
  if (theme === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', theme);
}

export function setTheme(theme: Theme): void {
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // not kept; still applied for this page
  }
  applyTheme(theme);
  for (const l of listeners) l();
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    readTheme,
  );
}
