/**
 * GET /debug/metrics, a page of the demo only: portcullis' counters and histograms as the in-memory
 * reader of telemetry.ts has them now. Attributes are names and codes (grant, outcome, reason, an
 * IdP's host), never a token, a user or a claim, but a real app would still not show its metrics to
 * everyone: this page is for a demo on your own machine.
 */

import type { MetricPoint, MetricRow } from './telemetry.js';
import { esc, layout, type PageContext } from './views.js';

function attributes(point: MetricPoint): string {
  const pairs = Object.entries(point.attributes);
  return pairs.length === 0
    ? '<i>none</i>'
    : pairs.map(([k, v]) => `<code>${esc(k)}=${esc(v)}</code>`).join(' ');
}

function value(point: MetricPoint, unit: string): string {
  if (typeof point.value === 'number') return esc(point.value);
  const { count, sum } = point.value;
  const mean =
    sum === undefined || count === 0 ? '' : `, mean ${esc((sum / count).toPrecision(3))} ${esc(unit)}`;
  return `${esc(count)} recorded${mean}`;
}

function table(rows: MetricRow[]): string {
  const body = rows
    .flatMap((row) =>
      row.points.map(
        (point, i) =>
          `<tr>${i === 0 ? `<th rowspan="${row.points.length}"><code>${esc(row.name)}</code><br><small>${esc(row.description)}</small></th>` : ''}<td>${attributes(point)}</td><td class="value">${value(point, row.unit)}</td></tr>`,
      ),
    )
    .join('\n');
  return `<table id="metrics" class="metrics"><thead><tr><th>Metric</th><th>Attributes</th><th>Value</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** The page: the metrics, or how to turn them on, or that nothing was recorded yet. */
export function metricsPage(ctx: PageContext, rows: MetricRow[] | undefined): string {
  const recorded = rows?.filter((row) => row.name.startsWith('portcullis.') || row.name.startsWith('http.'));
  const content =
    recorded === undefined
      ? `<p id="metrics-off">Telemetry is off. Start the demo with <code>OTEL=console npm run demo</code>: spans are
printed in its terminal, and this page shows the metrics.</p>`
      : recorded.length === 0
        ? '<p id="metrics-empty">Nothing recorded yet: log in, call the API, run the worker, then reload.</p>'
        : table(recorded);
  return layout(
    ctx,
    `<h1>Metrics</h1><p>portcullis' OpenTelemetry metrics, read from an in-memory reader when this page loads
(<a href="https://github.com/portcullis-js/portcullis/blob/main/docs/observability.md">what each one counts</a>).</p>
${content}<p><a href="/">Home</a></p>`,
  );
}
