/** /admin : users, storage, the mirror and notifications, for administrators. */
import { AdminsOnly } from '../admin/AdminsOnly.tsx';
import { Mirror } from '../admin/Mirror.tsx';
import { Notifications } from '../admin/Notifications.tsx';
import { Storage } from '../admin/Storage.tsx';
import { Users } from '../admin/Users.tsx';
import { ImmutableAdmin } from '../quota/ImmutableAdmin.tsx';
import { QuotasAdmin } from '../quota/QuotasAdmin.tsx';
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
        <AdminsOnly user={user} next="/admin" />
      </div>
    );
  }
  return (
    <div class="page">
      <PageHeading>Administration</PageHeading>
      <nav class="tabs" aria-label="Sections">
        <a href="#users-title">Users</a>
        <a href="#storage-title">Storage</a>
        <a href="#quotas-title">Quotas</a>
        <a href="#immutable-title">Immutable tags</a>
        <a href="#mirror-title">Mirror</a>
        <a href="#notifications-title">Notifications</a>
        <Link href="/admin/gc">Garbage collection</Link>
        <Link href="/admin/replication">Replication</Link>
      </nav>
      <Users />
      <Storage />
      <QuotasAdmin />
      <ImmutableAdmin />
      <Mirror />
      <Notifications />
    </div>
  );
}
