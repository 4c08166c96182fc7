/** /admin : users, storage, the mirror and notifications, for administrators. */
import { Mirror } from '../admin/Mirror.tsx';
import { Notifications } from '../admin/Notifications.tsx';
import { Storage } from '../admin/Storage.tsx';
import { Users } from '../admin/Users.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useSession } from '../lib/session.tsx';

export default function AdminPage() {
  const { session, isAdmin, user } = useSession();
  if (session === undefined) return <Loading />;
  if (!isAdmin) {
    return (
      <div class="page">
        <PageHeading>Administration</PageHeading>
        <p class="notice">
          Administrators only.{' '}
          {user === null ? (
            <>
              <Link href="/signin?next=%2Fadmin">Sign in</Link> as an administrator to see this page.
            </>
          ) : (
            `You are signed in as ${user.name}, who is not an administrator.`
          )}
        </p>
      </div>
    );
  }
  return (
    <div class="page">
      <PageHeading>Administration</PageHeading>
      <nav class="tabs" aria-label="Sections">
        <a href="#users-title">Users</a>
        <a href="#storage-title">Storage</a>
        <a href="#mirror-title">Mirror</a>
        <a href="#notifications-title">Notifications</a>
      </nav>
      <Users />
      <Storage />
      <Mirror />
      <Notifications />
    </div>
  );
}
