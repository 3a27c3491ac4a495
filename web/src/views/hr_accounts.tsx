// County HR (and admins): the accounts of the region (services/account). Accounts for every
// teacher of the roster in one call, one account at a time, the list with disable and reset. An
// initial or reset password is shown once, where it was made: the service keeps only its hash.
import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { roleLabels } from '../labels';
import { normalRole } from '../session';
import { Busy, ErrorBox, Field, Progress, saveBlob, useLoad } from '../ui';
import { SchoolPicker, countySchools, schoolName } from './schools';

interface Account {
  username: string;
  role: string;
  teacherId: string;
  schoolId: string;
  region: string;
  countyId: string;
  displayName: string;
  disabled: boolean;
  createdAt: string;
  createdBy: string;
}
interface RosterAccount {
  teacherId: string;
  teacherName: string;
  schoolId: string;
  username: string;
  initialPassword: string;
  code: string;
  message: string;
}

// What the account service's refusals mean to HR (its messages are for developers).
const accountAdvice: Record<string, string> = {
  ALREADY_EXISTS: '这个用户名已被使用，或这位教师已有账号。请换一个用户名。',
  NOT_FOUND: '找不到这个账号或这位教师，请核对后重试。',
  PERMISSION_DENIED: '找不到这个账号，或它不在您管辖的地区内。',
};

function explained(e: unknown): unknown {
  if (e instanceof ApiError && accountAdvice[e.status] && e.violations.length === 0) e.advice = accountAdvice[e.status];
  return e;
}

export function OneTimePassword({ username, password }: { username: string; password: string }) {
  return (
    <div class="once" role="status" data-testid="one-time-password">
      <p>
        账号 <strong translate={false}>{username}</strong> 的临时密码：<code translate={false} data-password={password}>{password}</code>
      </p>
      <p class="muted">只显示这一次（系统不保存明文）。请当面或私下告知本人，首次登录后在“账号”中修改。</p>
    </div>
  );
}

// CreateAccountsFromRoster: an account for each teacher of the county (or one school) lacking one.
function RosterAccounts({ county, onDone }: { county: string; onDone: () => void }) {
  const [school, setSchool] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ accounts: RosterAccount[]; created: number; refused: number } | null>(null);
  const [progress, setProgress] = useState<[number, number] | null>(null);
  // The service hashes each new password (argon2id): a county at once could outlast the call's
  // deadline, so a county-wide run goes school by school, with progress.
  async function run() {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const scopes = school ? [school] : (await countySchools(county)).map((s) => s.schoolId);
      const total = { accounts: [] as RosterAccount[], created: 0, refused: 0 };
      setProgress([0, scopes.length]);
      for (const [i, schoolId] of scopes.entries()) {
        const r = await call<{ accounts?: RosterAccount[]; created?: number; refused?: number }>(
          `/v1/counties/${county}/accounts:fromRoster`,
          { body: { schoolId }, timeoutMs: 300_000 },
        );
        total.accounts.push(...(r.accounts ?? []));
        total.created += r.created ?? 0;
        total.refused += r.refused ?? 0;
        setResult({ ...total });
        setProgress([i + 1, scopes.length]);
      }
      onDone();
    } catch (e) {
      setError(explained(e));
    } finally {
      setBusy(false);
      setProgress(null);
    }
  }
  const made = (result?.accounts ?? []).filter((a) => a.code === 'OK');
  function download() {
    const lines = ['姓名,教师编号,用户名,临时密码', ...made.map((a) => [a.teacherName, a.teacherId, a.username, a.initialPassword].join(','))];
    saveBlob(new Blob(['\uFEFF' + lines.join('\r\n') + '\r\n'], { type: 'text/csv' }), `accounts-${county}${school ? '-' + school : ''}.csv`);
  }
  return (
    <>
      <h3>按名册为教师开通账号</h3>
      <p class="muted">为名册中还没有账号的每位教师开通一个教师账号（用户名为 t + 教师编号）；已有账号的教师不受影响。</p>
      <div class="toolbar">
        <SchoolPicker county={county} value={school} onChange={setSchool} allowAll label="范围" name="roster-school" />
        <button type="button" data-action="from-roster" onClick={run} disabled={busy}>
          {busy ? '正在开通…' : '开通账号'}
        </button>
      </div>
      {progress && <Progress done={progress[0]} total={progress[1]} label="正在逐校开通账号" />}
      <ErrorBox error={error} />
      {result && (
        <div data-testid={busy ? 'roster-accounts-partial' : 'roster-accounts'}>
          <p>
            新开通 <strong>{result.created}</strong> 个，已有账号未变 <strong>{result.refused}</strong> 个。
            {made.length > 0 && '临时密码只显示这一次：请下载名单后分发给教师本人。'}
          </p>
          {made.length > 0 && (
            <button type="button" onClick={download}>
              下载开通名单（CSV，含临时密码）
            </button>
          )}
          <RosterTable rows={result.accounts} />
        </div>
      )}
    </>
  );
}

function RosterTable({ rows }: { rows: RosterAccount[] }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">教师</th>
            <th scope="col">用户名</th>
            <th scope="col">临时密码</th>
            <th scope="col">结果</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, 300).map((a) => (
            <tr key={a.teacherId} data-roster-row={a.code}>
              <td>{a.teacherName || a.teacherId}</td>
              <td translate={false}>{a.username || '—'}</td>
              <td translate={false}>{a.initialPassword ? <code>{a.initialPassword}</code> : '—'}</td>
              <td>{a.code === 'OK' ? '已开通' : a.code === 'ALREADY_EXISTS' ? '已有账号' : `未开通：${a.message}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > 300 && <p class="muted">只列出前 300 行；完整名单请下载 CSV。</p>}
    </div>
  );
}

const creatable = ['ROLE_TEACHER', 'ROLE_SCHOOL_ADMIN', 'ROLE_COUNTY_HR'];

// CreateAccount: one account, its scope from the role (a teacher's school comes from the roster).
function NewAccount({ county, hrRole, onDone }: { county: string; hrRole: string; onDone: () => void }) {
  const [role, setRole] = useState('ROLE_TEACHER');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [teacherId, setTeacherId] = useState('');
  const [school, setSchool] = useState('');
  const [region, setRegion] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [made, setMade] = useState<{ username: string; password: string } | null>(null);
  // Answers received, so a test (or a screen reader's user) can tell a new answer from the last.
  const [answers, setAnswers] = useState(0);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setMade(null);
    const account: Record<string, string> = { username: username.trim(), role, displayName: displayName.trim() };
    if (role === 'ROLE_TEACHER') account.teacherId = teacherId.trim();
    if (role === 'ROLE_SCHOOL_ADMIN') Object.assign(account, { schoolId: school, countyId: county });
    if (role === 'ROLE_COUNTY_HR') account.region = region.trim();
    try {
      const r = await call<{ account: Account; initialPassword: string }>('/v1/accounts', { body: { account } });
      setMade({ username: r.account.username, password: r.initialPassword });
      setUsername('');
      setDisplayName('');
      setTeacherId('');
      onDone();
    } catch (err) {
      setError(explained(err));
    } finally {
      setAnswers((n) => n + 1);
    }
  }
  const set = (f: (v: string) => void) => (e: Event) => f((e.target as HTMLInputElement).value);
  // County HR manage teachers and school admins; an HR account must lie strictly inside the
  // caller's region, so only a city's or province's HR makes a county's.
  const roles = hrRole === 'county_hr' ? creatable.slice(0, 2) : creatable;
  return (
    <>
      <h3>新建账号</h3>
      <form class="form" onSubmit={submit} aria-label="新建账号" data-answers={answers}>
        <Field label="角色">
          <select name="role" value={role} onChange={set(setRole)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {roleLabels[normalRole(r)]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="用户名" hint="3–64 位小写字母、数字或 . _ -，以字母或数字开头">
          <input name="new-username" value={username} onInput={set(setUsername)} required autoComplete="off" />
        </Field>
        <Field label="姓名">
          <input name="display-name" value={displayName} onInput={set(setDisplayName)} />
        </Field>
        {role === 'ROLE_TEACHER' && (
          <Field label="教师编号" hint="名册中的教师编号；学校和县区从名册读取">
            <input name="teacher-id" value={teacherId} onInput={set(setTeacherId)} required />
          </Field>
        )}
        {role === 'ROLE_SCHOOL_ADMIN' && <SchoolPicker county={county} value={school} onChange={setSchool} name="admin-school" />}
        {role === 'ROLE_COUNTY_HR' && (
          <Field label="县（区）代码" hint="6 位行政区划代码">
            <input name="region" value={region} onInput={set(setRegion)} inputMode="numeric" required />
          </Field>
        )}
        <button type="submit">新建</button>
      </form>
      <ErrorBox error={error} />
      {made && <OneTimePassword username={made.username} password={made.password} />}
    </>
  );
}

interface Filter {
  school: string;
  role: string;
}

// ListAccounts of the county, a page at a time, with disable and reset on each row.
function AccountList({ county, version, onChange }: { county: string; version: number; onChange: () => void }) {
  const [filter, setFilter] = useState<Filter>({ school: '', role: '' });
  const [tokens, setTokens] = useState<string[]>(['']);
  const token = tokens[tokens.length - 1];
  const [page, error, loading, reload] = useLoad(
    () =>
      call<{ accounts?: Account[]; page?: { nextPageToken?: string; totalSize?: string } }>('/v1/accounts', {
        query: { region: county, schoolId: filter.school, role: filter.role, 'page.pageSize': 50, 'page.pageToken': token },
      }),
    [county, filter.school, filter.role, token, version],
  );
  const [schools] = useLoad(() => countySchools(county), [county]);
  const refilter = (f: Filter) => {
    setFilter(f);
    setTokens(['']);
  };
  return (
    <>
      <h3>账号列表{page?.page?.totalSize ? `（${page.page.totalSize}）` : ''}</h3>
      <div class="toolbar">
        <SchoolPicker county={county} value={filter.school} onChange={(school) => refilter({ ...filter, school })} allowAll name="list-school" />
        <Field label="角色">
          <select name="role-filter" value={filter.role} onChange={(e) => refilter({ ...filter, role: (e.target as HTMLSelectElement).value })}>
            <option value="">全部角色</option>
            {creatable.map((r) => (
              <option key={r} value={r}>
                {roleLabels[normalRole(r)]}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ErrorBox error={error} />
      {loading && <Busy label="正在读取账号" />}
      {page && (page.accounts ?? []).length === 0 && <p>没有符合条件的账号。</p>}
      {page && (page.accounts ?? []).length > 0 && (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">用户名</th>
                <th scope="col">姓名</th>
                <th scope="col">角色</th>
                <th scope="col">学校</th>
                <th scope="col">状态</th>
                <th scope="col">操作</th>
              </tr>
            </thead>
            <tbody>
              {(page.accounts ?? []).map((a) => (
                <AccountRow key={a.username} account={a} school={schoolName(schools, a.schoolId)} onChange={() => (reload(), onChange())} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="toolbar">
        {tokens.length > 1 && (
          <button type="button" onClick={() => setTokens(tokens.slice(0, -1))}>
            上一页
          </button>
        )}
        {page?.page?.nextPageToken && (
          <button type="button" onClick={() => setTokens([...tokens, page.page!.nextPageToken!])}>
            下一页
          </button>
        )}
      </div>
    </>
  );
}

function AccountRow({ account, school, onChange }: { account: Account; school: string; onChange: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function act(what: 'disable' | 'resetPassword') {
    setBusy(true);
    setError(null);
    try {
      const r = await call<{ account: Account; initialPassword?: string }>(`/v1/accounts/${encodeURIComponent(account.username)}:${what}`, { body: {} });
      setConfirming(false);
      if (what === 'resetPassword') setPassword(r.initialPassword ?? '');
      else onChange();
    } catch (e) {
      setError(explained(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <tr data-account={account.username}>
      <td translate={false}>{account.username}</td>
      <td>{account.displayName || '—'}</td>
      <td>{roleLabels[normalRole(account.role)] ?? account.role}</td>
      <td>{account.schoolId ? school : '—'}</td>
      <td class="state">{account.disabled ? <span class="bad">已停用</span> : '正常'}</td>
      <td>
        <div class="actions">
          {!account.disabled && !confirming && (
            <button type="button" class="danger" data-action="disable" disabled={busy} onClick={() => setConfirming(true)}>
              停用
            </button>
          )}
          {confirming && (
            <>
              <button type="button" class="danger" data-action="confirm-disable" disabled={busy} onClick={() => act('disable')}>
                确认停用
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                取消
              </button>
            </>
          )}
          <button type="button" data-action="reset" disabled={busy} onClick={() => act('resetPassword')}>
            重置密码
          </button>
        </div>
        {password && <OneTimePassword username={account.username} password={password} />}
        <ErrorBox error={error} />
      </td>
    </tr>
  );
}

export function AccountAdmin({ county, hrRole }: { county: string; hrRole: string }) {
  // Bumped after a change elsewhere on the page, so the list shows it.
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return (
    <section aria-labelledby="accounts-h">
      <h2 id="accounts-h">账号管理</h2>
      <RosterAccounts county={county} onDone={changed} />
      <NewAccount county={county} hrRole={hrRole} onDone={changed} />
      <AccountList county={county} version={version} onChange={changed} />
    </section>
  );
}
