/**
 * The research uses a donor's consent may cover, in the server's order
 * (src/core/consent.ts consentUses). Their names in both languages are
 * allocation.explain.use.
 */
export const consentUses = ['genetic-analysis', 'commercial-use', 'external-sharing', 'data-linkage', 'cell-line-derivation', 'animal-research'] as const;
export type ConsentUse = (typeof consentUses)[number];

export function isConsentUse(value: string): value is ConsentUse {
  return (consentUses as readonly string[]).includes(value);
}

/** Uses in the order of consentUses (the server answers them sorted by name); unknown ones last. */
export function inUseOrder(uses: readonly string[]): string[] {
  const rank = (use: string) => {
    const index = (consentUses as readonly string[]).indexOf(use);
    return index === -1 ? consentUses.length : index;
  };
  return [...uses].sort((a, b) => rank(a) - rank(b));
}
