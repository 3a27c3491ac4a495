// Who is signed in: the tokens from POST /v1/sessions (services/account) and the principal they
// carry. Kept in sessionStorage, so a reload stays signed in and closing the tab signs out.
import { ApiError, call, errorFromBody } from './api';

export type Role =
  | 'teacher'
  | 'school_admin'
  | 'county_hr'
  | 'city_hr'
  | 'province_hr'
  | 'training_center'
  | 'admin';

export interface Principal {
  role: Role;
  subject: string;
  schoolId: string;
  region: string;
  providerId: string;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: string;
  principal: Principal;
  username: string;
}

const key = 'shidang.session';
type Listener = () => void;
const listeners = new Set<Listener>();

function load(): Session | null {
  try {
    const text = sessionStorage.getItem(key);
    return text ? (JSON.parse(text) as Session) : null;
  } catch {
    return null;
  }
}

export const session = { value: load() };

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function set(next: Session | null) {
  session.value = next;
  if (next) sessionStorage.setItem(key, JSON.stringify(next));
  else sessionStorage.removeItem(key);
  listeners.forEach((l) => l());
}

// "ROLE_COUNTY_HR" (protobuf JSON) or "county_hr" (a JWT claim) -> "county_hr".
export function normalRole(role: string | number | undefined): Role {
  return String(role ?? '').replace(/^ROLE_/, '').toLowerCase() as Role;
}

interface SessionJson {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: string;
  principal: Record<string, string>;
}

function principalOf(p: Record<string, string>): Principal {
  return {
    role: normalRole(p.role),
    subject: p.subject ?? p.sub ?? '',
    schoolId: p.schoolId ?? p.school_id ?? '',
    region: p.region ?? '',
    providerId: p.providerId ?? p.provider_id ?? '',
  };
}

// Called as soon as a sign-in has its token, before the first view is drawn (app.tsx: the
// first view's reads start here rather than a frame or two later, from the view's effects).
let signedInHook: ((p: Principal) => void) | null = null;
export function onSignedIn(hook: (p: Principal) => void): void {
  signedInHook = hook;
}

export async function signIn(username: string, password: string): Promise<void> {
  const answer = await call<SessionJson>('/v1/sessions', { body: { username, password }, auth: false }).catch((e) => {
    // At sign-in, 401 is a wrong username or password (a locked account answers the same).
    if (e instanceof ApiError && e.status === 'UNAUTHENTICATED') e.advice = '用户名或密码不对，请重新输入。连续输错 5 次，账号将锁定 15 分钟。';
    throw e;
  });
  // The browser test's figures count the dashboard's time from here (the password check is the
  // account service's deliberate cost).
  performance.mark('signed-in');
  set({ ...answer, principal: principalOf(answer.principal ?? {}), username });
  signedInHook?.(session.value!.principal);
}

// A bearer token pasted from the run command's output (deploy/run.sh prints one per role): its
// claims are read for the menu only; the gateway checks the signature on every call.
export function signInWithToken(token: string): void {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new ApiError(400, 'INVALID_ARGUMENT', '', [{ field: '令牌', description: '不是一个 JWT（应为三段，用“.”分隔）' }]);
  let claims: Record<string, string>;
  try {
    claims = JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    throw new ApiError(400, 'INVALID_ARGUMENT', '', [{ field: '令牌', description: '无法读出令牌内容，请完整复制' }]);
  }
  const exp = Number(claims.exp ?? 0);
  performance.mark('signed-in');
  set({
    accessToken: token.trim(),
    refreshToken: '',
    accessExpiresAt: exp ? new Date(exp * 1000).toISOString() : '',
    principal: principalOf(claims),
    username: `演示令牌（${claims.sub ?? ''}）`,
  });
  signedInHook?.(session.value!.principal);
}

let refreshing: Promise<boolean> | null = null;

// A new access token from the refresh token; false when the session is over.
export function refreshSession(): Promise<boolean> {
  const current = session.value;
  if (!current?.refreshToken) return Promise.resolve(false);
  refreshing ??= (async () => {
    try {
      const response = await fetch('/v1/sessions:refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refreshToken: current.refreshToken }),
      });
      if (!response.ok) throw errorFromBody(response.status, await response.json().catch(() => null));
      const answer = (await response.json()) as SessionJson;
      set({ ...answer, principal: principalOf(answer.principal ?? {}), username: current.username });
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function signOut(): Promise<void> {
  const current = session.value;
  if (current?.refreshToken) {
    await call('/v1/sessions:signOut', { body: { refreshToken: current.refreshToken } }).catch(() => undefined);
  }
  set(null);
}

export function signOutLocal(): void {
  set(null);
}

export async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
  await call('/v1/accounts/me:changePassword', { body: { oldPassword, newPassword } });
}
