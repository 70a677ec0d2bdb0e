import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError, UNAUTHENTICATED_EVENT } from './api.ts';
import { SessionContext, type Session, type User } from './session.ts';
import { SignIn } from './auth/SignIn.tsx';
import { LockScreen, isLockedFlag, setLockedFlag, useIdleLock } from './auth/IdleLock.tsx';
import { Header } from './layout/Header.tsx';
import { StatusBar } from './layout/StatusBar.tsx';
import { AlarmAlert } from './alarm/AlarmAlert.tsx';
import { connectAlarmStream } from './alarm/alarmStore.ts';
import { match, navigate, usePath } from './router.ts';
import { SearchPage } from './search/SearchPage.tsx';
import { PatientRecord } from './record/PatientRecord.tsx';
import { ConsultationPage } from './consultation/ConsultationPage.tsx';
import { AppointmentsPage } from './appointments/AppointmentsPage.tsx';
import { TasksPage } from './tasks/TasksPage.tsx';
import { RoomsPage } from './alarm/RoomsPage.tsx';
import { SharedRecordsPage } from './sharing/SharedRecordsPage.tsx';
import { RequestTestsPage } from './pathology/RequestTestsPage.tsx';
import { ResultsInboxPage } from './pathology/ResultsInboxPage.tsx';
import { ResultView } from './pathology/ResultView.tsx';
import { BreakGlassReport } from './breakglass/BreakGlassReport.tsx';
import { SharedRecord } from './sharing/SharedRecord.tsx';

interface WebAppConfig {
  idleLockMinutes: number;
}

function Screen({ path }: { path: string }) {
  let m: Record<string, string> | undefined;
  if ((m = match('/patient/:id/consultation', path))) return <ConsultationPage patientId={m.id!} />;
  if ((m = match('/patient/:id/pathology-request', path))) return <RequestTestsPage patientId={m.id!} />;
  if ((m = match('/results/:taskId', path))) return <ResultView taskId={m.taskId!} />;
  if (match('/results', path)) return <ResultsInboxPage />;
  if ((m = match('/patient/:id', path))) return <PatientRecord patientId={m.id!} />;
  if (match('/appointments', path)) return <AppointmentsPage />;
  if (match('/tasks', path)) return <TasksPage />;
  if (match('/admin/rooms', path)) return <RoomsPage />;
  if (match('/admin/emergency-access', path)) return <BreakGlassReport />;
  if ((m = match('/shared/:owner/:patientId', path))) return <SharedRecord owner={m.owner!} patientId={m.patientId!} />;
  if (match('/shared', path)) return <SharedRecordsPage />;
  if (match('/', path)) return <SearchPage />;
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <a href="/" onClick={(e) => (e.preventDefault(), navigate('/'))}>Find a patient</a>
      </p>
    </>
  );
}

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>();
  const [config, setConfig] = useState<WebAppConfig>({ idleLockMinutes: 10 });
  const [locked, setLocked] = useState(isLockedFlag());
  const path = usePath();

  useEffect(() => {
    api<{ user: User }>('/api/auth/me')
      .then((r) => setUser(r.user))
      .catch((err) => {
        setUser(null);
        if (!(err instanceof ApiError && err.status === 401)) setNotice(`The practice node did not answer: ${(err as Error).message}`);
      });
    const onGone = () => {
      setUser(null);
      setNotice('Your session has ended. Sign in again; any consultation draft is kept on this computer.');
    };
    window.addEventListener(UNAUTHENTICATED_EVENT, onGone);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, onGone);
  }, []);

  useEffect(() => {
    if (!user) return;
    api<WebAppConfig>('/api/webapp/config')
      .then(setConfig)
      .catch(() => undefined);
    return connectAlarmStream();
  }, [user?.id]);

  const lock = useCallback(() => {
    setLockedFlag(true);
    setLocked(true);
  }, []);
  useIdleLock(config.idleLockMinutes, locked || !user, lock);

  const signOut = useCallback(async () => {
    try {
      await api('/api/auth/logout', { method: 'POST', json: {} });
    } catch {
      // Signed out already; the page still goes back to sign-in.
    }
    setLockedFlag(false);
    setLocked(false);
    setUser(null);
    setNotice('You have signed out.');
    navigate('/', { replace: true });
  }, []);

  const session: Session | null = useMemo(() => (user ? { user, signOut } : null), [user, signOut]);

  if (user === undefined) return <p className="nhsuk-width-container">Loading…</p>;
  if (!user || !session) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(u) => {
          setLockedFlag(false);
          setLocked(false);
          setNotice(undefined);
          setUser(u);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <a className="nhsuk-skip-link" href="#maincontent">
        Skip to main content
      </a>
      <Header user={user} onSignOut={() => void signOut()} onLock={lock} locked={locked} />
      {locked ? (
        <LockScreen
          user={user}
          onUnlock={() => {
            setLockedFlag(false);
            setLocked(false);
          }}
          onSignOut={() => void signOut()}
        />
      ) : null}
      {/* Kept mounted while locked so unsaved work survives; hidden from sight and from assistive tech. */}
      <div hidden={locked} className="nhsuk-width-container">
        <main className="nhsuk-main-wrapper" id={locked ? undefined : 'maincontent'} role="main">
          <Screen path={path} />
        </main>
      </div>
      <AlarmAlert user={user} />
      <StatusBar />
    </SessionContext.Provider>
  );
}
