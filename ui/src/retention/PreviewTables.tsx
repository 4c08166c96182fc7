/** A repository's dry run: what the next garbage collection would delete there, and why. */
import type { RepositoryPreview } from '../api/retention.ts';
import { Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { plural, shortDigest } from '../lib/format.ts';

/** What the next garbage collection would do in one repository: a summary line, each tag with rule and reason, the untagged manifests. */
export function RepositoryPreviewView({ preview }: { preview: RepositoryPreview }) {
  const going = preview.tags.filter((t) => t.action === 'delete');
  const kept = preview.tags.length - going.length;
  return (
    <>
      {preview.error !== null && (
        <p class="notice" role="status">
          Nothing is deleted here: {preview.error}
        </p>
      )}
      <p>
        If garbage collection ran now, it would delete {plural(going.length, 'tag')} and {plural(preview.untagged.length, 'untagged manifest')}, and keep {plural(kept, 'tag')}.
      </p>
      {preview.tags.length > 0 && (
        <Table caption="Tags and what retention does with them" hideCaption head={<><th scope="col">Tag</th><th scope="col">Outcome</th><th scope="col">Rule</th><th scope="col">Why</th><th scope="col">Pushed</th><th scope="col">Last pulled</th></>}>
          {[...going, ...preview.tags.filter((t) => t.action === 'keep')].map((t) => (
            <tr key={t.tag}>
              <td class="mono">{t.tag}</td>
              <td>{t.action === 'delete' ? <strong>delete</strong> : 'keep'}</td>
              <td class="mono">{t.rule}</td>
              <td>{t.reason}</td>
              <td>
                <Time at={t.pushedAt} />
              </td>
              <td>
                <Time at={t.pulledAt} fallback="never" />
              </td>
            </tr>
          ))}
        </Table>
      )}
      {preview.untagged.length > 0 && (
        <Table caption="Untagged manifests to delete" head={<><th scope="col">Digest</th><th scope="col">Why</th></>}>
          {preview.untagged.map((m) => (
            <tr key={m.digest}>
              <td class="mono" title={m.digest}>
                {shortDigest(m.digest)}
              </td>
              <td>{m.reason}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
