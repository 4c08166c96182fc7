import type { ComponentChildren } from 'preact';

interface SmallButtonProps {
  /** Outlined in the danger colour (delete, revoke, remove) rather than secondary. */
  danger?: boolean;
  /** The accessible name, when the visible text alone does not say what it acts on. */
  label?: string;
  onClick: () => void;
  children: ComponentChildren;
}

/** A small secondary or danger button: one row's, one list item's, or a section's lesser action. */
export function SmallButton({ danger = false, label, onClick, children }: SmallButtonProps) {
  return (
    <button type="button" class={danger ? 'button danger-outline small' : 'button secondary small'} aria-label={label} onClick={onClick}>
      {children}
    </button>
  );
}
