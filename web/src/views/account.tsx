// The signed-in person's account: change the password (services/account).
import { useState } from 'preact/hooks';
import { changePassword, session } from '../session';
import { ErrorBox, Field } from '../ui';

export function Account() {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setDone(false);
    try {
      await changePassword(oldPassword, newPassword);
      setDone(true);
      setOld('');
      setNew('');
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section aria-labelledby="account-h">
      <h2 id="account-h">我的账号</h2>
      <p>用户名：{session.value?.username}</p>
      <form class="form" onSubmit={submit}>
        <Field label="原密码">
          <input type="password" autoComplete="current-password" value={oldPassword} onInput={(e) => setOld((e.target as HTMLInputElement).value)} required />
        </Field>
        <Field label="新密码">
          <input type="password" autoComplete="new-password" value={newPassword} onInput={(e) => setNew((e.target as HTMLInputElement).value)} required />
        </Field>
        <button type="submit">修改密码</button>
      </form>
      <ErrorBox error={error} />
      {done && (
        <p class="ok" role="status">
          密码已修改。
        </p>
      )}
    </section>
  );
}
