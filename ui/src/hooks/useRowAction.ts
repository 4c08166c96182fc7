/** A change made by a button outside a form (a row's or a list item's): announced either way, then the data reloaded. */
import { useToasts } from '../lib/toasts.tsx';

/** Returns `act`: runs `action`, then announces `done` and calls `onChange`, or announces `failed` as an error. */
export function useRowAction(onChange: () => void): (action: () => Promise<unknown>, done: string, failed: string) => Promise<void> {
  const { notify } = useToasts();
  return (action, done, failed) =>
    action().then(
      () => {
        notify(done);
        onChange();
      },
      () => notify(failed, 'error'),
    );
}
