import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, ApiError, upload, type Answer } from '../api/client';
import { Field, SelectField } from '../components/field';
import { ErrorState } from '../components/states';
import { PageHeader, Progress, Quantity } from '../components/ui';
import { useLoad } from '../components/use-load';

type Job = Answer<'/api/v1/jobs/{id}', 'get'>;
const fields = ['identifier', 'kind', 'quantity', 'parent', 'location'] as const;

interface RowError {
  row: number;
  column?: string;
  message: string;
}
interface ImportResult {
  collectionId: string;
  dryRun: boolean;
  imported: number;
  valid: number;
  skipped: number;
  quantity: string;
  unit: string;
  byKind: Record<string, { samples: number; quantity: string }>;
  errorCount: number;
  errors: RowError[];
}

/**
 * Bulk registration from CSV or XLSX: upload with progress, then the server's
 * job (validating, importing) is followed until it ends. Every bad row is
 * listed with its row and column; nothing is imported while any row is bad.
 */
export default function ImportPage() {
  const { t } = useTranslation();
  const [collections] = useLoad((signal) => api.get('/api/v1/collections', { query: { limit: 100 }, signal }), []);
  const [collectionId, setCollectionId] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [mapping, setMapping] = useState<Record<string, string>>({ identifier: 'identifier', kind: 'kind', quantity: 'quantity', parent: '', location: '' });
  const [dryRun, setDryRun] = useState(true);
  const [sent, setSent] = useState<number | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const list = collections.status === 'ok' ? collections.data.items : [];
  const chosen = collectionId || list[0]?.id || '';
  const running = sent !== null || (job !== null && (job.state === 'queued' || job.state === 'running'));

  function follow(id: string) {
    api.get('/api/v1/jobs/{id}', { path: { id } }).then(
      (next) => {
        setJob(next);
        if (next.state === 'queued' || next.state === 'running') timer.current = setTimeout(() => follow(id), 400);
      },
      (caught: unknown) => setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', '')),
    );
  }

  async function start(event: FormEvent) {
    event.preventDefault();
    if (!file) {
      setError(new ApiError(400, 'local', '', t('import.chooseFile'), [{ field: 'file', message: t('import.chooseFile') }]));
      return;
    }
    setError(null);
    setJob(null);
    const form = new FormData();
    form.set('collectionId', chosen);
    form.set('mapping', JSON.stringify(Object.fromEntries(Object.entries(mapping).filter(([, column]) => column.trim() !== ''))));
    form.set('dryRun', String(dryRun));
    form.set('file', file, file.name);
    setSent(0);
    try {
      const accepted = await upload<{ jobId: string }>('/api/v1/imports', form, null, setSent);
      setSent(null);
      follow(accepted.jobId);
    } catch (caught) {
      setSent(null);
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'network', 'network', ''));
    }
  }

  const result = (job?.result ?? null) as ImportResult | null;
  return (
    <>
      <PageHeader title={t('import.title')} lead={t('import.lead')} />
      {collections.status === 'error' && <ErrorState error={collections.error} />}
      <form className="card" onSubmit={start} noValidate>
        {error && !error.errors.length && (
          <div className="form-error" role="alert">
            {error.status === 0 ? t('state.network') : error.detail || error.title}
          </div>
        )}
        <div className="filters">
          <SelectField label={t('samples.collection')} value={chosen} onChange={setCollectionId} error={error?.field('collectionId')}>
            {list.map((collection) => (
              <option key={collection.id} value={collection.id}>
                {collection.code} · {collection.name}
              </option>
            ))}
          </SelectField>
          <div className="field">
            <label htmlFor="import-file">{t('import.file')}</label>
            <input id="import-file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" onChange={(e) => setFile(e.target.files?.[0] ?? null)} aria-invalid={error?.field('file') ? true : undefined} aria-describedby={error?.field('file') ? 'import-file-error' : undefined} />
            {error?.field('file') && <small id="import-file-error" className="field-error">{error.field('file')}</small>}
          </div>
        </div>
        <fieldset>
          <legend>{t('import.mapping')}</legend>
          <p className="muted small">{t('import.mappingLead')}</p>
          <div className="filters">
            {fields.map((field) => (
              <Field key={field} label={t(`import.fields.${field}`)} value={mapping[field] ?? ''} onChange={(e) => setMapping({ ...mapping, [field]: e.target.value })} error={error?.field(`mapping.${field}`)} />
            ))}
          </div>
        </fieldset>
        <div className="field field-check">
          <input id="dry-run" type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} />
          <label htmlFor="dry-run">{t('import.dryRun')}</label>
        </div>
        <button type="submit" className="button button-primary" disabled={running || !chosen}>
          {dryRun ? t('import.check') : t('import.run')}
        </button>
      </form>
      {sent !== null && <Progress value={sent} label={t('import.uploading')} />}
      {job && (job.state === 'queued' || job.state === 'running') && (
        <section className="card" aria-live="polite">
          <p>{job.message ?? t('import.working')}</p>
          <Progress value={job.total ? job.done / job.total : 0} label={t('import.progress')} />
        </section>
      )}
      {job && result && (job.state === 'succeeded' || job.state === 'failed') && <ImportReport result={result} />}
      {job && !result && job.state === 'failed' && (
        <div className="form-error" role="alert">
          {(job.error as { message?: string } | null)?.message ?? t('state.error')}
        </div>
      )}
    </>
  );
}

function ImportReport({ result }: { result: ImportResult }) {
  const { t } = useTranslation();
  const bad = result.errorCount > 0;
  return (
    <section className={`card ${bad ? 'card-bad' : 'card-ok'}`} aria-labelledby="import-result" role="status">
      <h2 id="import-result">{bad ? t('import.bad', { count: result.errorCount }) : result.dryRun ? t('import.wouldImport', { count: result.valid }) : t('import.imported', { count: result.imported })}</h2>
      {!bad && (
        <p>
          {t('import.total')}: <Quantity value={result.quantity} unit={result.unit} />
          {result.skipped > 0 && <> · {t('import.skipped', { count: result.skipped })}</>}
        </p>
      )}
      {!bad && result.dryRun && <p>{t('import.nowRun')}</p>}
      {!bad && !result.dryRun && (
        <p>
          <Link to={`/samples?collectionId=${result.collectionId}`}>{t('import.see')}</Link>
        </p>
      )}
      {bad && (
        <>
          <p>{t('import.fixRows')}</p>
          <div className="table-wrap">
            <table className="table table-compact">
              <caption className="visually-hidden">{t('import.rowErrors')}</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">{t('import.row')}</th>
                  <th scope="col">{t('import.column')}</th>
                  <th scope="col">{t('import.problem')}</th>
                </tr>
              </thead>
              <tbody>
                {result.errors.map((error, index) => (
                  <tr key={index}>
                    <th scope="row" className="num">{error.row}</th>
                    <td>{error.column ?? '—'}</td>
                    <td>{error.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {result.errorCount > result.errors.length && <p className="muted">{t('import.moreErrors', { count: result.errorCount - result.errors.length })}</p>}
        </>
      )}
    </section>
  );
}
