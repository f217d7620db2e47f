import { type AuthErrorData, createAuthorizedAxios, type SessionActor, toAuthError } from 'authcharts';
import { useEffect, useMemo, useState } from 'react';

export type GetResult<T> =
  | { status: 'loading' }
  | { status: 'done'; data: T }
  | { status: 'failed'; error: AuthErrorData };

/**
 * GET `path` with the session's credentials. `createAuthorizedAxios` reads the tokens from the
 * running actor, waits while it refreshes and retries a 401 once, so the component never touches a
 * token. Leaving the view aborts the request.
 */
export function useAuthorizedGet<T>(actor: SessionActor, baseURL: string, path: string): GetResult<T> {
  const http = useMemo(() => createAuthorizedAxios(actor, { baseURL }), [actor, baseURL]);
  const [result, setResult] = useState<GetResult<T>>({ status: 'loading' });
  useEffect(() => {
    const controller = new AbortController();
    setResult({ status: 'loading' });
    http.get<T>(path, { signal: controller.signal }).then(
      (response) => setResult({ status: 'done', data: response.data }),
      (error: unknown) => {
        if (!controller.signal.aborted) setResult({ status: 'failed', error: toAuthError(error).toData() });
      },
    );
    return () => controller.abort();
  }, [http, path]);
  return result;
}
