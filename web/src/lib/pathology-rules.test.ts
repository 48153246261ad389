import { describe, expect, it } from 'vitest';
import * as server from '../../../src/core/consent.js';
import { diagnosisCodes, donorBody, donorCodeProblem, donorProblems, emptyDonor, emptySpecimen, specimenBody, specimenProblems, type SpecimenDraft } from './pathology-rules';

const specimen = (change: Partial<SpecimenDraft> = {}): SpecimenDraft => ({ ...emptySpecimen('block'), quantity: '12', ...change });

describe('donor registration checks', () => {
  it('accepts what the server accepts as a donor code, and refuses what it refuses', () => {
    for (const code of ['CQ-COVID-0042', 'D-1a2b', 'abc', 'P.001_x', '', 'ab', '110101199003071234', '12345', 'D123456789', 'Zhang San', '张三', `a${'b'.repeat(32)}`, '-abc']) {
      expect(donorCodeProblem(code) === undefined, code).toBe(server.donorCodeProblem(code) === undefined);
    }
    expect(donorCodeProblem('110101199003071234')?.key).toBe('register.err.codeLetter');
    expect(donorCodeProblem('D130012345678')?.key).toBe('register.err.codeDigits');
    expect(donorCodeProblem('Zhang San')?.key).toBe('register.err.codeFormat');
  });

  it('needs a code and a collection; checks the ICD-10 codes it is given', () => {
    expect(Object.keys(donorProblems(emptyDonor())).sort()).toEqual(['code', 'collectionId']);
    expect(donorProblems({ ...emptyDonor('c1'), code: 'CQ-0001', diagnoses: 'u07.1, J80' })).toEqual({});
    expect(donorProblems({ ...emptyDonor('c1'), code: 'CQ-0001', diagnoses: 'U07.1 pneumonia' }).diagnoses).toEqual({ key: 'register.err.icd10', values: { codes: 'PNEUMONIA' } });
    for (const code of ['U07.1', 'J80', 'J18.9', 'C34', 'j80', 'J8', '07.1', 'U07.12345']) {
      expect(diagnosisCodes(code).every((c) => server.icd10Pattern.test(c)), code).toBe(!donorProblems({ ...emptyDonor('c1'), code: 'CQ-1', diagnoses: code }).diagnoses);
    }
  });

  it('sends only what was filled in, the diagnoses as upper-case codes once each', () => {
    expect(donorBody({ code: ' CQ-0001 ', collectionId: 'c1', collectedOn: '', collectionSite: ' ', diagnoses: '' })).toEqual({ code: 'CQ-0001', collectionId: 'c1' });
    expect(donorBody({ code: 'CQ-0001', collectionId: 'c1', collectedOn: '2020-02-14', collectionSite: 'Pathology', diagnoses: 'u07.1，J80; u07.1' })).toEqual({
      code: 'CQ-0001',
      collectionId: 'c1',
      collectedOn: '2020-02-14',
      collectionSite: 'Pathology',
      diagnoses: ['U07.1', 'J80'],
    });
  });
});

describe('specimen registration checks', () => {
  it('needs a kind and a quantity in the collection’s scale', () => {
    expect(specimenProblems(specimen(), { scale: 0 })).toEqual({});
    expect(specimenProblems(specimen({ kind: '', quantity: '' }), { scale: 0 })).toEqual({ kind: { key: 'apply.err.kind' }, quantity: { key: 'apply.err.empty' } });
    expect(specimenProblems(specimen({ quantity: '1.5' }), { scale: 0 }).quantity?.key).toBe('apply.err.whole');
    expect(specimenProblems(specimen({ quantity: '0' }), { scale: 0 }).quantity?.key).toBe('apply.err.zero');
    expect(specimenProblems(specimen({ quantity: '1.5' }), { scale: 4 })).toEqual({});
  });

  it('checks the pre-analytical data: whole minutes, a temperature in range, a SPREC code', () => {
    const problems = specimenProblems(specimen({ coldIschaemiaMinutes: '12.5', storageTemperatureC: '-300', sprec: 'TIS-ARM', identifier: 'B 1' }), { scale: 0 });
    expect(problems).toEqual({
      coldIschaemiaMinutes: { key: 'register.err.integer' },
      storageTemperatureC: { key: 'register.err.range', values: { min: -273, max: 60 } },
      sprec: { key: 'register.err.sprec' },
      identifier: { key: 'register.err.spaces' },
    });
    for (const sprec of ['TIS-ARM-A-B-FOR-S-A', 'tis-srg-a-b-for-s-a', 'SER-SST-A-B-N-A-A', 'TIS-ARM-A-B-FO-S-A']) {
      expect(!specimenProblems(specimen({ sprec }), { scale: 0 }).sprec, sprec).toBe(server.sprecPattern.test(sprec.toUpperCase()));
    }
    expect(specimenProblems(specimen({ coldIschaemiaMinutes: '45', storageTemperatureC: '-80' }), { scale: 0 })).toEqual({});
  });

  it('sends numbers as numbers and a time with its zone', () => {
    const body = specimenBody(specimen({ identifier: 'B-1', collectionMethod: 'autopsy', fixation: 'formalin', collectedAt: '2020-02-14T08:30', coldIschaemiaMinutes: '45', storageTemperatureC: '-80', sprec: 'tis-arm-a-b-for-s-a', biosafetyLevel: '2' }));
    expect(body).toEqual({
      kind: 'block',
      quantity: '12',
      identifier: 'B-1',
      collectionMethod: 'autopsy',
      fixation: 'formalin',
      collectedAt: new Date('2020-02-14T08:30').toISOString(),
      coldIschaemiaMinutes: 45,
      storageTemperatureC: -80,
      sprec: 'TIS-ARM-A-B-FOR-S-A',
      biosafetyLevel: 2,
    });
    expect(specimenBody(specimen())).toEqual({ kind: 'block', quantity: '12' });
  });
});
