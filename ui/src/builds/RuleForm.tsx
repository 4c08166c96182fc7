/** A new build rule: its Git source and the tag it pushes; answers the webhook's secret once. */
import { useState } from 'preact/hooks';
import { addRule, type BuildRule } from '../api/builds.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { FormActions } from '../components/FormActions.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';

export function RuleForm({ name, onAdded }: { name: string; onAdded: () => void }) {
  const form = useFormAction();
  const [gitUrl, setGitUrl] = useState('');
  const [sourceType, setSourceType] = useState<'branch' | 'tag'>('branch');
  const [source, setSource] = useState('main');
  const [tag, setTag] = useState('latest');
  const [dockerfile, setDockerfile] = useState('Dockerfile');
  const [context, setContext] = useState('.');
  const [poll, setPoll] = useState(false);
  const [token, setToken] = useState('');
  const [created, setCreated] = useState<(BuildRule & { hookSecret: string }) | undefined>(undefined);
  return (
    <>
      {created !== undefined && (
        <div class="notice" role="status">
          <p>
            Rule made. Give your Git host this webhook and secret (GitLab: the secret token). The secret is shown only now.
          </p>
          <p>
            <code>{created.hookUrl}</code> <CopyButton text={created.hookUrl} label="Copy the webhook URL" />
          </p>
          <p>
            <code>{created.hookSecret}</code> <CopyButton text={created.hookSecret} label="Copy the webhook secret" />
          </p>
        </div>
      )}
      <form
        class="form wide-form"
        onSubmit={(e) => {
          e.preventDefault();
          void form.run(async () => {
            const rule = await addRule(name, {
              gitUrl: gitUrl.trim(),
              sourceType,
              source: source.trim(),
              tag: tag.trim(),
              dockerfile: dockerfile.trim(),
              context: context.trim(),
              poll,
              ...(token.trim() !== '' && { credential: { kind: 'token' as const, secret: token.trim() } }),
            });
            setCreated(rule);
            setToken('');
            onAdded();
          }, 'Build rule added');
        }}
      >
        <div class="field">
          <label for="rule-git">Git repository URL</label>
          <input id="rule-git" required value={gitUrl} placeholder="https://git.example.com/team/app.git" onInput={(e) => setGitUrl(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="rule-type">Build</label>
          <select id="rule-type" value={sourceType} onChange={(e) => setSourceType(e.currentTarget.value as 'branch' | 'tag')}>
            <option value="branch">a branch</option>
            <option value="tag">tags</option>
          </select>
        </div>
        <div class="field">
          <label for="rule-source">Source</label>
          <input id="rule-source" class="mono" required value={source} aria-describedby="rule-source-hint" onInput={(e) => setSource(e.currentTarget.value)} />
          <p id="rule-source-hint" class="hint">
            A name (<code>main</code>), or a regular expression between slashes (<code>/^v([0-9.]+)$/</code>).
          </p>
        </div>
        <div class="field">
          <label for="rule-tag">Image tag</label>
          <input id="rule-tag" class="mono" required value={tag} aria-describedby="rule-tag-hint" onInput={(e) => setTag(e.currentTarget.value)} />
          <p id="rule-tag-hint" class="hint">
            <code>{'{sourceref}'}</code> is the branch or tag name; <code>{'{1}'}</code> the expression&apos;s first group.
          </p>
        </div>
        <div class="field">
          <label for="rule-context">Context directory</label>
          <input id="rule-context" class="mono" value={context} onInput={(e) => setContext(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="rule-dockerfile">Dockerfile (in the context)</label>
          <input id="rule-dockerfile" class="mono" value={dockerfile} onInput={(e) => setDockerfile(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="rule-token">Access token for a private repository (optional)</label>
          <input id="rule-token" type="password" autocomplete="off" value={token} aria-describedby="rule-token-hint" onInput={(e) => setToken(e.currentTarget.value)} />
          <p id="rule-token-hint" class="hint">
            Stored sealed, never shown again.
          </p>
        </div>
        <div class="field checkbox">
          <label>
            <input type="checkbox" checked={poll} onChange={(e) => setPoll(e.currentTarget.checked)} /> Poll the repository for new commits (when it cannot send webhooks)
          </label>
        </div>
        <FormActions form={form} submit="Add rule" />
      </form>
    </>
  );
}
