import { Fragment } from 'preact';
import { CopyButton } from '../components/CopyButton.tsx';
import { registryHost } from '../lib/base.ts';

/** `docker pull host/name:tag` with a Copy button; long references wrap after / and : first. */
export function PullCommand({ name, tag }: { name: string; tag: string }) {
  const reference = `${registryHost()}/${name}${tag.includes(':') ? `@${tag}` : `:${tag}`}`;
  const command = `docker pull ${reference}`;
  const parts = reference.split(/(?<=[/@])/);
  return (
    <div class="copy-row">
      <code class="pull-command">
        docker pull{' '}
        {parts.map((part, i) => (
          <Fragment key={i}>
            {i > 0 && <wbr />}
            {part}
          </Fragment>
        ))}
      </code>
      <CopyButton text={command} />
    </div>
  );
}
