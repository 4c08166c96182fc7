/** An image manifest's layers, configuration and history. */
import type { Descriptor, HistoryEntry, ImageConfig } from '../api/types.ts';
import { NumHeader, Table } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { formatBytes, shortDigest } from '../lib/format.ts';

export function LayersTable({ layers }: { layers: Descriptor[] }) {
  if (layers.length === 0) return <p class="empty">No layers.</p>;
  return (
    <Table
      head={
        <>
          <NumHeader>#</NumHeader>
          <th scope="col">Digest</th>
          <th scope="col">Media type</th>
          <NumHeader>Size</NumHeader>
        </>
      }
    >
      {layers.map((layer, i) => (
        <tr key={`${i}-${layer.digest}`}>
          <th scope="row" class="num">
            {i + 1}
          </th>
          <td class="nowrap">
            <code title={layer.digest}>{shortDigest(layer.digest)}</code>
          </td>
          <td>
            <code>{layer.mediaType}</code>
          </td>
          <td class="num">{formatBytes(layer.size)}</td>
        </tr>
      ))}
    </Table>
  );
}

function Chips({ items }: { items: string[] | undefined }) {
  if (items === undefined || items.length === 0) return <span>–</span>;
  return (
    <ul class="chip-list">
      {items.map((item, i) => (
        <li key={i}>{item}</li>
      ))}
    </ul>
  );
}

/** An exec-form command as a shell would read it: plain words bare, the others quoted. */
function command(words: string[] | undefined): string {
  if (words === undefined || words.length === 0) return '–';
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w))).join(' ');
}

export function ConfigList({ config }: { config: ImageConfig }) {
  const labels = Object.entries(config.labels ?? {});
  return (
    <dl class="facts">
      <dt>Entrypoint</dt>
      <dd>
        <code title={config.entrypoint && JSON.stringify(config.entrypoint)}>{command(config.entrypoint)}</code>
      </dd>
      <dt>Cmd</dt>
      <dd>
        <code title={config.cmd && JSON.stringify(config.cmd)}>{command(config.cmd)}</code>
      </dd>
      <dt>Env</dt>
      <dd>
        <Chips items={config.env} />
      </dd>
      <dt>Working dir</dt>
      <dd>{config.workingDir ? <code>{config.workingDir}</code> : '–'}</dd>
      <dt>User</dt>
      <dd>{config.user ? <code>{config.user}</code> : '–'}</dd>
      <dt>Exposed ports</dt>
      <dd>
        <Chips items={config.exposedPorts} />
      </dd>
      <dt>Labels</dt>
      <dd>
        <Chips items={labels.map(([k, v]) => `${k}=${v}`)} />
      </dd>
      <dt>Volumes</dt>
      <dd>
        <Chips items={config.volumes} />
      </dd>
      {config.stopSignal !== undefined && (
        <>
          <dt>Stop signal</dt>
          <dd>
            <code>{config.stopSignal}</code>
          </dd>
        </>
      )}
      <dt>Platform</dt>
      <dd>{[config.os, config.architecture, config.variant].filter(Boolean).join('/') || '–'}</dd>
      {config.created !== undefined && (
        <>
          <dt>Created</dt>
          <dd>
            <Time at={config.created} />
          </dd>
        </>
      )}
      {config.author !== undefined && config.author !== '' && (
        <>
          <dt>Author</dt>
          <dd>{config.author}</dd>
        </>
      )}
      <dt>Config digest</dt>
      <dd>
        <code>{config.digest}</code>
      </dd>
    </dl>
  );
}

export function HistoryTable({ history }: { history: HistoryEntry[] }) {
  if (history.length === 0) return <p class="empty">No history recorded.</p>;
  return (
    <Table
      head={
        <>
          <th scope="col">Created</th>
          <th scope="col">Created by</th>
          <th scope="col">Layer</th>
        </>
      }
    >
      {history.map((h, i) => (
        <tr key={i}>
          <td class="nowrap">
            <Time at={h.created} />
          </td>
          <td>
            <div class="history-command">{h.createdBy ?? h.comment ?? '–'}</div>
          </td>
          <td class="nowrap">{h.emptyLayer ? 'empty' : 'yes'}</td>
        </tr>
      ))}
    </Table>
  );
}
