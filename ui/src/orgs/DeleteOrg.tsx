import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { deleteOrg } from '../api/accounts.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { useToasts } from '../lib/toasts.tsx';

/** The danger zone of an organisation, for its owners: deleting it (its teams and memberships go with it). */
export function DeleteOrg({ org }: { org: string }) {
  const { notify } = useToasts();
  const [, navigate] = useLocation();
  const [asking, setAsking] = useState(false);
  return (
    <section class="danger-zone" aria-labelledby="delete-org-title">
      <h2 id="delete-org-title">Delete organisation</h2>
      <p>
        The organisation <strong>{org}</strong>, its members and teams are removed. Its repositories stay; an administrator can give the
        namespace a new owner.
      </p>
      <button type="button" class="button danger" onClick={() => setAsking(true)}>
        Delete organisation
      </button>
      {asking && (
        <ConfirmDialog
          title={`Delete organisation ${org}?`}
          confirmLabel="Delete"
          onClose={() => setAsking(false)}
          onConfirm={async () => {
            await deleteOrg(org);
            notify(`Organisation ${org} deleted`);
            navigate('/orgs');
          }}
        >
          <p>This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
