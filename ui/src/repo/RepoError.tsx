import { isStatus } from '../api/messages.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Link } from '../components/Link.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { SignInPrompt } from '../components/SignInPrompt.tsx';

interface Props {
  error: unknown;
  /** What was asked for: "repository alice/web", "tag alice/web:1.0". */
  what: string;
  /** The heading while the page would have shown it (other errors keep it). */
  heading: string;
  retry: () => void;
}

/**
 * A repository (or its tag) that could not be shown. Missing and hidden alike say "not found"
 * (the API does not tell them apart either); anonymous visitors are asked to sign in.
 */
export function RepoError({ error, what, heading, retry }: Props) {
  if (isStatus(error, 401)) {
    return (
      <>
        <PageHeading>Sign in to see this {what.split(' ')[0]}</PageHeading>
        <SignInPrompt what={`see ${what}`} />
      </>
    );
  }
  if (isStatus(error, 403) || isStatus(error, 404)) {
    const kind = what.split(' ')[0] ?? 'page';
    return (
      <>
        <PageHeading>{`${kind[0]?.toUpperCase() ?? ''}${kind.slice(1)} not found`}</PageHeading>
        <p>
          There is no {what}, or you may not see it. <Link href="/search">Search repositories</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <PageHeading>{heading}</PageHeading>
      <ErrorNotice error={error} retry={retry} />
    </>
  );
}
