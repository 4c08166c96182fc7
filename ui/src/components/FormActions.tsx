/** The end of a form: its error, announced as an alert, and its submit button, busy while the form runs. */
import type { ComponentChildren } from 'preact';
import type { FormAction } from '../hooks/useFormAction.ts';

interface Props {
  form: Pick<FormAction, 'busy' | 'error'>;
  /** The submit button's text. */
  submit: ComponentChildren;
  /** More buttons, after the submit button. */
  children?: ComponentChildren;
}

/** A full form's footer: the error, then a row of buttons, the submit button first. */
export function FormActions({ form, submit, children }: Props) {
  return (
    <>
      <p class="form-error" role="alert">
        {form.error}
      </p>
      <div class="actions">
        <button type="submit" class="button" disabled={form.busy} aria-busy={form.busy}>
          {submit}
        </button>
        {children}
      </div>
    </>
  );
}

/** A one-line form's end: the submit button, then the error. */
export function InlineSubmit({ form, secondary = false, children }: { form: Pick<FormAction, 'busy' | 'error'>; secondary?: boolean; children: ComponentChildren }) {
  return (
    <>
      <button type="submit" class={secondary ? 'button secondary' : 'button'} disabled={form.busy}>
        {children}
      </button>
      <p class="form-error" role="alert">
        {form.error}
      </p>
    </>
  );
}
