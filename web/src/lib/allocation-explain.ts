/**
 * An allocation item's explanation in the reader's language, built from the
 * machine reason, its parameters and the consent exclusions the server sends;
 * the server's English sentence for a reason this page does not know.
 */
type Translate = (key: string, values?: Record<string, unknown>) => string;

const reasons = ['not-offered', 'kind-exhausted', 'institution-cap', 'consent-scope-excluded', 'cutting', 'outweighed'];
export type Exclusion = { sampleIdentifier: string; reason: string; uses: string[] };

/** The item's explanation in the page's language, from the machine reason and its parameters; the server's English otherwise. */
export function explain(
  t: Translate,
  item: { kind: string; outcome: string; allocated: string; reason: string; params: Record<string, string | number>; explanation: string; exclusions?: Exclusion[] },
  requested: string,
  unit: string,
): string {
  const u = t(`units.${unit}`, { defaultValue: unit });
  const values = { ...item.params, kind: item.kind, unit: u, requested, allocated: item.allocated };
  if (!reasons.includes(item.reason) && item.outcome !== 'full') return item.explanation;
  const head =
    item.outcome === 'full' ? t('allocation.explain.full', values)
    : `${item.outcome === 'partial' ? t('allocation.explain.partial', values) : t('allocation.explain.none', values)}${t('allocation.explain.because')}${t(`allocation.explain.${item.reason}`, values)}`;
  const excluded = item.exclusions ?? [];
  if (excluded.length === 0) return head;
  const samples = excluded
    .map((e) => t(`allocation.explain.exclusion.${e.reason}`, { sample: e.sampleIdentifier, uses: e.uses.map((use) => t(`allocation.explain.use.${use}`, { defaultValue: use })).join(', ') }))
    .join(', ');
  return `${head} ${t('allocation.explain.excluded', { samples })}`;
}
