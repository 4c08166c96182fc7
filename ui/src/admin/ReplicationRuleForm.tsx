/**
 * A replication rule's form, to add one or to change one made here (the configuration file's are
 * changed there). It sends the rule as the config holds it; the server checks it and its refusal
 * (an invalid cron, a taken name, a remote or username changed without the password) is shown
 * beside the buttons. The remote's password is write-only: when editing, an empty field keeps the
 * stored one, which the server allows only for the same remote (origin, username, and insecure or not).
 * A change replaces the whole rule: every field the rule has is in the form, so none is lost.
 */
import { useEffect, useState } from 'preact/hooks';
import { createReplicationRule, replaceReplicationRule, type ReplicationRule, type ReplicationRuleInput } from '../api/replication.ts';
import { FormActions } from '../components/FormActions.tsx';
import { useFormAction } from '../hooks/useFormAction.ts';

interface Props {
  /** The rule to change; none: a new rule. */
  rule?: ReplicationRule;
  onSaved: (rule: ReplicationRule) => void;
  onCancel: () => void;
}

/** Patterns as typed: separated by commas or lines. */
export function patternList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

const UNITS: [string, number][] = [
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
];

/** A rule's bandwidth (bytes a second) as the field shows it: `50MiB` when whole, else bytes. */
export function bandwidthText(bytes: number | null): string {
  if (bytes === null) return '';
  const unit = UNITS.find(([, size]) => bytes % size === 0);
  return unit === undefined ? String(bytes) : `${bytes / unit[1]}${unit[0]}`;
}

function numberOrNothing(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

/** The same registry origin (`http://h:1/` is `http://h:1`), as the server compares them. */
function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return a === b;
  }
}

export function ReplicationRuleForm({ rule, onSaved, onCancel }: Props) {
  const form = useFormAction();
  const editing = rule !== undefined;
  /** Field ids: unique per form, as several may be open at once. */
  const id = (field: string) => `rr-${rule?.name ?? 'new'}-${field}`;
  const [name, setName] = useState('');
  const [direction, setDirection] = useState<'pull' | 'push'>(rule?.direction ?? 'pull');
  const [url, setUrl] = useState(rule?.remote.url ?? '');
  const [username, setUsername] = useState(rule?.remote.username ?? '');
  const [password, setPassword] = useState('');
  const [insecure, setInsecure] = useState(rule?.remote.insecure ?? false);
  const [prefix, setPrefix] = useState(rule?.remoteprefix ?? '');
  const [repositories, setRepositories] = useState(rule?.filters.repositories.join('\n') ?? '*');
  const [tags, setTags] = useState(rule?.filters.tags.join('\n') ?? '*');
  const [platforms, setPlatforms] = useState(rule?.filters.platforms?.join(', ') ?? '');
  const [schedule, setSchedule] = useState(rule?.trigger.schedule ?? '');
  const [onpush, setOnpush] = useState(rule?.trigger.onpush ?? false);
  const [deletes, setDeletes] = useState(rule?.deletes ?? false);
  const [parallel, setParallel] = useState(String(rule?.parallel ?? 4));
  const [concurrency, setConcurrency] = useState(String(rule?.concurrency ?? 2));
  const [bandwidth, setBandwidth] = useState(bandwidthText(rule?.bandwidth ?? null));

  // the first field takes the focus as the form opens
  useEffect(() => document.getElementById(id(editing ? 'direction' : 'name'))?.focus(), []);

  const stored = rule?.remote.password === true;
  // the server keeps the stored password only for the same remote origin, username and insecure
  const keeps = stored && sameOrigin(url.trim(), rule?.remote.url ?? '') && username.trim() === (rule?.remote.username ?? '') && insecure === rule?.remote.insecure;
  const passwordHint = !stored
    ? 'Stored sealed, never shown again. Give it with a username, or neither for anonymous access.'
    : keeps
      ? 'A password is kept for this remote and username: leave empty to keep it, or type a new one. Clear the username to send no credentials.'
      : 'The remote URL, the username or insecure changed: give the password again (the kept one is only sent where it was given for).';

  const body = (): ReplicationRuleInput => {
    const repos = patternList(repositories);
    const tagList = patternList(tags);
    const platformList = patternList(platforms);
    const parallelN = numberOrNothing(parallel);
    const concurrencyN = numberOrNothing(concurrency);
    return {
      direction,
      remote: {
        url: url.trim(),
        ...(username.trim() !== '' && { username: username.trim() }),
        ...(password !== '' && { password }),
        insecure,
      },
      ...(prefix.trim() !== '' && { remoteprefix: prefix.trim() }),
      // empty: the server's default, every repository or tag (*)
      filters: {
        ...(repos.length > 0 && { repositories: repos }),
        ...(tagList.length > 0 && { tags: tagList }),
        ...(platformList.length > 0 && { platforms: platformList }),
      },
      trigger: { ...(schedule.trim() !== '' && { schedule: schedule.trim() }), onpush: direction === 'push' && onpush },
      deletes,
      ...(parallelN !== undefined && { parallel: parallelN }),
      ...(concurrencyN !== undefined && { concurrency: concurrencyN }),
      ...(bandwidth.trim() !== '' && { bandwidth: bandwidth.trim() }),
    };
  };

  return (
    <form
      class="form wide-form replication-form"
      aria-label={editing ? `Change replication rule ${rule.name}` : 'New replication rule'}
      onSubmit={(e) => {
        e.preventDefault();
        void form.run(
          async () => {
            const saved = editing ? await replaceReplicationRule(rule.name, body()) : await createReplicationRule({ name: name.trim(), ...body() });
            setPassword('');
            onSaved(saved);
          },
          editing ? `Replication rule ${rule.name} saved` : `Replication rule ${name.trim()} added`,
        );
      }}
    >
      {!editing && (
        <div class="field">
          <label for={id('name')}>Name</label>
          <input
            id={id('name')}
            class="mono"
            required
            autoComplete="off"
            spellcheck={false}
            autoCapitalize="none"
            value={name}
            aria-describedby={id('name-hint')}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <p id={id('name-hint')} class="hint">
            Lowercase letters, digits, <code>.</code>, <code>_</code> and <code>-</code>, up to 63; it does not change later.
          </p>
        </div>
      )}
      <div class="field">
        <label for={id('direction')}>Direction</label>
        <select id={id('direction')} value={direction} onChange={(e) => setDirection(e.currentTarget.value as 'pull' | 'push')}>
          <option value="pull">Pull: from the remote into berth</option>
          <option value="push">Push: from berth to the remote</option>
        </select>
      </div>
      <fieldset>
        <legend>Remote registry</legend>
        <div class="field">
          <label for={id('url')}>Remote URL</label>
          <input
            id={id('url')}
            class="mono"
            type="url"
            required
            autoComplete="off"
            spellcheck={false}
            placeholder="https://registry.example.com"
            value={url}
            aria-describedby={id('url-hint')}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          <p id={id('url-hint')} class="hint">
            <code>http(s)://host[:port]</code>, no path. Plain HTTP only to this machine unless insecure is ticked.
          </p>
        </div>
        <div class="form-row">
          <div class="field">
            <label for={id('username')}>Username</label>
            <input id={id('username')} autoComplete="off" spellcheck={false} autoCapitalize="none" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for={id('password')}>Password</label>
            <input
              id={id('password')}
              type="password"
              autoComplete="new-password"
              value={password}
              placeholder={keeps ? 'Kept (leave empty to keep it)' : ''}
              aria-describedby={id('password-hint')}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </div>
        </div>
        <p id={id('password-hint')} class="hint">
          {passwordHint}
        </p>
        <label class="checkbox">
          <input type="checkbox" checked={insecure} onChange={(e) => setInsecure(e.currentTarget.checked)} /> Insecure: plain HTTP, or HTTPS without checking its certificate, to a
          host that is not this machine
        </label>
        <div class="field">
          <label for={id('prefix')}>Remote prefix (optional)</label>
          <input id={id('prefix')} class="mono" spellcheck={false} autoCapitalize="none" value={prefix} aria-describedby={id('prefix-hint')} onInput={(e) => setPrefix(e.currentTarget.value)} />
          <p id={id('prefix-hint')} class="hint">
            Put before each repository&apos;s name at the remote: with <code>mirror</code>, <code>lib/app</code> here is <code>mirror/lib/app</code> there.
          </p>
        </div>
      </fieldset>
      <fieldset>
        <legend>What it copies</legend>
        <div class="field">
          <label for={id('repositories')}>Repositories</label>
          <textarea id={id('repositories')} class="mono" rows={3} spellcheck={false} value={repositories} aria-describedby={id('patterns-hint')} onInput={(e) => setRepositories(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for={id('tags')}>Tags</label>
          <textarea id={id('tags')} class="mono" rows={3} spellcheck={false} value={tags} aria-describedby={id('patterns-hint')} onInput={(e) => setTags(e.currentTarget.value)} />
        </div>
        <p id={id('patterns-hint')} class="hint">
          Patterns separated by commas or lines, names here: <code>*</code> is any run of characters (<code>/</code> too), <code>?</code> one. Empty: every one
          (<code>*</code>).
        </p>
        <div class="field">
          <label for={id('platforms')}>Platforms (optional)</label>
          <input
            id={id('platforms')}
            class="mono"
            spellcheck={false}
            autoCapitalize="none"
            placeholder="linux/amd64, linux/arm64"
            value={platforms}
            aria-describedby={id('platforms-hint')}
            onInput={(e) => setPlatforms(e.currentTarget.value)}
          />
          <p id={id('platforms-hint')} class="hint">
            <code>os/architecture[/variant]</code>, separated by commas: of a multi-platform image, only these platforms&apos; images, in an index of their own.
            Empty: every platform. Single-platform images are copied as they are.
          </p>
        </div>
      </fieldset>
      <fieldset>
        <legend>When it runs</legend>
        <div class="field">
          <label for={id('schedule')}>Schedule (cron, UTC)</label>
          <input id={id('schedule')} class="mono" spellcheck={false} placeholder="0 3 * * *" value={schedule} aria-describedby={id('schedule-hint')} onInput={(e) => setSchedule(e.currentTarget.value)} />
          <p id={id('schedule-hint')} class="hint">
            Five fields (minute hour day month weekday), or six with seconds first. Empty: by hand only.
          </p>
        </div>
        {direction === 'push' && (
          <label class="checkbox">
            <input type="checkbox" checked={onpush} onChange={(e) => setOnpush(e.currentTarget.checked)} /> On push: copy each matching tag as it is pushed here
          </label>
        )}
      </fieldset>
      <fieldset>
        <legend>How it copies</legend>
        <label class="checkbox">
          <input type="checkbox" checked={deletes} onChange={(e) => setDeletes(e.currentTarget.checked)} /> Deletes: tags the source no longer has (within the filters) are
          deleted at the destination
        </label>
        <div class="form-row">
          <div class="field">
            <label for={id('parallel')}>Blobs at once</label>
            <input id={id('parallel')} type="number" min={1} max={32} step={1} value={parallel} onInput={(e) => setParallel(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for={id('concurrency')}>Images at once</label>
            <input id={id('concurrency')} type="number" min={1} max={32} step={1} value={concurrency} onInput={(e) => setConcurrency(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for={id('bandwidth')}>Bandwidth limit</label>
            <input id={id('bandwidth')} class="mono" spellcheck={false} placeholder="50MiB" value={bandwidth} aria-describedby={id('bandwidth-hint')} onInput={(e) => setBandwidth(e.currentTarget.value)} />
          </div>
        </div>
        <p id={id('bandwidth-hint')} class="hint">
          Bytes a second for a run, all its blobs together: <code>50MiB</code>, <code>10MB</code> or a number of bytes (at least 1KiB). Empty: no limit.
        </p>
      </fieldset>
      <FormActions form={form} submit={editing ? 'Save rule' : 'Add rule'}>
        <button type="button" class="button secondary" disabled={form.busy} onClick={onCancel}>
          Cancel
        </button>
      </FormActions>
    </form>
  );
}
