import i18next from 'i18next';
import { describe, expect, it } from 'vitest';
import { en } from '../i18n/en';
import { zhCN } from '../i18n/zh-CN';
import { explain } from './allocation-explain';

async function translator(language: 'en' | 'zh-CN') {
  const instance = i18next.createInstance();
  await instance.init({ resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } }, lng: language, fallbackLng: 'en', interpolation: { escapeValue: false } });
  return instance.t.bind(instance) as unknown as (key: string, values?: Record<string, unknown>) => string;
}

const excludedItem = {
  kind: 'frozen tissue',
  outcome: 'partial',
  allocated: '50',
  reason: 'consent-scope-excluded',
  params: { left: '30' },
  explanation: 'received 62% of the request (server English)',
  exclusions: [
    { sampleIdentifier: 'PB-0007', reason: 'use-not-consented', uses: ['genetic-analysis'] },
    { sampleIdentifier: 'PB-0009', reason: 'consent-withdrawn', uses: [] },
  ],
};

describe('allocation explanations in the reader’s language', () => {
  it('names each sample the donors’ consent keeps from the application, and why, in English', async () => {
    const text = explain(await translator('en'), excludedItem, '80', 'mg');
    expect(text).toContain('Receives 50 of 80');
    expect(text).toContain('the donors’ consent keeps from this application');
    expect(text).toContain('PB-0007 (not consented: genetic analysis)');
    expect(text).toContain('PB-0009 (consent withdrawn)');
    expect(text).not.toContain('server English');
  });

  it('says the same in Chinese', async () => {
    const text = explain(await translator('zh-CN'), excludedItem, '80', 'mg');
    expect(text).toContain('PB-0007（未同意：基因分析）');
    expect(text).toContain('PB-0009（已撤回同意）');
    expect(text).toContain('知情同意范围不允许用于本申请');
  });

  it('adds the exclusions to an item limited by something else, and keeps full items short', async () => {
    const t = await translator('en');
    const outweighed = explain(t, { ...excludedItem, reason: 'outweighed', exclusions: [excludedItem.exclusions[0]!] }, '80', 'mg');
    expect(outweighed).toMatch(/went to requests worth more in total\. Excluded by donor consent: PB-0007/);
    expect(explain(t, { ...excludedItem, outcome: 'full', allocated: '80', reason: 'full', exclusions: [] }, '80', 'mg')).toBe('Receives the full request (80 mg).');
  });

  it('falls back to the server’s sentence for a reason it does not know', async () => {
    expect(explain(await translator('zh-CN'), { ...excludedItem, reason: 'something-new' }, '80', 'mg')).toBe('received 62% of the request (server English)');
  });
});
