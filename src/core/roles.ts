export const roles = ['admin', 'curator', 'reviewer', 'chair', 'applicant', 'auditor'] as const;
export type Role = (typeof roles)[number];
