/** A namespace's bytes against its limit: a bar, and the figures in words. */
import { formatBytes, formatNumber } from '../lib/format.ts';
import type { NamespaceQuota } from '../api/quotas.ts';
import './quota.css';

export function UsageBar({ quota }: { quota: NamespaceQuota }) {
  if (quota.limit === 0) {
    return <p class="quota-text">{formatBytes(quota.used)} used, no limit</p>;
  }
  const ratio = quota.used / quota.limit;
  return (
    <div class="quota-usage">
      {/* a native meter: coloured by the browser past `high`, and no inline style for the CSP to refuse */}
      <meter
        class="quota-bar"
        min={0}
        max={quota.limit}
        value={Math.min(quota.used, quota.limit)}
        low={quota.limit * 0.75}
        high={quota.limit * 0.9}
        optimum={0}
        aria-label={`Storage of ${quota.namespace}`}
        aria-valuetext={`${formatBytes(quota.used)} of ${formatBytes(quota.limit)}`}
      />
      <p class="quota-text" title={`${formatNumber(quota.used)} of ${formatNumber(quota.limit)} bytes`}>
        {formatBytes(quota.used)} of {formatBytes(quota.limit)} used{ratio >= 1 ? ': pushes that add to it are refused' : ''}
      </p>
    </div>
  );
}
