import { errorMessage, isStatus } from '../api/messages.ts';
import { SignInPrompt } from './SignInPrompt.tsx';

interface Props {
  error: unknown;
  /** What the page shows, for the sign-in prompt ("see this repository"). */
  what?: string;
  retry?: () => void;
}

/** A failed load, in words: 401 asks to sign in, anything else says what went wrong. */
export function ErrorNotice({ error, what, retry }: Props) {
  if (isStatus(error, 401)) return <SignInPrompt {...(what !== undefined && { what })} />;
  return (
    <div class="error-box" role="alert">
      <p>{errorMessage(error)}</p>
      {retry && (
        <button type="button" class="button secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** An inline error for a form, read out when it appears. */
export function FormError({ error, id }: { error: unknown; id?: string }) {
  return (
    <p class="form-error" role="alert" id={id}>
      {error === undefined ? '' : typeof error === 'string' ? error : errorMessage(error)}
    </p>
  );
}
