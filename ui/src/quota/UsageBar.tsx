/** A namespace's bytes against its limit: a bar, and the figures in words. */
import { formatBytes, formatNumber } from '../lib/format.ts';
import type { NamespaceQuota } from '../api/quotas.ts';
import './quota.css';

export function UsageBar({ quota }: { quota: NamespaceQuota }) {
  if (quota.limit === 0) {
    return <p class="quota-text">{formatBytes(quota.used)} used, no limit</p>;
  }
  const ratio = quota.used / quota.limit;
  const level = ratio >= 1 ? 'full' : ratio >= 0.9 ? 'high' : 'ok';
  return (
    <div class="quota-usage">
      <div
        class={`quota-bar quota-${level}`}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={quota.limit}
        aria-valuenow={Math.min(quota.used, quota.limit)}
        aria-valuetext={`${formatBytes(quota.used)} of ${formatBytes(quota.limit)}`}
        aria-label={`Storage of ${quota.namespace}`}
      >
        <span style={{ width: `${Math.min(100, ratio * 100).toFixed(1)}%` }} />
      </div>
      <p class="quota-text" title={`${formatNumber(quota.used)} of ${formatNumber(quota.limit)} bytes`}>
        {formatBytes(quota.used)} of {formatBytes(quota.limit)} used{ratio >= 1 ? ': pushes that add to it are refused' : ''}
      </p>
    </div>
  );
}
