import { copyText } from '../lib/clipboard.ts';
import { useToasts } from '../lib/toasts.tsx';

interface Props {
  text: string;
  /** The accessible name; "Copy" unless given. */
  label?: string;
  class?: string;
}

/** Copies `text` and says so ("Copied") in the live region. */
export function CopyButton({ text, label = 'Copy', class: className = 'button secondary small' }: Props) {
  const { notify } = useToasts();
  return (
    <button
      type="button"
      class={className}
      onClick={async () => {
        const ok = await copyText(text);
        notify(ok ? 'Copied' : 'Could not copy: select the text and copy it by hand.', ok ? 'info' : 'error');
      }}
    >
      {label}
    </button>
  );
}
