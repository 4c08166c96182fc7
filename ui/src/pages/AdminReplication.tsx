/** /admin/replication : replication rules and their runs, for administrators. */
import { AdminsOnly } from '../admin/AdminsOnly.tsx';
import { Replication } from '../admin/Replication.tsx';
import { Link } from '../components/Link.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useSession } from '../lib/session.tsx';

export default function AdminReplicationPage() {
  const { session, isAdmin, user } = useSession();
  return (
    <div class="page">
      <p class="breadcrumb">
        <Link href="/admin">Administration</Link>
      </p>
      <PageHeading>Replication</PageHeading>
      {session === undefined ? <Loading /> : isAdmin ? <Replication /> : <AdminsOnly user={user} next="/admin/replication" />}
    </div>
  );
}
