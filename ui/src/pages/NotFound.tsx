import { Link } from '../components/Link.tsx';
import { PageHeading } from '../components/PageHeading.tsx';

export function NotFoundPage() {
  return (
    <div class="page">
      <PageHeading>Page not found</PageHeading>
      <p>There is no page at this address.</p>
      <p>
        <Link href="/">Go to the home page</Link> or <Link href="/search">search repositories</Link>.
      </p>
    </div>
  );
}
