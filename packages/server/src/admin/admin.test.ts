import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '../testing/harness.ts';

const login = (node: TestNode, username: string, password: string, workstation = 'DESK-1') =>
  node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', 'x-steadfast-workstation': workstation }, body: JSON.stringify({ username, password }) });

type Outcome = { issue: Array<{ diagnostics: string; expression?: string[] }> };
interface Staff { id: string; username: string; disabled: boolean; lockedUntil?: string; failedCount: number; lastSeen?: string }

const NEW = { username: 'jo.smith', name: 'Jo Smith', role: 'receptionist', password: 'blue kettle morning' };

for (const { backend, skip } of await backends()) {
  describe(`practice manager staff accounts on ${backend}`, { skip }, () => {
    test('add an account; it signs in; bad input names the field; only a practice-admin may', async () => {
      const node = await startTestNode({ backend });
      try {
        const res = await node.fetchAs('practice-admin', '/api/admin/staff', { method: 'POST', json: NEW });
        assert.equal(res.status, 201, await res.clone().text());
        assert.equal((await login(node, 'jo.smith', NEW.password)).status, 200);
        const dup = await node.fetchAs('practice-admin', '/api/admin/staff', { method: 'POST', json: NEW });
        assert.equal(dup.status, 409);
        assert.deepEqual(((await dup.json()) as Outcome).issue[0]!.expression, ['username']);
        for (const [patch, f] of [[{ role: 'cleaner' }, 'role'], [{ password: 'short' }, 'password'], [{ name: '' }, 'name'], [{ username: 'Bad Name' }, 'username']] as const) {
          const r = await node.fetchAs('practice-admin', '/api/admin/staff', { method: 'POST', json: { ...NEW, username: 'new.one', ...patch } });
          assert.equal(r.status, 400, JSON.stringify(patch));
          assert.deepEqual(((await r.json()) as Outcome).issue[0]!.expression, [f]);
        }
        for (const role of ['receptionist', 'clinician'] as const) {
          assert.equal((await node.fetchAs(role, '/api/admin/staff')).status, 403);
          assert.equal((await node.fetchAs(role, '/api/admin/staff', { method: 'POST', json: { ...NEW, username: 'sneaky' } })).status, 403);
          assert.equal((await node.fetchAs(role, `/api/admin/staff/${node.users.clinician.id}/disable`, { method: 'POST', json: {} })).status, 403);
        }
        const audit = await node.audit.list({ event: 'account-created' });
        assert.equal(audit.length, 1);
        assert.equal(audit[0]!.userName, node.users['practice-admin'].name);
        assert.match(audit[0]!.detail ?? '', /^jo\.smith: receptionist/);
      } finally {
        await node.close();
      }
    });

    test('an account left enabled: disabling ends its sessions at once and refuses sign-in; enabling lets it back', async () => {
      const node = await startTestNode({ backend });
      try {
        const token = await node.login('clinician');
        const me = () => node.fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } });
        assert.equal((await me()).status, 200);
        const res = await node.fetchAs('practice-admin', `/api/admin/staff/${node.users.clinician.id}/disable`, { method: 'POST', json: {} });
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { user: Staff }).user.disabled, true);
        assert.equal((await me()).status, 401, 'the open session ends at once');
        assert.equal((await login(node, testUsernames.clinician, TEST_PASSWORD)).status, 401, 'and sign-in is refused');
        const self = await node.fetchAs('practice-admin', `/api/admin/staff/${node.users['practice-admin'].id}/disable`, { method: 'POST', json: {} });
        assert.equal(self.status, 400);
        assert.match(((await self.json()) as Outcome).issue[0]!.diagnostics, /your own account/);
        assert.equal((await node.fetchAs('practice-admin', `/api/admin/staff/${node.users.clinician.id}/enable`, { method: 'POST', json: {} })).status, 200);
        assert.equal((await login(node, testUsernames.clinician, TEST_PASSWORD)).status, 200);
        const events = (await node.audit.list({ limit: 100 })).map((e) => [e.event, e.detail]);
        assert.ok(events.some(([e, d]) => e === 'account-disabled' && d === `${testUsernames.clinician}: disabled; sessions ended`));
        assert.ok(events.some(([e, d]) => e === 'account-enabled' && d === `${testUsernames.clinician}: enabled`));
      } finally {
        await node.close();
      }
    });

    test('unlock a locked account, and reset a password: the old one stops working, sessions end', async () => {
      const node = await startTestNode({ backend });
      try {
        const u = testUsernames.receptionist;
        const token = await node.login('receptionist');
        for (let i = 0; i < 5; i++) await login(node, u, 'wrong password here');
        assert.equal((await login(node, u, TEST_PASSWORD)).status, 423);
        const staff = (await (await node.fetchAs('practice-admin', '/api/admin/staff')).json()) as { staff: Staff[] };
        const rita = staff.staff.find((s) => s.username === u)!;
        assert.ok(rita.lockedUntil, 'the list shows the lock');
        assert.equal((await node.fetchAs('practice-admin', `/api/admin/staff/${rita.id}/unlock`, { method: 'POST', json: {} })).status, 200);
        assert.equal((await login(node, u, TEST_PASSWORD)).status, 200);
        const short = await node.fetchAs('practice-admin', `/api/admin/staff/${rita.id}/password`, { method: 'POST', json: { password: 'abc' } });
        assert.deepEqual(((await short.json()) as Outcome).issue[0]!.expression, ['password']);
        const reset = await node.fetchAs('practice-admin', `/api/admin/staff/${rita.id}/password`, { method: 'POST', json: { password: 'green lamp evening' } });
        assert.equal(reset.status, 200);
        assert.equal((await login(node, u, TEST_PASSWORD)).status, 401);
        assert.equal((await login(node, u, 'green lamp evening')).status, 200);
        assert.equal((await node.fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } })).status, 401, 'sessions with the old password ended');
        assert.equal((await node.audit.list({ event: 'account-unlocked' })).length, 1);
        assert.equal((await node.audit.list({ event: 'account-password-reset' })).length, 1);
        assert.equal((await node.fetchAs('practice-admin', '/api/admin/staff/no-such-id/unlock', { method: 'POST', json: {} })).status, 404);
      } finally {
        await node.close();
      }
    });

    test('audit trail search by user, event and London days; workstations come from sign-ins', async () => {
      const node = await startTestNode({ backend });
      try {
        await login(node, testUsernames.clinician, TEST_PASSWORD, 'CONSULT-2');
        await login(node, testUsernames.receptionist, TEST_PASSWORD, 'RECEPTION-1');
        await login(node, testUsernames.receptionist, 'wrong password here', 'RECEPTION-1');
        const q = async (query: string) => {
          const r = await node.fetchAs('practice-admin', `/api/audit?${query}`);
          assert.equal(r.status, 200, await r.clone().text());
          return ((await r.json()) as { entries: Array<{ event: string; userName: string; workstation: string }> }).entries;
        };
        const today = new Date().toISOString().slice(0, 10);
        const logins = await q(`event=login&user=${testUsernames.clinician}&from=${today}&to=${today}`);
        assert.deepEqual(logins.map((e) => [e.event, e.workstation]), [['login', 'CONSULT-2']]);
        assert.equal((await q('event=login&from=2001-01-01&to=2001-01-02')).length, 0);
        assert.equal((await q('event=login-failed')).length, 1);
        const bad = await node.fetchAs('practice-admin', '/api/audit?from=yesterday');
        assert.equal(bad.status, 400);
        assert.deepEqual(((await bad.json()) as Outcome).issue[0]!.expression, ['from']);
        const ws = (await (await node.fetchAs('practice-admin', '/api/admin/workstations')).json()) as { workstations: Array<{ workstation: string; signIns: number }> };
        const seen = ws.workstations.map((w) => [w.workstation, w.signIns]).filter(([w]) => !String(w).startsWith('test-'));
        assert.deepEqual(seen, [['CONSULT-2', 1], ['RECEPTION-1', 1]], 'a failed sign-in does not count as one');
        assert.equal((await node.fetchAs('receptionist', '/api/admin/workstations')).status, 403);
      } finally {
        await node.close();
      }
    });
  });
}
