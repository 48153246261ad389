import { useCallback, useEffect, useRef, useState } from 'react';

export type Load<T> = { status: 'loading' } | { status: 'ok'; data: T } | { status: 'error'; error: unknown };

/** Runs `load` when `key` changes; answers loading, the data or the error, and a reload. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, key: unknown[]): [Load<T>, () => void] {
  const [state, setState] = useState<Load<T>>({ status: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState({ status: 'loading' });
    load(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ status: 'ok', data }),
      (error: unknown) => !controller.signal.aborted && setState({ status: 'error', error }),
    );
    return () => controller.abort();
  }, [...key, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return [state, reload];
}

export interface Pages<T> {
  rows: T[];
  /** The next page's cursor; null after the last page. */
  cursor: string | null;
  /** 'more' while a further page loads; the rows already shown stay. */
  status: 'loading' | 'more' | 'ok' | 'error';
  error: unknown;
  /** Loads the page after the last one shown. */
  more(): void;
  /** Loads the list again from its first page. */
  reload(): void;
}

/**
 * A cursor-paged list: its first page whenever `key` changes, further pages on
 * `more`. An answer that arrives after a newer request was made is dropped, so
 * a slow page never overwrites the list of a newer search.
 */
export function usePages<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>, key: unknown[]): Pages<T> {
  const [rows, setRows] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<Pages<T>['status']>('loading');
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  const request = useRef(0);

  async function load(after: string | null) {
    const id = ++request.current;
    setStatus(after ? 'more' : 'loading');
    try {
      const page = await fetchPage(after ?? undefined);
      if (id !== request.current) return;
      setRows((current) => (after ? [...current, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setStatus('ok');
    } catch (caught) {
      if (id !== request.current) return;
      setError(caught);
      setStatus('error');
    }
  }

  useEffect(() => {
    setRows([]);
    void load(null);
  }, [...key, round]);

  return {
    rows,
    cursor,
    status,
    error,
    more: () => {
      if (cursor) void load(cursor);
    },
    reload: () => setRound((value) => value + 1),
  };
}
