/**
 * Replication put together for the composition root (main.ts) and the CLI: the service over the
 * config's and the API's rules (its schedules start once berth listens), its two ends, its
 * completion event and metrics, and the hook that copies on push.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { ReplicationRule } from '../config/replication-schema.ts';
import { RegistryClient } from '../copy/registry-client.ts';
import { SYSTEM_ACTORS, systemRequest } from '../events/context.ts';
import type { EventSink } from '../events/sink.ts';
import type { Registry } from '../registry/registry.ts';
import type { Backend } from '../meta/backend.ts';
import { sealingKeySource } from '../secrets/key-source.ts';
import { SecretBox } from '../secrets/secret-box.ts';
import type { ReplicationRun } from './model.ts';
import { RuleBook } from './rule-book.ts';
import { Replication } from './service.ts';
import { LocalSide, RemoteSide } from './sides.ts';

/** A client of the rule's remote: Basic or a token with its credentials; TLS for https://, plain HTTP for http:// (loopback, or `insecure`). */
export function remoteClient(rule: ReplicationRule): RegistryClient {
  const url = new URL(rule.remote.url);
  const { username, password } = rule.remote;
  return new RegistryClient({
    host: url.host,
    ...(username !== undefined && password !== undefined && { credential: { kind: 'basic' as const, username, password } }),
    // the URL's scheme, as written: https is TLS (loopback too), http is plain (the schema allows it on loopback or with insecure)
    tls: url.protocol === 'https:',
  });
}

/**
 * `sink` that also tells replication of every tag pushed and every tag or manifest deleted (push
 * rules that follow them), after the sink has it.
 */
export function withReplicationHooks(sink: EventSink, hooks: () => Pick<Replication, 'pushed' | 'deleted'> | undefined): EventSink {
  return {
    manifestPushed: async (t, r) => {
      await sink.manifestPushed(t, r);
      hooks()?.pushed(t.repository, t.tag);
    },
    manifestPulled: (t, r) => sink.manifestPulled(t, r),
    manifestDeleted: async (t, r) => {
      await sink.manifestDeleted(t, r);
      hooks()?.deleted(t.repository, undefined);
    },
    blobPushed: (t, r) => sink.blobPushed(t, r),
    blobPulled: (t, r) => sink.blobPulled(t, r),
    blobMounted: (t, r) => sink.blobMounted(t, r),
    blobDeleted: (t, r) => sink.blobDeleted(t, r),
    tagDeleted: async (t, r) => {
      await sink.tagDeleted(t, r);
      hooks()?.deleted(t.repository, t.tag);
    },
    buildCompleted: (t, r) => sink.buildCompleted(t, r),
    replicationCompleted: (t, r) => sink.replicationCompleted(t, r),
  };
}

export interface ReplicationSetup {
  config: Config;
  /** Its runs and the rules made through the API or the CLI (their passwords sealed with berth's key). */
  backend: Pick<Backend, 'replication' | 'replicationRules' | 'sealingKey'>;
  registry: Registry;
  node: string;
  log: Logger;
  sink: EventSink;
  metrics?: { replicationRun(rule: string, status: string, counts: ReplicationRun['counts']): void } | undefined;
  now?: () => number;
}

export function createReplication(s: ReplicationSetup): Replication {
  const log = s.log.child({ component: 'replication' });
  return new Replication({
    book: new RuleBook({
      configured: s.config.replication.rules,
      store: s.backend.replicationRules,
      box: new SecretBox(sealingKeySource(s.config, s.backend)),
      log,
      ...(s.now !== undefined && { now: s.now }),
    }),
    store: s.backend.replication,
    node: s.node,
    local: () => new LocalSide(s.registry),
    remote: (rule) => new RemoteSide(remoteClient(rule)),
    log,
    ...(s.now !== undefined && { now: s.now }),
    ended: async (rule, run) => {
      s.metrics?.replicationRun(rule.name, run.status, run.counts);
      if (run.status === 'running') return;
      // a scope is repository:tag, or a repository alone (names and tags hold no ':')
      const [repository = '', tag] = run.scope === null ? [] : run.scope.split(':');
      await s.sink.replicationCompleted(
        {
          repository,
          ...(tag !== undefined && { tag }),
          replication: {
            rule: rule.name,
            run: run.id,
            direction: rule.direction,
            remote: rule.remote.url,
            trigger: run.trigger,
            status: run.status,
            ...run.counts,
            failures: run.failures.slice(0, 10),
            startedAt: new Date(run.startedAt).toISOString(),
            finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
          },
        },
        systemRequest(SYSTEM_ACTORS.replication),
      );
    },
  });
}
