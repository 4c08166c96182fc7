/**
 * Short announcements ("Copied", "Tag deleted", errors of actions) shown in a corner and read out
 * by screen readers: one polite live region for news, one assertive region for errors.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useMemo, useRef, useState } from 'preact/hooks';

export type ToastKind = 'info' | 'error';

interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

interface Toasts {
  notify(text: string, kind?: ToastKind): void;
}

const ToastContext = createContext<Toasts>({ notify: () => undefined });

export function ToastProvider({ children }: { children: ComponentChildren }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);

  const notify = useCallback(
    (text: string, kind: ToastKind = 'info') => {
      const id = next.current++;
      setToasts((all) => [...all.slice(-3), { id, kind, text }]);
      setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
    },
    [dismiss],
  );

  const value = useMemo(() => ({ notify }), [notify]);
  const render = (kind: ToastKind) =>
    toasts
      .filter((t) => t.kind === kind)
      .map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" class="toast-close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ));

  return (
    <ToastContext.Provider value={value}>
      {children}
      <div class="toasts">
        <div role="status" aria-live="polite" aria-atomic="false">
          {render('info')}
        </div>
        <div role="alert" aria-live="assertive" aria-atomic="false">
          {render('error')}
        </div>
      </div>
    </ToastContext.Provider>
  );
}

export function useToasts(): Toasts {
  return useContext(ToastContext);
}
