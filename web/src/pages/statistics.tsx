import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { api, type Answer } from '../api/client';
import { useAuth } from '../auth';
import { SelectField } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { PageHeader, Quantity } from '../components/ui';
import { useLoad } from '../components/use-load';
import { labelColumn } from '../lib/chart-layout';
import type { ChartOption } from '../lib/charts';

/** Room for institution and research-direction names beside the bars (cards are about 300 px wide). */
const LABEL_WIDTH = 120;

type CallStatistics = Answer<'/api/v1/calls/{id}/statistics', 'get'>;

// Start fetching the chart code as soon as this page's code runs, in parallel with its data.
const charts = import('../lib/charts');

export default function StatisticsPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const [params, setParams] = useSearchParams();
  // The public catalog lists every batch past draft: the statistics page works signed out.
  const [calls, reloadCalls] = useLoad((signal) => api.get('/api/v1/catalog', { signal }), [user?.id]);
  const items = calls.status === 'ok' ? calls.data.calls : [];
  const linked = params.get('call');
  const selected = linked ?? items[0]?.id ?? '';
  return (
    <>
      <PageHeader title={t('stats.title')} lead={t('stats.lead')} />
      {calls.status === 'loading' && !linked && <Loading />}
      {calls.status === 'error' && <ErrorState error={calls.error} onRetry={reloadCalls} />}
      {calls.status === 'ok' && items.length === 0 && <Empty>{t('stats.noCalls')}</Empty>}
      {items.length > 1 && (
        <div className="toolbar">
          <SelectField label={t('stats.call')} value={selected} onChange={(value) => setParams({ call: value })}>
            {items.map((call) => (
              <option key={call.id} value={call.id}>
                {call.title}
              </option>
            ))}
          </SelectField>
        </div>
      )}
      {/* A link to one batch shows its figures without waiting for the list of batches. */}
      {selected && calls.status !== 'error' && <CallFigures key={selected} callId={selected} />}
    </>
  );
}

function CallFigures({ callId }: { callId: string }) {
  const { t } = useTranslation();
  const [state, reload] = useLoad((signal) => api.get('/api/v1/calls/{id}/statistics', { path: { id: callId }, signal }), [callId]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={reload} />;
  const stats = state.data;
  const unit = t(`units.${stats.distributed.unit}`);
  return (
    <>
      <p className="summary-sentence">
        {t('stats.summary', {
          applications: stats.applications,
          institutions: stats.applicantInstitutions,
          approved: stats.approved,
          approvedInstitutions: stats.approvedInstitutions,
          quantity: `${stats.distributed.quantity} ${unit}`,
        })}
      </p>
      <ul className="kpis" data-testid="kpis">
        <Kpi label={t('stats.applications')} value={stats.applications} />
        <Kpi label={t('stats.applicantInstitutions')} value={stats.applicantInstitutions} />
        <Kpi label={t('stats.approved')} value={stats.approved} />
        <Kpi label={t('stats.approvedInstitutions')} value={stats.approvedInstitutions} />
        <li className="kpi kpi-accent">
          <span className="kpi-label">{t('stats.distributed')}</span>
          <span className="kpi-value">
            <Quantity value={stats.distributed.quantity} unit={stats.distributed.unit} />
          </span>
        </li>
      </ul>
      <div className="layout-2">
        <InstitutionChart stats={stats} />
        <DirectionChart stats={stats} />
        <KindChart stats={stats} />
        <DistributedByInstitutionChart stats={stats} />
      </div>
    </>
  );
}

function Kpi({ label, value }: { label: string; value: number }) {
  return (
    <li className="kpi">
      <span className="kpi-label">{label}</span>
      <span className="kpi-value">{value}</span>
    </li>
  );
}

/** A chart drawn with ECharts, loaded on demand; the numbers are also in a table for screen readers. */
function Chart({ option, label }: { option: ChartOption; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const json = JSON.stringify(option);
  useEffect(() => {
    let dispose: (() => void) | undefined;
    let cancelled = false;
    void charts.then(({ drawChart }) => {
      if (!cancelled && ref.current) dispose = drawChart(ref.current, JSON.parse(json) as ChartOption);
    });
    return () => {
      cancelled = true;
      dispose?.();
    };
  }, [json]);
  return <div className="chart" ref={ref} role="img" aria-label={label} />;
}

function InstitutionChart({ stats }: { stats: CallStatistics }) {
  const { t } = useTranslation();
  const rows = stats.byInstitution ?? [];
  const names = rows.map((row) => row.name);
  return (
    <section className="card" aria-labelledby="by-institution">
      <h2 id="by-institution">{t('stats.byInstitution')}</h2>
      {!stats.byInstitution ? (
        <p className="muted">{t('statsExtra.noByInstitutionYet')}</p>
      ) : rows.length === 0 ? (
        <p className="muted">{t('stats.noApplications')}</p>
      ) : (
        <>
          <Chart
            label={t('stats.byInstitution')}
            option={{
              grid: labelColumn(LABEL_WIDTH).grid,
              legend: { top: 0, type: 'scroll' },
              tooltip: { trigger: 'axis' },
              xAxis: { type: 'value', minInterval: 1 },
              yAxis: { type: 'category', data: names, inverse: true, axisLabel: labelColumn(LABEL_WIDTH).axisLabel },
              series: [
                { name: t('stats.series.applications'), type: 'bar', data: rows.map((row) => row.applications) },
                { name: t('stats.series.approved'), type: 'bar', data: rows.map((row) => row.approved) },
              ],
            }}
          />
          <details>
            <summary>{t('stats.table')}</summary>
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">{t('stats.institution')}</th>
                  <th scope="col" className="num">{t('stats.series.applications')}</th>
                  <th scope="col" className="num">{t('stats.series.approved')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => (
                  <tr key={row.institutionId}>
                    <th scope="row">{names[index]}</th>
                    <td className="num">{row.applications}</td>
                    <td className="num">{row.approved}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

function DirectionChart({ stats }: { stats: CallStatistics }) {
  const { t } = useTranslation();
  const rows = stats.byResearchDirection;
  return (
    <section className="card" aria-labelledby="by-direction">
      <h2 id="by-direction">{t('stats.byDirection')}</h2>
      {rows.length === 0 ? (
        <p className="muted">{t('stats.noApplications')}</p>
      ) : (
        <>
          <Chart
            label={t('stats.byDirection')}
            option={{
              grid: labelColumn(LABEL_WIDTH).grid,
              legend: { top: 0, type: 'scroll' },
              tooltip: { trigger: 'axis' },
              xAxis: { type: 'value', minInterval: 1 },
              yAxis: { type: 'category', data: rows.map((row) => row.direction), inverse: true, axisLabel: labelColumn(LABEL_WIDTH).axisLabel },
              series: [
                { name: t('stats.series.applications'), type: 'bar', data: rows.map((row) => row.applications) },
                { name: t('stats.series.approved'), type: 'bar', data: rows.map((row) => row.approved) },
              ],
            }}
          />
          <details>
            <summary>{t('stats.table')}</summary>
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">{t('stats.direction')}</th>
                  <th scope="col" className="num">{t('stats.series.applications')}</th>
                  <th scope="col" className="num">{t('stats.series.approved')}</th>
                  <th scope="col" className="num">{t('stats.series.distributed')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.direction}>
                    <th scope="row">{row.direction}</th>
                    <td className="num">{row.applications}</td>
                    <td className="num">{row.approved}</td>
                    <td className="num">
                      <Quantity value={row.distributed} unit={stats.distributed.unit} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

function KindChart({ stats }: { stats: CallStatistics }) {
  const { t } = useTranslation();
  const kinds = Object.entries(stats.distributed.byKind).map(([kind, quantity]) => ({ kind, quantity }));
  const unit = t(`units.${stats.distributed.unit}`);
  return (
    <section className="card" aria-labelledby="by-kind">
      <h2 id="by-kind">{t('stats.byKind')}</h2>
      {kinds.length === 0 ? (
        <p className="muted">{t('stats.noneDistributed')}</p>
      ) : (
        <>
          {/* Bar lengths only need a float; every figure shown as text is the exact decimal string. */}
          <Chart
            label={t('stats.byKind')}
            option={{
              grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
              tooltip: { trigger: 'axis' },
              xAxis: { type: 'category', data: kinds.map((row) => row.kind) },
              yAxis: { type: 'value', name: unit },
              series: [
                {
                  name: t('stats.series.distributed'),
                  type: 'bar',
                  barMaxWidth: 48,
                  data: kinds.map((row) => ({ value: Number(row.quantity), label: { show: true, position: 'top', formatter: `${row.quantity} ${unit}` } })),
                },
              ],
            }}
          />
          <table className="table table-compact">
            <tbody>
              {kinds.map((row) => (
                <tr key={row.kind}>
                  <th scope="row">{row.kind}</th>
                  <td className="num">
                    <Quantity value={row.quantity} unit={stats.distributed.unit} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** What each institution received, from the executed allocations: exact strings in the table, bars only for the eye. */
function DistributedByInstitutionChart({ stats }: { stats: CallStatistics }) {
  const { t } = useTranslation();
  const rows = (stats.byInstitution ?? []).filter((row) => !/^0(\.0+)?$/.test(row.distributed)).sort((a, b) => Number(b.distributed) - Number(a.distributed));
  const unit = t(`units.${stats.distributed.unit}`);
  if (!stats.byInstitution || Object.keys(stats.distributed.byKind).length === 0) return null;
  const kinds = Object.keys(stats.distributed.byKind);
  return (
    <section className="card" aria-labelledby="distributed-by-institution">
      <h2 id="distributed-by-institution">{t('statsExtra.distributedByInstitution')}</h2>
      <Chart
        label={t('statsExtra.distributedByInstitution')}
        option={{
          grid: labelColumn(LABEL_WIDTH).grid,
          legend: { top: 0, type: 'scroll' },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'value', name: unit },
          yAxis: { type: 'category', data: rows.map((row) => row.name), inverse: true, axisLabel: labelColumn(LABEL_WIDTH).axisLabel },
          series: kinds.map((kind) => ({ name: kind, type: 'bar', stack: 'total', data: rows.map((row) => Number(row.distributedByKind[kind] ?? '0')) })),
        }}
      />
      <table className="table table-compact">
        <caption className="visually-hidden">{t('statsExtra.distributedByInstitution')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('stats.institution')}</th>
            {kinds.map((kind) => (
              <th key={kind} scope="col" className="num">
                {kind}
              </th>
            ))}
            <th scope="col" className="num">{t('stats.series.distributed')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.institutionId}>
              <th scope="row">{row.name}</th>
              {kinds.map((kind) => (
                <td key={kind} className="num">
                  {row.distributedByKind[kind] ? <Quantity value={row.distributedByKind[kind]} unit={stats.distributed.unit} /> : '—'}
                </td>
              ))}
              <td className="num">
                <Quantity value={row.distributed} unit={stats.distributed.unit} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
