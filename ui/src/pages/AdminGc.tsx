/** /admin/gc : garbage collection, for administrators. */
import { AdminsOnly } from '../admin/AdminsOnly.tsx';
import { GarbageCollection } from '../admin/GarbageCollection.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useSession } from '../lib/session.tsx';

export default function AdminGcPage() {
  const { session, isAdmin, user } = useSession();
  return (
    <div class="page">
      <p class="breadcrumb">
        <Link href="/admin">Administration</Link>
      </p>
      <PageHeading>Garbage collection</PageHeading>
      {session === undefined ? <Loading /> : isAdmin ? <GarbageCollection /> : <AdminsOnly user={user} next="/admin/gc" />}
    </div>
  );
}
