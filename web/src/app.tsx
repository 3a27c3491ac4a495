// The page's shell: sign-in, the role's menu, and the view for the path (history API routes,
// which the gateway answers with index.html).
import { useEffect, useState } from 'preact/hooks';
import { call } from './api';
import { prepareCharts } from './chart';
import { roleLabels } from './labels';
import { menuFor } from './routes';
import { Principal, onSessionChange, onSignedIn, session, signIn, signInWithToken, signOut } from './session';
import { Busy, ErrorBox, Field, useLoad } from './ui';
import { Completions, Courses } from './views/centre';
import { AccountAdmin } from './views/hr_accounts';
import { PolicyView } from './views/hr_policy';
import { ReviewQueue } from './views/hr_reviews';
import { RosterImport } from './views/hr_roster';
import { RotationCompliance } from './views/hr_rotation';
import { TrainingCompliance, prefetchTrainingCompliance } from './views/hr_training';
import { SchoolRotations } from './views/school';
import { GrowthFileView, LogTraining, MyRotations, TrainingCycle } from './views/teacher';
import { Account } from './views/account';
import { MentorshipPlanner, MyMentorship } from './views/mentorship';

// County HR lands on the training dashboard (the menu's first view): its report and the
// county's schools are asked for with the token, before the dashboard mounts.
onSignedIn((p) => {
  const menu = menuFor(p.role);
  const lands = menu.some((m) => m.path === location.pathname) ? location.pathname : menu[0]?.path;
  if (p.role === 'county_hr' && /^\d{6}$/.test(p.region) && lands === '/hr/training') {
    prefetchTrainingCompliance(p.region);
  }
});

function usePath(): [string, (p: string) => void] {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const pop = () => setPath(location.pathname);
    window.addEventListener('popstate', pop);
    return () => window.removeEventListener('popstate', pop);
  }, []);
  return [
    path,
    (p: string) => {
      history.pushState(null, '', p);
      setPath(p);
      window.scrollTo(0, 0);
    },
  ];
}

function SignIn() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // A wide screen is where HR and school admins open the dashboard: its chart code (ECharts, the
  // one big chunk) loads and draws once out of sight while they type, so their first view is
  // drawn without waiting for it. Phones (teachers, who see no chart) skip it.
  useEffect(() => {
    if (!matchMedia('(min-width: 721px)').matches) return;
    const load = () => void prepareCharts().catch(() => undefined);
    if ('requestIdleCallback' in window) requestIdleCallback(load, { timeout: 1000 });
    else setTimeout(load, 300);
  }, []);
  async function submit(e: Event) {
    e.preventDefault();
    // The browser test's figures count from here: the click as the page saw it.
    performance.mark('sign-in-submitted');
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="signin">
      <h1>师档 · 教师发展档案</h1>
      <form class="form" onSubmit={submit} aria-label="登录">
        <Field label="用户名">
          <input name="username" autoComplete="username" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} required />
        </Field>
        <Field label="密码">
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            required
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? '正在登录…' : '登录'}
        </button>
      </form>
      <ErrorBox error={error} />
      <details>
        <summary>使用演示令牌登录</summary>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            try {
              signInWithToken(token);
            } catch (err) {
              setError(err);
            }
          }}
        >
          <Field label="演示令牌" hint="平台启动命令打印的各角色演示令牌，整段复制粘贴">
            <textarea name="token" rows={3} value={token} onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)} />
          </Field>
          <button type="submit">用令牌登录</button>
        </form>
      </details>
    </main>
  );
}

interface Scope {
  county: string;
  schoolId: string;
  teacherId: string;
  providerId: string;
  name: string;
  region: string;
}

// The scope of a principal whose token says it all (HR, admins, training centres): known at
// once, so their first view renders with the shell rather than a frame after it.
function immediateScope(p: Principal): Scope | null {
  if (p.role === 'teacher' || (p.role === 'school_admin' && p.schoolId)) return null;
  const scope: Scope = { county: p.region, schoolId: p.schoolId, teacherId: '', providerId: p.providerId, name: '', region: p.region };
  // A city's or province's HR picks one of its counties (CountyPrompt): reports are per county.
  if (p.role === 'city_hr' || p.role === 'province_hr' || p.role === 'admin') scope.county = '';
  return scope;
}

// The county (and school) a principal works in: HR's region, the school admin's school's county,
// the teacher's own record.
async function resolveScope(p: Principal): Promise<Scope> {
  const immediate = immediateScope(p);
  if (immediate) return immediate;
  const scope: Scope = { county: p.region, schoolId: p.schoolId, teacherId: '', providerId: p.providerId, name: '', region: p.region };
  if (p.role === 'teacher') {
    const t = await call<{ teacher: { countyId: string; schoolId: string; name: string } }>(`/v1/teachers/${p.subject}`);
    return { ...scope, county: t.teacher.countyId, schoolId: t.teacher.schoolId, teacherId: p.subject, name: t.teacher.name };
  }
  if (p.role === 'school_admin' && p.schoolId) {
    const s = await call<{ school: { countyId: string; name: string } }>(`/v1/schools/${p.schoolId}`);
    return { ...scope, county: s.school.countyId, name: s.school.name };
  }
  return scope;
}

function View({ path, scope, role, onCounty }: { path: string; scope: Scope; role: string; onCounty: (c: string) => void }) {
  const { county, schoolId, teacherId, providerId } = scope;
  const needCounty = (el: preact.JSX.Element) => (county ? el : <CountyPrompt region={scope.region} onCounty={onCounty} />);
  switch (path) {
    case '/hr/training':
      return needCounty(<TrainingCompliance county={county} />);
    case '/hr/rotation':
      return needCounty(<RotationCompliance county={county} />);
    case '/hr/reviews':
      return needCounty(<ReviewQueue county={county} />);
    case '/hr/mentorship':
      return needCounty(<MentorshipPlanner county={county} />);
    case '/school/mentorship':
      return <MentorshipPlanner county={county} schoolId={schoolId} />;
    case '/me/mentorship':
      return <MyMentorship teacherId={teacherId} />;
    case '/hr/accounts':
      return needCounty(<AccountAdmin county={county} hrRole={role} />);
    case '/hr/roster':
      return needCounty(<RosterImport county={county} />);
    case '/hr/policy':
    case '/school/policy':
      return needCounty(<PolicyView county={county} />);
    case '/school/teachers':
      return <TrainingCompliance county={county} fixedSchool={schoolId} />;
    case '/school/rotations':
      return <SchoolRotations county={county} schoolId={schoolId} />;
    case '/school/compliance':
      return <RotationCompliance county={county} schoolId={schoolId} />;
    case '/me/file':
      return <GrowthFileView teacherId={teacherId} />;
    case '/me/training':
      return <TrainingCycle teacherId={teacherId} />;
    case '/me/log':
      return <LogTraining teacherId={teacherId} />;
    case '/me/rotations':
      return <MyRotations teacherId={teacherId} />;
    case '/centre/courses':
      return <Courses providerId={providerId} county={county} />;
    case '/centre/completions':
      return <Completions providerId={providerId} />;
    case '/account':
      return <Account />;
    default:
      return <p>{roleLabels[role] ?? '您的角色'}没有这个页面，请从菜单中选择。</p>;
  }
}

function CountyPrompt({ region, onCounty }: { region: string; onCounty: (c: string) => void }) {
  const [code, setCode] = useState('');
  const prefix = region.replace(/0+$/, '');
  return (
    <section aria-labelledby="county-h">
      <h2 id="county-h">选择县（区）</h2>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          onCounty(code.trim());
        }}
      >
        <Field label="县（区）代码" hint={`6 位行政区划代码${prefix ? `，以 ${prefix} 开头` : ''}`}>
          <input value={code} inputMode="numeric" pattern="\d{6}" required onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        </Field>
        <button type="submit">查看</button>
      </form>
    </section>
  );
}

function Shell() {
  const principal = session.value!.principal;
  const [path, go] = usePath();
  const menu = menuFor(principal.role);
  const [scope, error] = useLoad(() => resolveScope(principal), [principal.subject, principal.role], immediateScope(principal));
  const [open, setOpen] = useState(false);
  const [county, setCounty] = useState('');
  useEffect(() => {
    if (!menu.some((m) => m.path === path) && path !== '/account' && menu.length) go(menu[0].path);
  }, [path]);
  const current = menu.find((m) => m.path === path);
  useEffect(() => {
    document.title = `${current?.label ?? '账号'} · 师档`;
  }, [current]);
  return (
    <>
      <header class="top">
        <button type="button" class="menu-toggle" aria-expanded={open} aria-controls="menu" onClick={() => setOpen(!open)}>
          菜单
        </button>
        <strong class="brand">师档</strong>
        <span class="who">
          <span translate={false}>{scope?.name || session.value!.username}</span> · {roleLabels[principal.role] ?? principal.role}
        </span>
        <a
          href="/account"
          onClick={(e) => {
            e.preventDefault();
            go('/account');
          }}
        >
          账号
        </a>
        <button
          type="button"
          onClick={() => {
            // The next person to sign in starts at their own first view.
            history.replaceState(null, '', '/');
            signOut();
          }}
        >
          退出
        </button>
      </header>
      <div class="body">
        <nav id="menu" class={open ? 'open' : ''} aria-label="功能菜单">
          <ul>
            {menu.map((m) => (
              <li key={m.path}>
                <a
                  href={m.path}
                  aria-current={m.path === path ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    setOpen(false);
                    go(m.path);
                  }}
                >
                  {m.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main>
          <ErrorBox error={error} />
          {scope ? <View path={path} scope={county ? { ...scope, county } : scope} role={principal.role} onCounty={setCounty} /> : !error && <Busy label="正在读取您的单位" />}
        </main>
      </div>
    </>
  );
}

export function App() {
  const [, setTick] = useState(0);
  useEffect(() => onSessionChange(() => setTick((t) => t + 1)), []);
  return session.value ? <Shell key={session.value.principal.subject + session.value.principal.role} /> : <SignIn />;
}
