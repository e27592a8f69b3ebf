/**
 * `hush-auth/client/axios`: the client's token handling for an axios instance, as an interceptor pair. It needs no
 * axios at runtime: pass in the instance you already have.
 * @packageDocumentation
 */
import type { AuthClient } from './types.js';

/** The parts of an axios request config the interceptors read and write. */
export interface AxiosLikeConfig {
  url?: string;
  baseURL?: string;
  /** `AxiosHeaders` (axios 1.x, with `set`) or a plain object (axios 0.x). */
  headers?: unknown;
}

/** The parts of an axios response the interceptors read. */
export interface AxiosLikeResponse<C extends AxiosLikeConfig = AxiosLikeConfig> {
  status: number;
  headers?: unknown;
  data?: unknown;
  config: C;
}

/** An axios interceptor manager, as both axios 0.x and 1.x have them. */
export interface AxiosLikeInterceptors<V> {
  use(onFulfilled?: ((value: V) => V | Promise<V>) | null, onRejected?: ((error: unknown) => unknown) | null): number;
  eject(id: number): void;
}

/** What {@link attachAxios} needs of an axios instance. */
export interface AxiosLike<C extends AxiosLikeConfig, R extends AxiosLikeResponse<C>> {
  interceptors: { request: AxiosLikeInterceptors<C>; response: AxiosLikeInterceptors<R> };
  request(config: C): Promise<unknown>;
}

/** Where the interceptors keep, on the config itself (axios copies it on retry), what they sent. */
interface Marks {
  hushToken?: string | null;
  hushRetried?: boolean;
}

const ABSOLUTE = /^([a-z][a-z\d+.-]*:)?\/\//i;

/** The URL axios will request, before query parameters (which don't change where the token may go). */
function targetOf(config: AxiosLikeConfig): string {
  const url = config.url ?? '';
  return ABSOLUTE.test(url) || !config.baseURL ? url : config.baseURL.replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '');
}

function header(response: AxiosLikeResponse, name: string): unknown {
  const headers = response.headers as { get?: (name: string) => unknown; [name: string]: unknown } | undefined;
  return typeof headers?.get === 'function' ? headers.get(name) : headers?.[name];
}

/**
 * Adds the client's token handling to an axios instance: the Bearer token goes only to the auth server's
 * origin and the client's `apiOrigins`, an `x-access-token` answer for the same user is adopted, and a 401
 * `invalid_token` leads to one shared refresh and one retry of the request (never for the auth API itself).
 * Returns a function that removes the interceptors again.
 *
 * @example
 * ```ts
 * const api = axios.create({ baseURL: '/api' });
 * attachAxios(api, auth);
 * ```
 */
export function attachAxios<C extends AxiosLikeConfig, R extends AxiosLikeResponse<C>>(
  axios: AxiosLike<C, R>,
  auth: AuthClient,
): () => void {
  const adoptFrom = (response: R): void => {
    if (auth.authorizes(targetOf(response.config))) auth.adopt(header(response, 'x-access-token') as string | undefined);
  };

  const request = axios.interceptors.request.use(async (config) => {
    const marks = config as C & Marks;
    if (!auth.authorizes(targetOf(config))) return config;
    const token = await auth.getAccessToken();
    marks.hushToken = token;
    if (token) {
      const value = 'Bearer ' + token;
      const headers = config.headers as { set?: (name: string, value: string) => void } | undefined;
      if (typeof headers?.set === 'function') headers.set('Authorization', value);
      else config.headers = { ...(headers as object | undefined), Authorization: value };
    }
    return config;
  });

  const response = axios.interceptors.response.use(
    (res) => {
      adoptFrom(res);
      return res;
    },
    async (error: unknown) => {
      const { config, response: res } = (error ?? {}) as { config?: C & Marks; response?: R };
      if (config && res) {
        adoptFrom(res);
        const sent = config.hushToken;
        const challenge = String(header(res, 'www-authenticate')) + JSON.stringify(res.data ?? '');
        if (res.status === 401 && sent && !config.hushRetried && /invalid_token/.test(challenge)) {
          const next = await auth.renew(sent, targetOf(config));
          if (next) {
            config.hushRetried = true;
            return axios.request(config);
          }
        }
      }
      throw error;
    },
  );

  return () => {
    axios.interceptors.request.eject(request);
    axios.interceptors.response.eject(response);
  };
}
