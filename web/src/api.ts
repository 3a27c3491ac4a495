// The page's one way to the API (same origin, /v1/...): bearer token, JSON in and out, a refresh
// when the access token has expired, a wait and retry on 429, and errors turned into what a
// person can act on (ApiError: a sentence, and per field or per CSV row what to fix).
import { session, refreshSession, signOutLocal } from './session';

export interface Violation {
  field?: string;
  row?: number;
  column?: string;
  rule?: string;
  description: string;
}

export class ApiError extends Error {
  // What a view says instead of the status's general advice, where it knows better.
  advice?: string;
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
    readonly violations: Violation[],
  ) {
    super(message);
  }
}

// What each gRPC status means to the person in front of the page.
const statusAdvice: Record<string, string> = {
  INVALID_ARGUMENT: '填写的内容有误，请按下面的提示修改后重试。',
  FAILED_PRECONDITION: '当前状态下不能这样操作。',
  NOT_FOUND: '找不到要查看的记录，可能已被删除或编号有误。',
  ALREADY_EXISTS: '这条记录已经存在。',
  ABORTED: '记录刚被别人修改过，请刷新后重试。',
  PERMISSION_DENIED: '您的账号没有这项操作的权限。',
  UNAUTHENTICATED: '登录已过期，请重新登录。',
  RESOURCE_EXHAUSTED: '操作太频繁，请稍后再试。',
  UNAVAILABLE: '服务暂时不可用，请稍后再试。',
  DEADLINE_EXCEEDED: '服务响应超时，请稍后再试。',
  UNIMPLEMENTED: '服务暂不支持这项操作。',
  INTERNAL: '服务出错了，请稍后再试或联系管理员。',
};

export function adviceFor(status: string): string {
  return statusAdvice[status] ?? '操作没有成功，请稍后再试。';
}

interface ErrorBody {
  status?: string;
  message?: string;
  details?: Array<{
    '@type'?: string;
    fieldViolations?: Array<{ field: string; rule?: string; description: string }>;
    rowViolations?: Array<{ row: string | number; column?: string; rule?: string; description: string }>;
  }>;
}

export function errorFromBody(httpStatus: number, body: ErrorBody | null): ApiError {
  const status = body?.status ?? (httpStatus === 0 ? 'UNAVAILABLE' : 'UNKNOWN');
  const violations: Violation[] = [];
  for (const d of body?.details ?? []) {
    for (const f of d.fieldViolations ?? []) violations.push({ field: f.field, rule: f.rule, description: f.description });
    for (const r of d.rowViolations ?? []) {
      violations.push({ row: Number(r.row), column: r.column, rule: r.rule, description: r.description });
    }
  }
  return new ApiError(httpStatus, status, body?.message ?? '', violations);
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  accept?: string;
  idempotencyKey?: string;
  auth?: boolean; // false for sign-in itself
  timeoutMs?: number;
}

function withQuery(path: string, query?: CallOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.append(k, String(v));
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function send(path: string, opts: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.auth !== false && session.value) headers.Authorization = `Bearer ${session.value.accessToken}`;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  if (opts.timeoutMs) headers['X-Timeout-Ms'] = String(opts.timeoutMs);
  return fetch(withQuery(path, opts.query), {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

async function fail(response: Response): Promise<never> {
  let body: ErrorBody | null = null;
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    body = null;
  }
  throw errorFromBody(response.status, body);
}

// One call, answered as `T`; an ApiError otherwise.
export async function call<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const response = await raw(path, opts);
  return (await response.json()) as T;
}

// One call, answered as the Response (for downloads).
export async function raw(path: string, opts: CallOptions = {}): Promise<Response> {
  let refreshed = false;
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await send(path, opts);
    } catch {
      throw new ApiError(0, 'UNAVAILABLE', '无法连接到服务器', []);
    }
    if (response.ok) return response;
    if (response.status === 429 && attempt < 5) {
      const seconds = Number(response.headers.get('Retry-After') ?? '1');
      await sleep(Math.min(Math.max(seconds, 0.2), 5) * 1000);
      continue;
    }
    if (response.status === 401 && opts.auth !== false && !refreshed && session.value?.refreshToken) {
      refreshed = true;
      if (await refreshSession()) continue;
    }
    if (response.status === 401 && opts.auth !== false) signOutLocal();
    return fail(response);
  }
}

// A fresh key per user action, so a retried click changes nothing twice.
export function newRequestKey(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'web-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Runs `work` over `items`, `parallel` at a time, reporting progress.
export async function eachLimited<I, O>(
  items: I[],
  parallel: number,
  work: (item: I) => Promise<O>,
  progress: (done: number, total: number) => void,
): Promise<O[]> {
  const out: O[] = new Array(items.length);
  let next = 0;
  let done = 0;
  progress(0, items.length);
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
      progress(++done, items.length);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return out;
}
