/**
 * A thin fetch wrapper typed by the OpenAPI document (schema.d.ts, generated
 * by `npm run gen:api`). The browser signs in with the session cookie, so
 * every call is same-origin with credentials. A problem+json answer becomes
 * an ApiError with the title, detail and field errors forms show.
 */
import type { ContractPaths } from './contract';
import type { paths as GeneratedPaths } from './schema';

export type Paths = GeneratedPaths & Omit<ContractPaths, keyof GeneratedPaths>;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

type Operation<P extends keyof Paths, M extends Method> = M extends keyof Paths[P] ? NonNullable<Paths[P][M]> : never;
export type PathsWith<M extends Method> = {
  [P in keyof Paths]: M extends keyof Paths[P] ? ([NonNullable<Paths[P][M]>] extends [never] ? never : P) : never;
}[keyof Paths];

type JsonContent<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;
type Success<O> = O extends { responses: infer R } ? JsonContent<R[Extract<keyof R, 200 | 201>]> : never;
type BodyOf<O> = O extends { requestBody?: infer B } ? JsonContent<NonNullable<B>> : never;
type PathOf<O> = O extends { parameters: { path: infer X } } ? ([X] extends [never | undefined] ? never : X) : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never;

export type Answer<P extends keyof Paths, M extends Method> = Success<Operation<P, M>>;

interface Options<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
  /** Sent as Idempotency-Key: the same key replays the first answer instead of acting twice. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly requestId?: string,
  ) {
    super(detail || title);
    this.name = 'ApiError';
  }

  /** The message for one field ("parts.0.quantity"), for a form to show next to it. */
  field(name: string): string | undefined {
    return this.errors.find((error) => error.field === name)?.message;
  }

  /** True when the route does not exist on this server yet (a feature still being built). */
  get missingRoute(): boolean {
    return this.status === 404 && /^No route /.test(this.detail);
  }
}

function buildUrl(template: string, path: Record<string, unknown> | undefined, query: Record<string, unknown> | undefined): string {
  const filled = template.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(String(path?.[name] ?? '')));
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${filled}?${text}` : filled;
}

async function toError(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const problem = JSON.parse(text) as { type?: string; title?: string; detail?: string; errors?: FieldError[]; requestId?: string };
    return new ApiError(response.status, problem.type ?? 'error', problem.title ?? response.statusText, problem.detail ?? '', problem.errors ?? [], problem.requestId);
  } catch {
    return new ApiError(response.status, 'error', response.statusText || 'Error', text.slice(0, 200));
  }
}

async function request<P extends keyof Paths, M extends Method>(method: M, path: P, options: Options<Operation<P, M>> = {}): Promise<Answer<P, M>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(buildUrl(path as string, options.path as Record<string, unknown>, options.query as Record<string, unknown>), {
      method: method.toUpperCase(),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'network', '');
  }
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return undefined as Answer<P, M>;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : undefined) as Answer<P, M>;
}

export const api = {
  get: <P extends PathsWith<'get'>>(path: P, options?: Options<Operation<P, 'get'>>) => request('get', path, options),
  post: <P extends PathsWith<'post'>>(path: P, options?: Options<Operation<P, 'post'>>) => request('post', path, options),
  put: <P extends PathsWith<'put'>>(path: P, options?: Options<Operation<P, 'put'>>) => request('put', path, options),
  patch: <P extends PathsWith<'patch'>>(path: P, options?: Options<Operation<P, 'patch'>>) => request('patch', path, options),
  delete: <P extends PathsWith<'delete'>>(path: P, options?: Options<Operation<P, 'delete'>>) => request('delete', path, options),
};

/**
 * Sends a file as the raw request body with upload progress (fetch has none);
 * answers the parsed JSON, or throws the ApiError a form can show.
 */
export function upload<T>(url: string, file: Blob | FormData, contentType: string | null, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    // A FormData body sets its own multipart content type with the boundary.
    if (contentType) xhr.setRequestHeader('content-type', contentType);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network', ''));
    xhr.onload = () => {
      const response = new Response(xhr.responseText, { status: xhr.status, statusText: xhr.statusText });
      if (xhr.status >= 200 && xhr.status < 300) resolve((xhr.responseText ? JSON.parse(xhr.responseText) : undefined) as T);
      else void toError(response).then(reject);
    };
    xhr.send(file);
  });
}
