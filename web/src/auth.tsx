import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, type Answer } from './api/client';

export type User = Answer<'/api/v1/me', 'get'>;
export type Role = User['roles'][number];

interface AuthState {
  user: User | null;
  ready: boolean;
  signIn(email: string, password: string): Promise<User>;
  signOut(): Promise<void>;
  /** Reads the signed-in user again (after an admin changed their own name or roles). */
  refresh(): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    api
      .get('/api/v1/me')
      .then(setUser)
      .catch((error: unknown) => {
        if (!(error instanceof ApiError) || error.status !== 401) console.warn('could not load the signed-in user', error);
      })
      .finally(() => setReady(true));
  }, []);

  const signIn = useCallback(async (email: string, password: string) => {
    const result = await api.post('/api/v1/auth/login', { body: { email, password } });
    setUser(result.user);
    return result.user;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.post('/api/v1/auth/logout');
    } finally {
      setUser(null);
    }
  }, []);

  const refresh = useCallback(async () => {
    try {
      setUser(await api.get('/api/v1/me'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setUser(null);
    }
  }, []);

  const value = useMemo(() => ({ user, ready, signIn, signOut, refresh }), [user, ready, signIn, signOut, refresh]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}

/** Who sees which part of the app; the server enforces the same rules (src/core/policy.ts). */
export const areas = {
  console: ['curator', 'admin'],
  applications: ['applicant'],
  reviews: ['reviewer'],
  committee: ['chair'],
  audit: ['auditor', 'admin'],
  /** The pathology bank's donors (policy donor.read; only curators change them). */
  donors: ['curator', 'admin', 'auditor'],
  /** User accounts (policy user.list, user.create, user.update). */
  users: ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Area = keyof typeof areas;

export function mayEnter(user: User | null, area: Area): boolean {
  const allowed: readonly Role[] = areas[area];
  return !!user && user.roles.some((role) => allowed.includes(role));
}
