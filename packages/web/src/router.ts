/** A small history-API router: the app has a handful of screens and needs nothing more. */
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener('popstate', notify);

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  notify();
  window.scrollTo(0, 0);
}

export function usePath(): string {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => location.pathname + location.search,
  );
}

/** Route matching: "/patient/:id" against "/patient/abc" → { id: 'abc' }. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const [pathname] = path.split('?');
  const p = pattern.split('/');
  const a = (pathname ?? '').split('/');
  if (p.length !== a.length) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) out[p[i]!.slice(1)] = decodeURIComponent(a[i]!);
    else if (p[i] !== a[i]) return undefined;
  }
  return out;
}

/** A link that navigates without reloading the page (keeps drafts, the alarm stream and the lock). */
export function onLinkClick(path: string) {
  return (e: { preventDefault(): void; metaKey?: boolean; ctrlKey?: boolean }) => {
    if (e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    navigate(path);
  };
}
