import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, UNAUTHENTICATED_EVENT } from './api.ts';
import { SessionContext, useSession, type Session, type User } from './session.ts';
import { SignIn } from './auth/SignIn.tsx';
import { LockScreen, isLockedFlag, setLockedFlag, useIdleLock } from './auth/IdleLock.tsx';
import { Header } from './layout/Header.tsx';
import { StatusBar } from './layout/StatusBar.tsx';
import { AlarmAlert } from './alarm/AlarmAlert.tsx';
import { connectAlarmStream } from './alarm/alarmStore.ts';
import { match, navigate, usePath } from './router.ts';
import { SearchPage } from './search/SearchPage.tsx';
import { PatientRecord } from './record/PatientRecord.tsx';
import { PatientDetailsForm } from './reception/PatientDetailsForm.tsx';
import { ConsultationPage } from './consultation/ConsultationPage.tsx';
import { RepeatRequestsPage } from './medicines/RepeatRequestsPage.tsx';
import { AppointmentsPage } from './appointments/AppointmentsPage.tsx';
import { TasksPage } from './tasks/TasksPage.tsx';
import { RoomsPage } from './alarm/RoomsPage.tsx';
import { AdminHome } from './admin/AdminHome.tsx';
import { StaffPage } from './admin/StaffPage.tsx';
import { AuditPage } from './admin/AuditPage.tsx';
import { SessionsPage } from './admin/SessionsPage.tsx';
import { SharedRecordsPage } from './sharing/SharedRecordsPage.tsx';
import { RequestTestsPage } from './pathology/RequestTestsPage.tsx';
import { ResultsInboxPage } from './pathology/ResultsInboxPage.tsx';
import { ResultView } from './pathology/ResultView.tsx';
import { BreakGlassReport } from './breakglass/BreakGlassReport.tsx';
import { SharedRecord } from './sharing/SharedRecord.tsx';
import { TwoFactorSetup } from './auth/TwoFactorSetup.tsx';
import { TwoFactorAdmin } from './auth/TwoFactorAdmin.tsx';
import { twoFactorStatus } from './auth/twoFactor.ts';
import { TriageInboxPage } from './online-consultations/TriageInboxPage.tsx';
import { TriageRequestPage } from './online-consultations/TriageRequestPage.tsx';
import { OutboxPage } from './messaging/OutboxPage.tsx';
import { RepliesPage } from './messaging/RepliesPage.tsx';
import { TemplatesPage } from './messaging/TemplatesPage.tsx';
import { BroadcastPage } from './messaging/BroadcastPage.tsx';
import { DocumentsPage } from './documents/DocumentsPage.tsx';
import { DocumentPage } from './documents/DocumentPage.tsx';
import { isHubRole } from '@steadfast/domain/region';
import { RegionApp } from './region/RegionApp.tsx';
import { IncidentBanner } from './incidents/IncidentBanner.tsx';
import { ReportPage } from './incidents/ReportPage.tsx';

interface WebAppConfig {
  idleLockMinutes: number;
}

function Screen({ path }: { path: string }) {
  let m: Record<string, string> | undefined;
  if ((m = match('/patient/:id/consultation', path))) return <ConsultationPage patientId={m.id!} />;
  if ((m = match('/patient/:id/pathology-request', path))) return <RequestTestsPage patientId={m.id!} />;
  if ((m = match('/patient/:id/details', path))) return <PatientDetailsForm patientId={m.id!} />;
  if (match('/reception/register', path)) return <PatientDetailsForm />;
  if ((m = match('/results/:taskId', path))) return <ResultView taskId={m.taskId!} />;
  if (match('/results', path)) return <ResultsInboxPage />;
  if (match('/medicines/repeat-requests', path)) return <RepeatRequestsPage />;
  if ((m = match('/patient/:id', path))) return <PatientRecord patientId={m.id!} />;
  if (match('/appointments', path)) return <AppointmentsPage />;
  if (match('/tasks', path)) return <TasksPage />;
  if ((m = match('/online-consultations/:id', path))) return <TriageRequestPage id={m.id!} />;
  if (match('/online-consultations', path)) return <TriageInboxPage />;
  if (match('/admin', path)) return <AdminHome />;
  if (match('/admin/staff', path)) return <StaffPage />;
  if (match('/admin/audit', path)) return <AuditPage />;
  if (match('/admin/sessions', path)) return <SessionsPage />;
  if (match('/outbox', path)) return <OutboxPage />;
  if (match('/replies', path)) return <RepliesPage />;
  if (match('/admin/templates', path)) return <TemplatesPage />;
  if (match('/admin/broadcast', path)) return <BroadcastPage />;
  if ((m = match('/documents/:id', path))) return <DocumentPage id={m.id!} />;
  if (match('/documents', path)) return <DocumentsPage />;
  if (match('/admin/rooms', path)) return <RoomsPage />;
  if (match('/admin/emergency-access', path)) return <BreakGlassReport />;
  if ((m = match('/shared/:owner/:patientId', path))) return <SharedRecord owner={m.owner!} patientId={m.patientId!} />;
  if (match('/shared', path)) return <SharedRecordsPage />;
  if (match('/account/two-factor', path)) return <TwoFactorPage />;
  if ((m = match('/incidents/:id/report', path))) return <ReportPage incidentId={m.id!} />;
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

function TwoFactorPage() {
  const { user } = useSession();
  return (
    <>
      <TwoFactorSetup forced={false} onDone={() => navigate('/')} />
      {user.role === 'practice-admin' ? <TwoFactorAdmin /> : null}
    </>
  );
}

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>();
  const [config, setConfig] = useState<WebAppConfig>({ idleLockMinutes: 10 });
  const [locked, setLocked] = useState(isLockedFlag());
  /** Two-factor sign-in must be set up before anything else (undefined while asking the node). */
  const [mustEnrol, setMustEnrol] = useState<boolean | undefined>(undefined);
  const path = usePath();
  const signedIn = useRef(false);
  useEffect(() => {
    signedIn.current = Boolean(user);
  }, [user]);

  useEffect(() => {
    api<{ user: User }>('/api/auth/me')
      .then((r) => setUser(r.user))
      .catch((err) => {
        setUser(null);
        if (!(err instanceof ApiError && err.status === 401)) setNotice(`The practice node did not answer: ${(err as Error).message}`);
      });
    // "Your session has ended" only for someone who was signed in: a first visit (or the sign-in page's
    // own check of /api/auth/me) is not a session that ended.
    const onGone = () => {
      if (signedIn.current) setNotice('Your session has ended. Sign in again; any consultation draft is kept on this computer.');
      setUser(null);
    };
    window.addEventListener(UNAUTHENTICATED_EVENT, onGone);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, onGone);
  }, []);

  useEffect(() => {
    setMustEnrol(undefined);
    if (!user) return;
    twoFactorStatus()
      .then((s) => setMustEnrol(s.mustEnrol))
      .catch(() => setMustEnrol(false));
  }, [user?.id]);

  useEffect(() => {
    if (!user || mustEnrol !== false) return;
    // Signed in to the hub with a hub role: no practice alarm stream there.
    if (isHubRole(user.role)) return;
    api<WebAppConfig>('/api/webapp/config')
      .then(setConfig)
      .catch(() => undefined);
    return connectAlarmStream();
  }, [user?.id, mustEnrol]);

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
  if (mustEnrol === undefined) return <p className="nhsuk-width-container">Loading…</p>;
  if (mustEnrol) {
    return (
      <main className="nhsuk-main-wrapper nhsuk-width-container" id="maincontent">
        <p>
          Signed in as <strong data-testid="enrol-user">{user.name}</strong>{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void signOut()}>
            Sign out
          </button>
        </p>
        <TwoFactorSetup forced onDone={() => setMustEnrol(false)} />
      </main>
    );
  }
  if (isHubRole(user.role)) {
    return (
      <SessionContext.Provider value={session}>
        <RegionApp user={user} path={path} onSignOut={() => void signOut()} />
      </SessionContext.Provider>
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
      {locked ? null : <IncidentBanner />}
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
