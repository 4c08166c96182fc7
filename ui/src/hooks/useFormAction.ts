/** A form's submit: busy while it runs, its error kept for the form's alert, success announced. */
import { useState } from 'preact/hooks';
import { errorMessage } from '../api/messages.ts';
import { useToasts } from '../lib/toasts.tsx';

export interface FormAction {
  busy: boolean;
  error: string;
  setError: (error: string) => void;
  /** Runs `action`; on success announces `done` (when given) and returns true. */
  run: (action: () => Promise<void>, done?: string) => Promise<boolean>;
}

export function useFormAction(): FormAction {
  const { notify } = useToasts();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const run = async (action: () => Promise<void>, done?: string) => {
    setBusy(true);
    setError('');
    try {
      await action();
      if (done !== undefined) notify(done);
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
